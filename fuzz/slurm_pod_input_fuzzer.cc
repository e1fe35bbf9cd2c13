// Fuzz target: what slurm-sd reads from the pod itself: the #SBATCH flag annotation
// (src/sidecars/slurm/sbatch_flags.h), shell-style splitting (shell.h), base64 payloads
// (base64.h) and resource quantities (resources.h).
//
// Properties: an accepted annotation renders to #SBATCH lines without line breaks (one
// directive per line, nothing injected), ShellJoin(ShellSplit(x)) splits back to the
// same words, and Base64Decode(Base64Encode(x)) == x.
#include <string>
#include <vector>

#include "core/base64.h"
#include "fuzz/fuzz_check.h"
#include "sidecars/slurm/resources.h"
#include "sidecars/slurm/sbatch_flags.h"
#include "sidecars/slurm/shell.h"

namespace slurm = il::slurm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = il::fuzz::AsText(data, size);

  if (auto flags = slurm::ParseFlagAnnotation(text); flags.ok()) {
    std::vector<slurm::SbatchFlag> base = {{{"--partition=default"}}, {{"--mem=100"}}};
    slurm::MergeFlags(base, *flags);
    for (const auto& f : base) {
      (void)slurm::OptionKey(f);
      FUZZ_CHECK(!slurm::HasLineBreak(slurm::RenderSbatchLine(f)));
    }
  }
  if (auto words = slurm::ShellSplit(text); words.ok()) {
    bool clean = true;
    for (const auto& w : *words) clean = clean && !slurm::HasNul(w);
    if (clean) {
      auto again = slurm::ShellSplit(slurm::ShellJoin(*words));
      FUZZ_CHECK(again.ok());
      FUZZ_CHECK(*again == *words);
    }
  }
  (void)il::Base64Decode(text);
  auto encoded = il::Base64Encode(text, 76);
  auto decoded = il::Base64Decode(encoded);
  FUZZ_CHECK(decoded.ok());
  FUZZ_CHECK(*decoded == text);
  (void)slurm::ParseCpuMillis(text);
  (void)slurm::ParseBytes(text);
  return 0;
}
