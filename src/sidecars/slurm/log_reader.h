// Reading container logs written by the job script: every line is "<epoch> <text>"
// (job_script.h), stdout and stderr in two files. Lines are merged by time, then the
// kubelet options are applied by api::RenderLogs.
//
// Thread-safety: ParseStampedLog / MergeLogLines are pure; a LogTail belongs to one
// reader.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/log_filter.h"
#include "sidecars/slurm/slurm_parsers.h"

namespace il::slurm {

// Splits complete lines; a line without a valid stamp keeps the previous line's time
// (or `fallback`) and its whole text.
std::vector<api::LogLine> ParseStampedLog(std::string_view text, TimePoint fallback);
// Stable merge of two time-ordered sequences (on equal times, `a` first).
std::vector<api::LogLine> MergeLogLines(std::vector<api::LogLine> a, std::vector<api::LogLine> b);

// Incremental reader of one log file of a job directory (job_files.h: no symlink, FIFO or
// device is ever read): hands out each line once, at most `max_bytes` per call.
class LogTail {
 public:
  static constexpr size_t kChunk = 1 << 20;        // bytes per Read
  static constexpr uint64_t kMaxTail = 16u << 20;  // how far back StartAtTail looks

  LogTail(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {}
  // Complete lines ('\n'-terminated) written since the last call, at most `max_bytes` of
  // them (a longer line is cut); with `all`, also a final unterminated line (use once the
  // writer is gone).
  std::vector<api::LogLine> Read(bool all = false, size_t max_bytes = kChunk);
  // Skips to the last `lines` lines (read backwards from the end, at most kMaxTail bytes).
  void StartAtTail(size_t lines);
  // True when the last Read stopped before the end of the file.
  bool more() const { return more_; }
  bool exists() const;

 private:
  std::string dir_, name_;
  uint64_t offset_ = 0;
  uint64_t inode_ = 0;
  bool more_ = false;
  TimePoint last_{};
};

}  // namespace il::slurm
