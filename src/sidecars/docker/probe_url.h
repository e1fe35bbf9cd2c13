// ProbeUrl: the URL an httpGet probe requests, and what an HTTP probe needs to follow a
// redirect the way the kubelet's Go client does (reference/kubelet-behaviour-and-docker-
// api.md §2.2): resolve a Location against the current URL (RFC 3986 §5.2, as Go's
// URL.ResolveReference), read a response header, and the response body for the warning.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace il::docker {

struct ProbeUrl {
  std::string scheme = "http";  // "http" or "https", lower case
  std::string host;             // without brackets: "10.0.0.5", "::1", "example.org"
  int port = 80;
  std::string target = "/";  // path and query, from "/"

  // "http://10.0.0.5:8080/healthz" (IPv6 hosts in brackets), as Go prints the probe URL.
  std::string String() const;
};

// The URL `location` (a Location header) points to from `base`. Fragments are dropped, dot
// segments removed, a missing port is the scheme's default. kInvalidArgument for an
// unparsable location; a scheme other than http/https gives the Go client's error text
// `unsupported protocol scheme "ftp"`.
Result<ProbeUrl> ResolveLocation(const ProbeUrl& base, std::string_view location);

// The value of the first header `name` (case-insensitive) of a raw HTTP response, trimmed;
// "" when absent.
std::string ResponseHeader(std::string_view response, std::string_view name);

// The body of a raw HTTP response (after the blank line; chunked encoding undone, cut at
// Content-Length), at most `max` bytes.
std::string ResponseBody(std::string_view response, size_t max);

}  // namespace il::docker
