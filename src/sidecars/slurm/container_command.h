// The command line that runs one container of a Slurm pod inside the job, for each
// runtime (pure; golden-tested through the job script):
//
//   singularity/apptainer  env -- SINGULARITYENV_K=V|APPTAINERENV_K=V ... BIN exec|run
//                          <options> [--pwd DIR] [--bind SRC:DST[:ro]]... IMAGE [cmd] [args]
//                          ("exec" when the pod sets command, else "run" keeps the image's
//                          runscript and passes args to it)
//   podman                 BIN run --rm --name il-<uid>-<ctn> --network=host [--pull=P]
//                          [--env K=V]... [-v SRC:DST[:ro]]... [-w DIR]
//                          [--entrypoint JSON] <options> IMAGE [args]
//   ch-run                 env -- K=V ... BIN [-c DIR] [-b SRC:DST]... <options> IMAGE -- cmd args
//   none (host)            env [-C DIR] -- K=V ... cmd args
//
// Env values travel as single argv words, so quotes, newlines and `$` arrive exactly.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "sidecars/slurm/job_spec.h"

namespace il::slurm {

struct ContainerCommand {
  std::vector<std::string> env;   // NAME=VALUE words for `env --` (empty: no env(1))
  std::string chdir;              // `env -C DIR` (runtime none)
  std::vector<std::string> argv;  // program and arguments
};

ContainerCommand BuildContainerCommand(const JobSpec& job, const ContainerSpec& c);
// The command as shell words: "[env [-C DIR] -- K=V...] argv...", every word quoted;
// `resolve_ch_run` writes "$_il_ch_run" (found before the pod's PATH applies) for argv[0].
std::string RenderContainerCommand(const ContainerCommand& cc, bool resolve_ch_run);
// Host file bound at terminationMessagePath: podman always, singularity/apptainer when
// the path is outside /dev (--containall gives them a minimal /dev); ch-run cannot create
// mount points and `none` has no mount namespace. Empty when the runtime gets none.
std::string TerminationLogBind(const JobSpec& job, const ContainerSpec& c);
// Podman container name of a pod container: "il-<uid>-<container>", at most 128 characters.
std::string PodmanName(const std::string& uid, const std::string& container);

}  // namespace il::slurm
