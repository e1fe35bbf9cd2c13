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

// Incremental reader of one log file: hands out each line once.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  // Complete lines ('\n'-terminated) written since the last call; with `all`, also a
  // final unterminated line (use once the writer is gone).
  std::vector<api::LogLine> Read(bool all = false);
  bool exists() const;

 private:
  std::string path_;
  uint64_t offset_ = 0;
  TimePoint last_{};
};

}  // namespace il::slurm
