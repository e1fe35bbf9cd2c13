// Applies kubelet log options (tail, since, timestamps, limitBytes) to timestamped
// lines. Shared by sidecars whose backends store plain log files (mock, slurm).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/types.h"

namespace il::api {

struct LogLine {
  std::chrono::system_clock::time_point time;
  std::string text;  // without the trailing newline
};

// Renders the selected lines, each ending in '\n', prefixed with an RFC 3339 nano
// timestamp and a space when opts.timestamps. `now` anchors SinceSeconds.
// Follow and Previous are the caller's business.
std::string RenderLogs(const std::vector<LogLine>& lines, const ContainerLogOpts& opts,
                       std::chrono::system_clock::time_point now);
// The earliest time a line must have to pass the since options (epoch when unset).
std::chrono::system_clock::time_point SinceCutoff(const ContainerLogOpts& opts,
                                                  std::chrono::system_clock::time_point now);
// Formats one line as RenderLogs does.
std::string FormatLogLine(const LogLine& line, bool timestamps);

}  // namespace il::api
