#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

bool IsPlain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '@' || c == '%' || c == '+' || c == ':' || c == ',' || c == '.' || c == '/' ||
         c == '-';
}

}  // namespace

std::string ShellQuote(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) plain = plain && IsPlain(c);
  // '=' is not plain: a leading NAME=value word would be an assignment, not an argument.
  if (plain) return std::string(s);
  std::string r;
  r.reserve(s.size() + 2);
  r.push_back('\'');
  for (char c : s) {
    if (c == '\'') {
      r += "'\\''";
    } else {
      r.push_back(c);
    }
  }
  r.push_back('\'');
  return r;
}

std::string ShellJoin(const std::vector<std::string>& argv) {
  std::string r;
  for (const auto& a : argv) {
    if (!r.empty()) r.push_back(' ');
    r += ShellQuote(a);
  }
  return r;
}

Result<std::vector<std::string>> ShellSplit(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < s.size()) {
    char c = s[i];
    if (is_space(c)) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      auto end = s.find('\'', i + 1);
      if (end == std::string_view::npos)
        return InvalidArgument("unterminated ' in: " + std::string(s));
      cur.append(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        // Inside double quotes a backslash escapes only these characters.
        if (d == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          cur.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        cur.push_back(d);
        ++i;
      }
      if (!closed) return InvalidArgument("unterminated \" in: " + std::string(s));
    } else if (c == '\\') {
      if (i + 1 >= s.size()) return InvalidArgument("trailing backslash in: " + std::string(s));
      if (s[i + 1] != '\n') cur.push_back(s[i + 1]);  // backslash-newline continues the line
      i += 2;
    } else {
      cur.push_back(c);
      ++i;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

bool IsShellIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace il::slurm
