#include "sidecars/docker/probe_url.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace il::docker {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 3986 §5.2.4 on a path (no query).
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // path starts with '/'
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (seg != ".") {
      out.push_back(seg);
    }
    if (end == path.size() && (seg == "." || seg == "..")) out.push_back("");  // keep the slash
    start = end + 1;
  }
  std::string r;
  for (auto s : out) r += "/" + std::string(s);
  return r.empty() ? "/" : r;
}

// host[:port] (IPv6 in brackets) into `u`; userinfo dropped.
Status ParseAuthority(std::string_view a, ProbeUrl& u) {
  if (auto at = a.rfind('@'); at != std::string_view::npos) a.remove_prefix(at + 1);
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos) return InvalidArgument("missing ']' in host");
    u.host = std::string(a.substr(1, close - 1));
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return InvalidArgument("invalid host");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    auto colon = a.rfind(':');
    u.host = std::string(a.substr(0, colon));
    if (colon != std::string_view::npos) port = a.substr(colon + 1);
  }
  u.port = u.scheme == "https" ? 443 : 80;
  if (port.empty()) return Status::Ok();
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgument("invalid port \":" + std::string(port) + "\" after host");
  }
  u.port = std::stoi(std::string(port));
  if (u.port > 65535)
    return InvalidArgument("invalid port \":" + std::string(port) + "\" after host");
  return Status::Ok();
}

}  // namespace

std::string ProbeUrl::String() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port) + target;
}

Result<ProbeUrl> ResolveLocation(const ProbeUrl& base, std::string_view location) {
  std::string_view loc = Trim(location);
  if (auto hash = loc.find('#'); hash != std::string_view::npos) loc = loc.substr(0, hash);
  ProbeUrl u = base;
  // A scheme: letters, digits, + - . before the first ':' that precedes any '/', '?'.
  size_t colon = loc.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(loc[0])) &&
      loc.substr(0, colon).find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789+-.") == std::string_view::npos) {
    u.scheme = Lower(loc.substr(0, colon));
    if (u.scheme != "http" && u.scheme != "https") {
      return InvalidArgument("unsupported protocol scheme \"" + u.scheme + "\"");
    }
    loc.remove_prefix(colon + 1);
    if (loc.substr(0, 2) != "//") return InvalidArgument("no host in the location");
  }
  std::string_view rest = loc;
  if (loc.substr(0, 2) == "//") {
    rest = loc.substr(2);
    size_t end = std::min(rest.find_first_of("/?"), rest.size());
    IL_RETURN_IF_ERROR(ParseAuthority(rest.substr(0, end), u));
    if (u.host.empty()) return InvalidArgument("no host in the location");
    rest.remove_prefix(end);
    u.target = "/";
  }
  if (rest.empty()) return u;
  size_t q = std::min(rest.find('?'), rest.size());
  std::string_view path = rest.substr(0, q), query = rest.substr(q);
  std::string base_path = u.target.substr(0, u.target.find('?'));
  std::string merged;
  if (path.empty()) {
    merged = base_path;  // "?x": same path, new query
  } else if (path.front() == '/') {
    merged = std::string(path);
  } else {
    merged = base_path.substr(0, base_path.rfind('/') + 1) + std::string(path);
  }
  u.target = RemoveDotSegments(merged) + std::string(query);
  return u;
}

std::string ResponseHeader(std::string_view r, std::string_view name) {
  size_t end = r.find("\r\n\r\n");
  std::string_view head = r.substr(0, end);
  const std::string want = Lower(name);
  for (size_t pos = head.find("\r\n"); pos != std::string_view::npos;) {
    size_t start = pos + 2;
    size_t next = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, next == std::string_view::npos ? next : next - start);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && Lower(Trim(line.substr(0, colon))) == want) {
      return std::string(Trim(line.substr(colon + 1)));
    }
    pos = next;
  }
  return "";
}

std::string ResponseBody(std::string_view r, size_t max) {
  size_t end = r.find("\r\n\r\n");
  if (end == std::string_view::npos) return "";
  std::string_view body = r.substr(end + 4);
  if (Lower(ResponseHeader(r, "Transfer-Encoding")).find("chunked") != std::string::npos) {
    std::string out;
    while (out.size() < max) {
      size_t eol = body.find("\r\n");
      if (eol == std::string_view::npos) break;
      size_t n = 0, i = 0;
      for (; i < eol && std::isxdigit(static_cast<unsigned char>(body[i])) && n < (1u << 24); ++i) {
        n = n * 16 + static_cast<size_t>(std::stoi(std::string(1, body[i]), nullptr, 16));
      }
      if (i == 0 || n == 0) break;
      body.remove_prefix(eol + 2);
      out.append(body.substr(0, n));
      if (n + 2 > body.size()) break;
      body.remove_prefix(n + 2);
    }
    return out.substr(0, max);
  }
  std::string cl = ResponseHeader(r, "Content-Length");
  if (!cl.empty() && cl.size() < 10 && cl.find_first_not_of("0123456789") == std::string::npos) {
    body = body.substr(0, std::stoul(cl));
  }
  return std::string(body.substr(0, max));
}

}  // namespace il::docker
