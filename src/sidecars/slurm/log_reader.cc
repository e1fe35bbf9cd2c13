#include "sidecars/slurm/log_reader.h"

#include <algorithm>

#include "sidecars/slurm/job_files.h"
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

bool LogTail::exists() const { return JobFileExists(dir_, name_); }

void LogTail::StartAtTail(size_t lines) {
  auto f = JobFile::Open(dir_, name_);
  if (!f.ok()) return;
  inode_ = f->inode();
  offset_ = f->TailOffset(lines, kMaxTail);
  if (offset_ == 0) return;
  // Landed inside a line (kMaxTail reached): start at the next whole one.
  auto before = f->ReadAt(offset_ - 1, 1);
  if (before.ok() && *before == "\n") return;
  auto rest = f->ReadAt(offset_, kChunk);
  if (!rest.ok()) return;
  auto nl = rest->find('\n');
  offset_ = nl == std::string::npos ? f->size() : offset_ + nl + 1;
}

std::vector<api::LogLine> LogTail::Read(bool all, size_t max_bytes) {
  more_ = false;
  auto f = JobFile::Open(dir_, name_);
  if (!f.ok()) return {};
  if (f->inode() != inode_ || f->size() < offset_) offset_ = 0;  // replaced or truncated
  inode_ = f->inode();
  if (f->size() == offset_) return {};
  uint64_t left = f->size() - offset_;
  size_t want = static_cast<size_t>(std::min<uint64_t>(left, max_bytes));
  auto data = f->ReadAt(offset_, want);
  if (!data.ok()) return {};
  std::string& buf = *data;
  more_ = buf.size() < left;
  size_t take = buf.size();
  if (!all || more_) {
    auto nl = buf.rfind('\n');
    // A line longer than a whole chunk is handed out in pieces rather than never.
    take = nl != std::string::npos ? nl + 1 : (buf.size() == max_bytes ? buf.size() : 0);
  }
  if (take == 0) return {};
  offset_ += take;
  auto lines = ParseStampedLog(std::string_view(buf).substr(0, take), last_);
  if (!lines.empty()) last_ = lines.back().time;
  return lines;
}

}  // namespace il::slurm
