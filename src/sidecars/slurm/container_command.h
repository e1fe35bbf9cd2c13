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
// ExecCommand is the one command for running something beside a running container (exec
// probes, exec hooks, kubectl exec): `podman exec [-i] [-t] il-<uid>-<ctn> cmd` joins the
// container itself; singularity/apptainer/ch-run run no instance to join, so the command
// runs in a new process of the same image with the container's mounts, env and working
// directory; none runs it on the node with the container's env and working directory.
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
  // ExecCommand only: where "-i"/"-t" go in argv for an interactive exec (podman exec);
  // -1 when the runtime takes none (a TTY then comes from `srun --pty` alone).
  int flags_at = -1;
};

ContainerCommand BuildContainerCommand(const JobSpec& job, const ContainerSpec& c);
// The command as shell words: "[env [-C DIR] -- K=V...] argv...", every word quoted;
// `resolve_ch_run` writes "$_il_ch_run" (found before the pod's PATH applies) for argv[0].
std::string RenderContainerCommand(const ContainerCommand& cc, bool resolve_ch_run);
// `cmd` beside the running container `c` (see above); no -i/-t yet (flags_at says where).
ContainerCommand ExecCommand(const JobSpec& job, const ContainerSpec& c,
                             const std::vector<std::string>& cmd);
// The argv that runs `cc` without a shell: "env [-C DIR] -- K=V... argv..." or argv itself.
std::vector<std::string> ContainerArgv(const ContainerCommand& cc);
// Host file bound at terminationMessagePath: podman always, singularity/apptainer when
// the path is outside /dev (--containall gives them a minimal /dev); ch-run cannot create
// mount points and `none` has no mount namespace. Empty when the runtime gets none.
std::string TerminationLogBind(const JobSpec& job, const ContainerSpec& c);
// Podman container name of a pod container: "il-<uid>-<container>", at most 128 characters.
std::string PodmanName(const std::string& uid, const std::string& container);

}  // namespace il::slurm
