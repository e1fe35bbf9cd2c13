// Container logs through `docker logs`, with the kubelet's options.
//
// Without follow: `docker logs --timestamps [--tail] [--since]`, stdout and stderr merged back
// into one stream in time order, then tail/since/timestamps/limitBytes applied (RenderLogs).
// With follow: `docker logs --follow ...` runs as a child whose output is copied to the sink
// line by line as it arrives, until the container stops, limitBytes is reached or the reader
// goes away.
//
// LogsArgs and MergeDockerLogs are pure; thread-safety: none needed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/log_filter.h"
#include "sidecars/docker/stream_runner.h"

namespace il::docker {

// Arguments after the docker binary.
std::vector<std::string> LogsArgs(const std::string& docker_name, const api::ContainerLogOpts& opts,
                                  std::chrono::system_clock::time_point now);

// Lines of `docker logs --timestamps` output ("<RFC3339Nano> <text>").
std::vector<api::LogLine> ParseTimestampedLines(std::string_view text);
// stdout and stderr of `docker logs --timestamps`, merged by time and rendered per opts.
std::string MergeDockerLogs(std::string_view out, std::string_view err,
                            const api::ContainerLogOpts& opts,
                            std::chrono::system_clock::time_point now);

// Streams `docker <args>` (LogsArgs with follow) to `sink`, honouring opts.limit_bytes.
// Returns when the program ends or the reader is gone.
Status FollowLogs(StreamRunner& runner, const std::vector<std::string>& argv,
                  const api::ContainerLogOpts& opts, api::LogSink& sink);

}  // namespace il::docker
