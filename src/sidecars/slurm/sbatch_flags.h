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

// Options a pod's flag annotation can never set, whatever the admin allows: they choose whom
// the job is billed to and where it runs (account, partition, qos, reservation), whom it runs
// as (uid, gid), which files it writes and where it starts (output, error, input, chdir), the
// environment it inherits (export, export-file, get-user-env), what it runs (wrap, array,
// job-name, which the sidecar uses to find its jobs), and how sbatch behaves (wait, ...).
const std::vector<std::string>& LockedSbatchOptions();

// Checks the directives of a pod's flag annotation against the admin policy: `allow` (empty:
// every option not denied; otherwise full option names only), `deny` and the locked options.
// Long options are matched the way sbatch's getopt does, so an abbreviation ("--acc") counts
// as every option it could abbreviate; bundled short options ("-kA x") are each checked.
// kInvalidArgument naming the option and the setting that refuses it.
Status CheckPodFlags(const std::vector<SbatchFlag>& flags, const std::vector<std::string>& allow,
                     const std::vector<std::string>& deny);

// "#SBATCH --partition=debug" (no trailing newline).
std::string RenderSbatchLine(const SbatchFlag& flag);

}  // namespace il::slurm
