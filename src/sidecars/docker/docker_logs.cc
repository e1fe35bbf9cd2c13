#include "sidecars/docker/docker_logs.h"

#include <algorithm>
#include <cstdio>

#include "api/pod.h"

namespace il::docker {

LogsOptions LogsRequest(const api::ContainerLogOpts& opts,
                        std::chrono::system_clock::time_point now) {
  LogsOptions o;
  o.follow = opts.follow;
  // Without follow the streams are merged by time: they need the timestamps.
  o.timestamps = opts.timestamps || !opts.follow;
  if (opts.tail > 0) o.tail = std::to_string(opts.tail);
  auto cutoff = api::SinceCutoff(opts, now);
  if (cutoff.time_since_epoch().count() > 0) {
    auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(cutoff.time_since_epoch()).count();
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%lld.%09lld", static_cast<long long>(ns / 1000000000),
                  static_cast<long long>(ns % 1000000000));
    o.since = buf;
  }
  return o;
}

std::vector<api::LogLine> ParseTimestampedLines(std::string_view text) {
  std::vector<api::LogLine> lines;
  std::chrono::system_clock::time_point last{};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t sp = line.find(' ');
    std::optional<std::chrono::system_clock::time_point> t;
    if (sp != std::string_view::npos && sp >= 20) t = api::ParseRfc3339(line.substr(0, sp));
    if (t) {
      last = *t;
      lines.push_back({*t, std::string(line.substr(sp + 1))});
    } else {
      lines.push_back({last, std::string(line)});
    }
  }
  return lines;
}

std::string MergeDockerLogs(std::string_view out, std::string_view err,
                            const api::ContainerLogOpts& opts,
                            std::chrono::system_clock::time_point now) {
  auto lines = ParseTimestampedLines(out);
  auto err_lines = ParseTimestampedLines(err);
  std::vector<api::LogLine> merged;
  merged.reserve(lines.size() + err_lines.size());
  std::merge(lines.begin(), lines.end(), err_lines.begin(), err_lines.end(),
             std::back_inserter(merged),
             [](const api::LogLine& a, const api::LogLine& b) { return a.time < b.time; });
  return api::RenderLogs(merged, opts, now);
}

Status FollowLogs(const LogSource& source, const api::ContainerLogOpts& opts, api::LogSink& sink) {
  std::string partial[3];
  int64_t left = opts.limit_bytes > 0 ? opts.limit_bytes : -1;
  bool gone = false;
  // Whole lines only, so stdout and stderr never interleave inside a line.
  auto emit = [&](std::string_view data) {
    if (left == 0) return false;
    if (left > 0 && static_cast<int64_t>(data.size()) > left)
      data = data.substr(0, static_cast<size_t>(left));
    if (!sink.Write(data)) {
      gone = true;
      return false;
    }
    if (left > 0) left -= static_cast<int64_t>(data.size());
    return left != 0;
  };
  auto on_output = [&](int stream, std::string_view chunk) {
    std::string& buf = partial[stream == 2 ? 2 : 1];
    buf.append(chunk);
    size_t nl = buf.rfind('\n');
    if (nl == std::string::npos) return true;
    std::string whole = buf.substr(0, nl + 1);
    buf.erase(0, nl + 1);
    return emit(whole);
  };
  Status r = source(on_output, [&] { return gone || sink.Gone(); });
  if (!r.ok() && !gone) return r;
  if (!gone && left != 0) {
    for (int s : {1, 2}) {
      if (!partial[s].empty() && !emit(partial[s])) break;
    }
  }
  return Status::Ok();
}

}  // namespace il::docker
