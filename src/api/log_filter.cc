#include "api/log_filter.h"

#include "api/pod.h"

namespace il::api {

std::chrono::system_clock::time_point SinceCutoff(const ContainerLogOpts& opts,
                                                  std::chrono::system_clock::time_point now) {
  if (opts.since_seconds > 0) return now - std::chrono::seconds(opts.since_seconds);
  if (!opts.since_time.empty()) {
    if (auto t = ParseRfc3339(opts.since_time)) return *t;
  }
  return {};
}

std::string FormatLogLine(const LogLine& line, bool timestamps) {
  std::string s;
  if (timestamps) {
    s = Rfc3339Nano(line.time);
    s.push_back(' ');
  }
  s += line.text;
  s.push_back('\n');
  return s;
}

std::string RenderLogs(const std::vector<LogLine>& lines, const ContainerLogOpts& opts,
                       std::chrono::system_clock::time_point now) {
  auto cutoff = SinceCutoff(opts, now);
  std::vector<const LogLine*> selected;
  for (const auto& l : lines) {
    if (l.time >= cutoff) selected.push_back(&l);
  }
  size_t first = 0;
  if (opts.tail > 0 && selected.size() > static_cast<size_t>(opts.tail)) {
    first = selected.size() - static_cast<size_t>(opts.tail);
  }
  std::string out;
  for (size_t i = first; i < selected.size(); ++i)
    out += FormatLogLine(*selected[i], opts.timestamps);
  if (opts.limit_bytes > 0 && out.size() > static_cast<size_t>(opts.limit_bytes)) {
    out.resize(static_cast<size_t>(opts.limit_bytes));
  }
  return out;
}

}  // namespace il::api
