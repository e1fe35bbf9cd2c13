// Container logs through the Engine API (GET /containers/{id}/logs, demultiplexed), with the
// kubelet's options.
//
// Without follow: timestamps on, [tail] [since]; stdout and stderr merged back into one
// stream in time order, then tail/since/timestamps/limitBytes applied (RenderLogs).
// With follow: the stream is copied to the sink line by line as it arrives, until the
// container stops, limitBytes is reached or the reader goes away.
//
// LogsRequest and MergeDockerLogs are pure; thread-safety: none needed.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/log_filter.h"
#include "sidecars/docker/docker_api.h"

namespace il::docker {

// The API query for the kubelet's options.
LogsOptions LogsRequest(const api::ContainerLogOpts& opts,
                        std::chrono::system_clock::time_point now);

// Lines of timestamped log output ("<RFC3339Nano> <text>").
std::vector<api::LogLine> ParseTimestampedLines(std::string_view text);
// stdout and stderr of a timestamped logs call, merged by time and rendered per opts.
std::string MergeDockerLogs(std::string_view out, std::string_view err,
                            const api::ContainerLogOpts& opts,
                            std::chrono::system_clock::time_point now);

// A followed logs stream: calls `out(stream, bytes)` (1 stdout, 2 stderr) until it ends,
// `out` returns false or `stop()` is true (DockerApi::Logs with follow).
using LogSource =
    std::function<Status(const StreamDemuxer::Sink& out, const std::function<bool()>& stop)>;

// Streams `source` to `sink`, honouring opts.limit_bytes. Returns when the stream ends or the
// reader is gone.
Status FollowLogs(const LogSource& source, const api::ContainerLogOpts& opts, api::LogSink& sink);

}  // namespace il::docker
