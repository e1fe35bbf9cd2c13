#include "vk/status_scan.h"

#include <cctype>
#include <string>

namespace il::vk {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view t) : t_(t) {}

  void SkipSpace() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  // At an opening quote: returns the raw contents and moves past the closing quote.
  bool String(std::string_view* s, bool* escaped) {
    if (i_ >= t_.size() || t_[i_] != '"') return false;
    size_t start = ++i_;
    *escaped = false;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\') {
        *escaped = true;
        ++i_;
      }
      ++i_;
    }
    if (i_ >= t_.size()) return false;
    *s = t_.substr(start, i_ - start);
    ++i_;
    return true;
  }
  // At '{': scans the object, recording the top-level "UID".
  bool Object(ScannedEntry* e) {
    size_t start = i_;
    int depth = 0;
    bool expect_key = false;
    while (i_ < t_.size()) {
      char c = t_[i_];
      if (c == '"') {
        std::string_view s;
        bool esc = false;
        bool key = depth == 1 && expect_key;
        if (!String(&s, &esc)) return false;
        if (key && s == "UID") {
          if (!Eat(':')) return false;
          SkipSpace();
          std::string_view v;
          if (i_ < t_.size() && t_[i_] == '"') {
            if (!String(&v, &esc)) return false;
            e->uid = v;
            e->uid_escaped = esc;
          }
        }
        expect_key = false;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
        expect_key = c == '{';
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i_;
          e->text = t_.substr(start, i_ - start);
          return c == '}';
        }
      } else if (c == ',') {
        expect_key = true;  // harmless inside arrays: only depth-1 keys are looked at
      }
      ++i_;
    }
    return false;
  }
  size_t pos() const { return i_; }
  bool AtEnd() {
    SkipSpace();
    return i_ == t_.size();
  }
  bool Literal(std::string_view w) {
    SkipSpace();
    if (t_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  char Peek() {
    SkipSpace();
    return i_ < t_.size() ? t_[i_] : '\0';
  }

 private:
  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

Status ScanStatusList(std::string_view text, std::vector<ScannedEntry>* out) {
  out->clear();
  Scanner s(text);
  auto bad = [&](const char* what) {
    return InvalidArgument(std::string("status reply: ") + what + " at offset " +
                           std::to_string(s.pos()));
  };
  if (s.Literal("null")) return s.AtEnd() ? Status::Ok() : bad("trailing data");
  if (!s.Eat('[')) return bad("expected a list");
  if (s.Eat(']')) return s.AtEnd() ? Status::Ok() : bad("trailing data");
  while (true) {
    if (s.Peek() != '{') return bad("expected an object");
    ScannedEntry e;
    if (!s.Object(&e)) return bad("malformed object");
    out->push_back(e);
    if (s.Eat(',')) continue;
    if (s.Eat(']')) break;
    return bad("expected ',' or ']'");
  }
  return s.AtEnd() ? Status::Ok() : bad("trailing data");
}

}  // namespace il::vk
