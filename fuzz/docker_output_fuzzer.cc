// Fuzz target: docker-sd's parsers of Docker CLI output: `docker inspect` JSON
// (src/sidecars/docker/container_status.h) and `docker logs --timestamps` lines
// (docker_logs.h). Input: first line = stderr text for the log merge; whole input =
// inspect output and stdout.
//
// Properties: no crash; the merged log output of a validated set of options can always be
// produced.
#include <chrono>

#include "fuzz/fuzz_check.h"
#include "sidecars/docker/container_status.h"
#include "sidecars/docker/docker_logs.h"

namespace docker = il::docker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = il::fuzz::AsText(data, size);
  auto [first, rest] = il::fuzz::SplitFirstLine(text);

  if (auto observed = docker::ParseInspect(text); observed.ok()) {
    for (const auto& [name, o] : *observed) {
      (void)o.Active();
      (void)o.Finished();
      (void)o.Succeeded();
    }
  }
  (void)docker::ParseTimestampedLines(text);
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 50));
  il::api::ContainerLogOpts opts;
  (void)docker::MergeDockerLogs(rest, first, opts, now);
  opts.tail = 2;
  opts.timestamps = true;
  (void)docker::MergeDockerLogs(rest, first, opts, now);
  opts = {};
  opts.limit_bytes = 7;
  opts.since_seconds = 3600;
  (void)docker::MergeDockerLogs(rest, first, opts, now);
  return 0;
}
