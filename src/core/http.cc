#include "core/http.h"

#include <algorithm>
#include <cctype>

namespace il::http {
namespace {
std::string Lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}
}  // namespace

void Headers::Set(std::string_view name, std::string value) {
  std::string key = Lower(name);
  std::erase_if(items_, [&](const auto& kv) { return kv.first == key; });
  items_.emplace_back(std::move(key), std::move(value));
}

void Headers::Add(std::string_view name, std::string value) {
  items_.emplace_back(Lower(name), std::move(value));
}

std::string Headers::Get(std::string_view name) const {
  std::string key = Lower(name);
  for (const auto& [k, v] : items_) {
    if (k == key) return v;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  std::string key = Lower(name);
  return std::any_of(items_.begin(), items_.end(), [&](const auto& kv) { return kv.first == key; });
}

std::string Endpoint::ToString() const {
  switch (scheme) {
    case Scheme::kUnix:
      return "unix://" + unix_path;
    case Scheme::kHttps:
      return "https://" + host + ":" + port;
    case Scheme::kHttp:
      break;
  }
  return "http://" + host + ":" + port;
}

Result<Endpoint> ParseEndpoint(std::string_view url, std::string_view default_port) {
  Endpoint ep;
  std::string_view rest;
  auto starts = [&](std::string_view p) { return url.substr(0, p.size()) == p; };
  if (starts("unix://") || starts("http+unix://")) {
    ep.scheme = Endpoint::Scheme::kUnix;
    rest = url.substr(url.find("://") + 3);
    if (rest.empty() || rest.front() != '/') {
      return InvalidArgument("unix socket URL must hold an absolute path: '" + std::string(url) +
                             "'");
    }
    ep.unix_path = std::string(rest);
    return ep;
  }
  if (starts("http://")) {
    ep.scheme = Endpoint::Scheme::kHttp;
    rest = url.substr(7);
  } else if (starts("https://")) {
    ep.scheme = Endpoint::Scheme::kHttps;
    rest = url.substr(8);
  } else {
    return InvalidArgument("URL must start with http://, https:// or unix://: '" +
                           std::string(url) + "'");
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  if (rest.empty()) return InvalidArgument("URL has no host: '" + std::string(url) + "'");
  std::string_view host = rest, port;
  if (rest.front() == '[') {  // [::1]:3000
    auto close = rest.find(']');
    if (close == std::string_view::npos)
      return InvalidArgument("bad IPv6 host in '" + std::string(url) + "'");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (port.empty()) port = default_port;
  if (port.empty()) port = ep.scheme == Endpoint::Scheme::kHttps ? "443" : "80";
  if (!std::all_of(port.begin(), port.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
      port.size() > 5 || std::stoi(std::string(port)) > 65535) {
    return InvalidArgument("bad port '" + std::string(port) + "' in '" + std::string(url) + "'");
  }
  ep.host = std::string(host);
  ep.port = std::string(port);
  return ep;
}

Result<Endpoint> EndpointFromUrlAndPort(std::string_view url, std::string_view port) {
  return ParseEndpoint(url, port);
}

std::string UrlEncode(std::string_view s, std::string_view also_keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' ||
        also_keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void SplitTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query) {
  auto q = target.find('?');
  *path = UrlDecode(target.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    std::string key = UrlDecode(kv.substr(0, eq), true);
    std::string val = eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1), true);
    if (!key.empty()) (*query)[key] = val;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

}  // namespace il::http
