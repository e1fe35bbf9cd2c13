// Fuzz target: slurm-sd's parsers of Slurm CLI output (src/sidecars/slurm/slurm_parsers.h)
// and of the log files jobs write (log_reader.h). The text comes from other programs and
// from the job itself, so it is untrusted.
//
// Properties: no crash; merging two parsed logs keeps every line and stays time-ordered.
#include <chrono>

#include "fuzz/fuzz_check.h"
#include "sidecars/slurm/log_reader.h"
#include "sidecars/slurm/slurm_parsers.h"

namespace slurm = il::slurm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = il::fuzz::AsText(data, size);
  auto [first, rest] = il::fuzz::SplitFirstLine(text);

  (void)slurm::ParseSbatchJobId(text);
  for (const auto& j : slurm::ParseSqueue(text)) (void)slurm::JobStateName(j.state);
  (void)slurm::ParseIdNameLines(text);
  (void)slurm::IsInvalidJobIdError(text);
  for (const auto& j : slurm::ParseSacct(text)) (void)slurm::IsTerminal(j.state);
  (void)slurm::IsAccountingDisabled(text);
  (void)slurm::ParseScontrolJobs(text);
  (void)slurm::ParseSinfoNodes(text);
  (void)slurm::GpusInGres(first);
  (void)slurm::ParseSlurmTime(first);
  (void)slurm::ParseExitPair(first);
  (void)slurm::ParseWaitStatus(first);
  (void)slurm::ParseJobState(first);

  const slurm::TimePoint fallback(std::chrono::hours(24 * 365 * 50));
  auto a = slurm::ParseStampedLog(first, fallback);
  auto b = slurm::ParseStampedLog(rest, fallback);
  size_t total = a.size() + b.size();
  bool ordered =
      std::is_sorted(a.begin(), a.end(), [](auto& x, auto& y) { return x.time < y.time; }) &&
      std::is_sorted(b.begin(), b.end(), [](auto& x, auto& y) { return x.time < y.time; });
  auto merged = slurm::MergeLogLines(std::move(a), std::move(b));
  FUZZ_CHECK(merged.size() == total);
  if (ordered) {
    FUZZ_CHECK(std::is_sorted(merged.begin(), merged.end(),
                              [](auto& x, auto& y) { return x.time < y.time; }));
  }
  return 0;
}
