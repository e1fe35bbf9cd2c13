#include "sidecars/slurm/job_script.h"

#include <cstdio>

#include "core/base64.h"
#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/probe_script.h"
#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

// Helpers every script carries. _il_run runs one container in a subshell (pipefail, so
// the container's exit code survives the two timestamping pipes; the container is
// exec'd so no shell stands between it and Slurm's SIGTERM; the shells around it catch
// TERM so they outlive it and the status file is still written when Slurm cancels or
// times out the job; the timestampers ignore TERM to keep the container's last words).
constexpr const char* kFunctions = R"SH(_il_now() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then _il_t=$EPOCHREALTIME; else printf -v _il_t '%(%s)T' -1; fi
}
_il_stamp() {
  trap '' TERM
  local line t
  while IFS= read -r line || [[ -n $line ]]; do
    t=${EPOCHREALTIME:-}
    [[ -n $t ]] || printf -v t '%(%s)T' -1
    printf '%s %s\n' "$t" "$line"
  done
  return 0
}
# _il_run KIND NAME CMD...: one container; always called in a subshell of its own,
# "( _il_run ... )" or "_il_run ... &", so pipefail, the trap and exit stay there.
_il_run() {
  set -o pipefail
  trap : TERM
  local base=$_il_dir/$1-$2 name=$2 rc
  shift 2
  while :; do
    _il_now
    : > "$base.termination-log" && chmod 0666 -- "$base.termination-log"
    printf '%s\n' "$_il_t" > "$base.started"
    { trap : TERM; { printf '%s\n' "$BASHPID" > "$base.pid"; exec "$@" 2>&3 3>&-; } |
      _il_stamp >> "$base.out"; } 3>&1 | _il_stamp >> "$base.err"
    rc=$?
    _il_message "$base" "$rc"
    _il_now
    printf '%s %s\n' "$rc" "$_il_t" > "$base.status.tmp" && mv -f -- "$base.status.tmp" "$base.status"
    # Only a container the job killed itself is started again (probe_script.h).
    [[ -n ${_il_restart:-} ]] && _il_again "$base" "$name" || break
  done
  exit "$rc"
}
# _il_message BASE RC: the termination message (terminationMessagePath's file, its last
# 4 KiB; with FallbackToLogsOnError, when it is empty and RC != 0, the last 80 log lines,
# at most 2 KiB).
_il_message() {
  if [[ -s $1.termination-log ]]; then
    tail -c 4096 -- "$1.termination-log" > "$1.message"
  elif (( $2 != 0 && ${_il_fallback:-0} )); then
    { tail -n 80 -- "$1.out"; tail -n 80 -- "$1.err"; } 2>/dev/null | LC_ALL=C sort -s -n -k1,1 |
      tail -n 80 | cut -d' ' -f2- | tail -c 2048 > "$1.message"
  fi
}
_il_end() {
  if [[ -n ${_il_ssh_pid:-} ]]; then kill -TERM "$_il_ssh_pid" 2>/dev/null; fi
  _il_now
  printf '%s %s\n' "$1" "$_il_t" > "$_il_dir/job.status"
  exit "$1"
}
_il_pids=()
_il_term() {
  if (( ${#_il_pids[@]} )); then kill -TERM "${_il_pids[@]}" 2>/dev/null; fi
}
# _il_wait_all NAME...: waits for the app containers; the job's exit code is the highest
# of theirs, read from their status files (wait's own status is unreliable after a trap).
_il_wait_all() {
  local p n c rc=0
  for p in "${_il_pids[@]}"; do
    while kill -0 "$p" 2>/dev/null; do wait "$p"; done
  done
  for n in "$@"; do
    c=137
    if [[ -r $_il_dir/run-$n.status ]]; then read -r c _ < "$_il_dir/run-$n.status"; fi
    if (( c > rc )); then rc=$c; fi
  done
  _il_end "$rc"
}
trap _il_term TERM
)SH";

std::string Octal(int mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode);
  return buf;
}

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }

void Section(std::string& out, const char* title) {
  out += "\n# --- ";
  out += title;
  out += " ---\n";
}

void Raw(std::string& out, const char* title, const std::string& text) {
  if (text.empty()) return;
  Section(out, title);
  out += text;
  if (text.back() != '\n') out.push_back('\n');  // a heredoc end marker needs its newline
}

void Files(std::string& out, const JobSpec& job) {
  if (!job.dirs.empty()) {
    Section(out, "volume directories");
    out += "mkdir -p --";
    for (const auto& d : job.dirs) out += " " + ShellQuote(d);
    out += "\n";
  }
  if (!job.embed_files || job.files.empty()) return;
  Section(out, "volume files (SharedFS false: written on the compute node)");
  for (const auto& f : job.files) {
    out += "mkdir -p -- " + ShellQuote(Parent(f.path)) + "\n";
    out += "base64 -d > " + ShellQuote(f.path) + " <<'_IL_EOF_'\n";
    out += Base64Encode(f.content, 76);
    out += "_IL_EOF_\n";
    out += "chmod " + Octal(f.mode) + " -- " + ShellQuote(f.path) + "\n";
  }
}

