#include "sidecars/slurm/log_reader.h"

#include <sys/stat.h>

#include <fstream>

#include "sidecars/slurm/pod_state.h"

namespace il::slurm {

std::vector<api::LogLine> ParseStampedLog(std::string_view text, TimePoint fallback) {
  std::vector<api::LogLine> out;
  TimePoint last = fallback;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    auto sp = line.find(' ');
    std::optional<TimePoint> t;
    if (sp != std::string_view::npos) t = ParseEpoch(line.substr(0, sp));
    if (t) {
      last = *t;
      out.push_back({*t, std::string(line.substr(sp + 1))});
    } else {
      out.push_back({last, std::string(line)});
    }
  }
  return out;
}

std::vector<api::LogLine> MergeLogLines(std::vector<api::LogLine> a, std::vector<api::LogLine> b) {
  if (b.empty()) return a;
  if (a.empty()) return b;
  std::vector<api::LogLine> out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j >= b.size() || (i < a.size() && a[i].time <= b[j].time)) {
      out.push_back(std::move(a[i++]));
    } else {
      out.push_back(std::move(b[j++]));
    }
  }
  return out;
}

bool LogTail::exists() const {
  struct stat st;
  return ::stat(path_.c_str(), &st) == 0;
}

std::vector<api::LogLine> LogTail::Read(bool all) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(in.tellg());
  if (size < offset_) offset_ = 0;  // truncated or replaced: start again
  if (size == offset_) return {};
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string buf(size - offset_, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  buf.resize(static_cast<size_t>(in.gcount()));
  size_t take = buf.size();
  if (!all) {
    auto nl = buf.rfind('\n');
    take = nl == std::string::npos ? 0 : nl + 1;
  }
  if (take == 0) return {};
  offset_ += take;
  auto lines = ParseStampedLog(std::string_view(buf).substr(0, take), last_);
  if (!lines.empty()) last_ = lines.back().time;
  return lines;
}

}  // namespace il::slurm
