// #SBATCH directives: parsing the flag annotations, and merging the layers that
// contribute directives (config defaults < pod resources < annotations) so that a later
// layer replaces an earlier directive for the same option, and mutually exclusive
// options (--mem vs --mem-per-cpu, --gres=gpu vs --gpus) do not both reach sbatch.
//
// A directive is a list of words: {"--partition=debug"} or {"-p", "debug"}. Rendering
// quotes each word for sbatch's own #SBATCH tokenizer (double quotes, backslash).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace il::slurm {

struct SbatchFlag {
  std::vector<std::string> words;
  bool operator==(const SbatchFlag& o) const { return words == o.words; }
};

// Parses an annotation such as `--time=10 -p gpu --job-name="my job"`: shell-style
// splitting, then words that do not start with '-' are values of the option before
// them (upstream slurm-plugin#116). Line breaks and NULs are rejected, as is a value
// with no option before it.
Result<std::vector<SbatchFlag>> ParseFlagAnnotation(std::string_view text);

// The option a directive sets, with short aliases resolved: "-p x" and
// "--partition=x" both give "partition".
std::string OptionKey(const SbatchFlag& flag);

// Appends `layer` to `base`: every directive of `layer` removes the directives of
// `base` with the same key or a conflicting one.
void MergeFlags(std::vector<SbatchFlag>& base, const std::vector<SbatchFlag>& layer);

// "#SBATCH --partition=debug" (no trailing newline).
std::string RenderSbatchLine(const SbatchFlag& flag);

}  // namespace il::slurm