void Tsocks(std::string& out, const JobSpec& job) {
  if (!job.tsocks) return;
  Section(out, "tsocks: SOCKS proxy through the login node");
  out += "_il_used=$(ss -tln 2>/dev/null)\n";
  out += "for ((_il_port = 10000; _il_port < 65000; _il_port++)); do\n";
  out += "  [[ $_il_used == *\":$_il_port \"* ]] || break\n";
  out += "done\n";
  out += "ssh -4 -N -D \"$_il_port\" " + ShellQuote(job.tsocks_login_node) + " &\n";
  out += "_il_ssh_pid=$!\n";
  out +=
      "printf 'local = 10.0.0.0/255.0.0.0\\nserver = 127.0.0.1\\nserver_port = %s\\n' "
      "\"$_il_port\" > \"$_il_dir/tsocks.conf\"\n";
  out +=
      "export TSOCKS_CONF_FILE=\"$_il_dir/tsocks.conf\" LD_PRELOAD=" + ShellQuote(job.tsocks_path) +
      "\n";
}

std::string ContainerLine(const JobSpec& job, const ContainerSpec& c, bool resolve_ch_run) {
  ContainerCommand cc = BuildContainerCommand(job, c);
  std::string line = c.fallback_to_logs ? "_il_fallback=1 " : "";
  line += std::string("_il_run ") + ContainerKind(c.init) + " " + c.name;
  if (job.mpi && !c.init) {
    line += " mpiexec -np \"${SLURM_NTASKS:-1}\"";
    if (!job.mpi_flags.empty()) line += " " + ShellJoin(job.mpi_flags);
  }
  return line + " " + RenderContainerCommand(cc, resolve_ch_run);
}

}  // namespace

std::string RenderJobScript(const JobSpec& job) {
  std::string out = "#!" + job.bash_path + "\n";
  for (const auto& f : job.flags) out += RenderSbatchLine(f) + "\n";
  out += "#\n# interLink pod " + job.ns + "/" + job.name + " (uid " + job.uid + "), runtime " +
         std::string(RuntimeName(job.runtime)) + "; rendered by slurm-sd.\n";
  out += "_il_dir=" + ShellQuote(job.dir) + "\n";
  out += "mkdir -p -- \"$_il_dir\" && cd -- \"$_il_dir\" || exit 1\n";
  out += "export USER=\"${USER:-$(id -un)}\"\n";
  out += kFunctions;
  // ch-run sees the pod's environment (PATH included) through env(1): find it first.
  bool resolve_ch_run =
      job.runtime == Runtime::kCharliecloud && job.runtime_binary.find('/') == std::string::npos;
  if (resolve_ch_run) {
    out += "_il_ch_run=$(command -v -- " + ShellQuote(job.runtime_binary) +
           ") || _il_ch_run=" + ShellQuote(job.runtime_binary) + "\n";
  }
  Files(out, job);
  if (!job.exports.empty()) {
    Section(out, "pod environment");
    for (const auto& [k, v] : job.exports) out += "export " + k + "=" + ShellQuote(v) + "\n";
  }
  if (auto probes = RenderProbeFunctions(job); !probes.empty()) {
    Section(out, "probes and lifecycle hooks");
    out += probes;
  }
  Tsocks(out, job);
  Raw(out, "CommandPrefix / PreExec (configuration)", job.admin_prefix);
  Raw(out, "interlink.eu/wstunnel-client-commands", job.wstunnel);
  Raw(out, "slurm-job.vk.io/pre-exec", job.pod_pre_exec);
  bool any_init = false;
  for (const auto& c : job.containers) any_init = any_init || c.init;
  if (any_init) Section(out, "init containers, in order; the first failure ends the job");
  for (const auto& c : job.containers) {
    if (c.init) out += "(" + ContainerLine(job, c, resolve_ch_run) + ") || _il_end \"$?\"\n";
  }
  Section(out, "containers, concurrently");
  for (const auto& c : job.containers) {
    if (c.init) continue;
    out += RenderProbePrepare(c);
    out += ContainerLine(job, c, resolve_ch_run) + " &\n";
    out += "_il_pids+=(\"$!\")\n";
    out += RenderProbeWatch(c);
  }
  out += "_il_wait_all";
  for (const auto& c : job.containers) {
    if (!c.init) out += " " + c.name;
  }
  out += "\n";
  return out;
}

}  // namespace il::slurm
