// il-grpc-probe: one gRPC health check from the command line, with grpc_health_probe's
// flags and exit codes, so slurm-sd's jobs run gRPC probes without that Go tool on the
// compute node (slurm-sd's GrpcProbePath). The same client as docker-sd's probes
// (grpc_health.h).
//
//   il-grpc-probe -addr=HOST:PORT [-service=NAME] [-connect-timeout=1s] [-rpc-timeout=1s]
//
// Exit codes (grpc_health_probe's): 0 SERVING, 1 bad arguments, 2 connection failed,
// 3 the RPC failed, 4 not SERVING. The reason goes to stderr.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "sidecars/docker/grpc_health.h"
#include "sidecars/docker/netns_dial.h"

namespace {

using std::chrono::milliseconds;

// "1s", "500ms", "2": grpc_health_probe's durations (a bare number is seconds).
bool ParseDuration(std::string_view s, milliseconds* out) {
  long scale = 1000;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    scale = 1;
    s.remove_suffix(2);
  } else if (!s.empty() && s.back() == 's') {
    s.remove_suffix(1);
  }
  if (s.empty() || s.size() > 9) return false;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = milliseconds(v * scale);
  return v > 0;
}

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "il-grpc-probe: %s\nusage: il-grpc-probe -addr=HOST:PORT [-service=NAME] "
               "[-connect-timeout=1s] [-rpc-timeout=1s]\n",
               why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr, service;
  milliseconds connect_timeout(1000), rpc_timeout(1000);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.rfind("--", 0) == 0) a.remove_prefix(1);
    auto value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (a.rfind(flag, 0) == 0 && a.size() > flag.size() && a[flag.size()] == '=')
        return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("-addr")) {
      addr = *v;
    } else if (auto v = value("-service")) {
      service = *v;
    } else if (auto v = value("-connect-timeout")) {
      if (!ParseDuration(*v, &connect_timeout)) return Usage("bad -connect-timeout");
    } else if (auto v = value("-rpc-timeout")) {
      if (!ParseDuration(*v, &rpc_timeout)) return Usage("bad -rpc-timeout");
    } else {
      return Usage("unknown argument '" + std::string(a) + "'");
    }
  }
  auto colon = addr.rfind(':');
  if (addr.empty() || colon == std::string::npos || colon + 1 == addr.size())
    return Usage("-addr=HOST:PORT is required");
  std::string host = addr.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  for (char c : addr.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return Usage("bad port in -addr");
    port = port * 10 + (c - '0');
  }
  if (port <= 0 || port > 65535) return Usage("bad port in -addr");

  auto fd = il::docker::DialTcp(0, host, port, connect_timeout);
  if (!fd.ok()) {
    std::fprintf(stderr, "error: health rpc probe failed: %s\n", fd.status().message().c_str());
    return 2;
  }
  auto deadline = std::chrono::steady_clock::now() + rpc_timeout;
  il::Status s = il::docker::GrpcHealthCheck(fd->get(), addr, service, deadline, rpc_timeout);
  if (s.ok()) return 0;
  std::fprintf(stderr, "%s\n", s.message().c_str());
  return s.message().rfind("service unhealthy", 0) == 0 ? 4 : 3;
}
