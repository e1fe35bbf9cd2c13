#include "sidecars/slurm/probe_script.h"

#include "sidecars/slurm/container_command.h"
#include "sidecars/slurm/shell.h"

namespace il::slurm {
namespace {

// The runtime half of probes and hooks. `_il_action "NAME WHAT"` (generated per pod
// below) runs one handler through _il_handle; everything pod-derived reaches it as
// quoted words. Handler results: 0 success, 1 failure, 2 error (could not run).
constexpr const char* kProbeFunctions = R"SH(_il_epoch() { printf -v _il_s '%(%s)T' -1; }
# _il_put FILE TEXT: replaces FILE at once, so slurm-sd never reads half of it.
_il_put() { printf '%s\n' "$2" > "$1.tmp" && mv -f -- "$1.tmp" "$1"; }
_il_alive() {
  local p
  [[ -e $_il_dir/run-$1.status ]] && return 1
  read -r p 2>/dev/null < "$_il_dir/run-$1.pid" && kill -0 "$p" 2>/dev/null
}
# _il_handle TIMEOUT KIND ARGS...: one probe or hook action (TIMEOUT 0: none). Prints
# what went wrong.
_il_handle() {
  local to=$1 kind=$2 out rc tmo=()
  shift 2
  if (( to > 0 )); then tmo=(timeout -k 1 "$to"); fi
  case $kind in
    exec)
      out=$("${tmo[@]}" "$@" 2>&1)
      rc=$?
      (( rc == 0 )) && return 0
      if (( rc == 124 && to > 0 )); then out="command timed out after ${to}s${out:+: $out}"; fi
      printf '%s' "${out:0:1024}"
      return 1 ;;
    http|hookhttp) _il_http "$to" "$kind" "$@" ;;
    tcp)
      "${tmo[@]}" "$BASH" -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null && return 0
      printf 'dial tcp %s:%s: connection refused or timed out' "$1" "$2"
      return 1 ;;
    grpc)
      local g=${_il_grpc_probe:-} rto=()
      if [[ -z $g || ! -x $g ]] && ! g=$(command -v grpc_health_probe); then
        printf 'gRPC probes need il-grpc-probe (GrpcProbePath) or grpc_health_probe on the compute node'
        return 2
      fi
      if (( to > 0 )); then rto=("-rpc-timeout=${to}s"); fi
      out=$("${tmo[@]}" "$g" "-addr=$1:$2" ${3:+"-service=$3"} "${rto[@]}" 2>&1) && return 0
      printf '%s' "${out:0:1024}"
      return 1 ;;
    sleep) sleep "$1"; return 0 ;;
    *) printf '%s' "$1"; return 2 ;;
  esac
}
# _il_http TIMEOUT http|hookhttp SCHEME HOST PORT PATH [HEADER]...: probes succeed on
# 200-399, hooks on any answer (kubelet 1.20). curl when the node has it, else a plain
# HTTP/1.0 GET over bash's /dev/tcp.
_il_http() {
  local to=$1 kind=$2 scheme=$3 host=$4 port=$5 path=$6 out code h=() x
  shift 6
  (( to > 0 )) || to=86400
  local url="$scheme://$host:$port$path"
  if command -v curl > /dev/null; then
    for x in "$@"; do h+=(-H "$x"); done
    out=$(curl -sS -k --noproxy '*' -o /dev/null -w '\n%{http_code}' --max-time "$to" \
      "${h[@]}" -- "$url" 2>&1)
    code=${out##*$'\n'}
    out=${out%$'\n'*}
  elif [[ $scheme == https ]]; then
    printf 'HTTPS probes need curl on the compute node'
    return 2
  else
    code=$(timeout -k 1 "$to" "$BASH" -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
      p=$3
      shift 3
      { printf "GET %s HTTP/1.0\r\n" "$p"; for x; do printf "%s\r\n" "$x"; done
        printf "\r\n"; } >&3
      read -r _ c _ <&3
      printf "%s" "$c"' _ "$host" "$port" "$path" "$@" 2>/dev/null)
    out="no answer from $url"
  fi
  if [[ $code =~ ^[1-5][0-9][0-9]$ ]]; then
    [[ $kind == hookhttp ]] && return 0
    (( code >= 200 && code < 400 )) && return 0
    printf 'HTTP probe failed with statuscode: %s' "$code"
    return 1
  fi
  printf 'Get "%s": %s' "$url" "${out:-no answer}"
  return 1
}
# _il_probe NAME TYPE DELAY PERIOD TIMEOUT SUCCESS FAILURE: the kubelet's prober worker.
_il_probe() {
  local n=$1 t=$2 delay=$3 period=$4 st=$6 ft=$7 f=$_il_dir/run-$1.probe.$2 gated=0
  local res=unknown ok=0 bad=0 total=0 when=0 msg='' out rc word su last='unknown 0' started
  case $t in startup) word=Startup ;; readiness) word=Readiness ;; *) word=Liveness ;; esac
  [[ $t != startup && -e $_il_dir/run-$n.probe.startup ]] && gated=1
  { read -r _ total when && IFS= read -r msg; } 2>/dev/null < "$f"
  last="unknown $total"
  read -r started < "$_il_dir/run-$n.started"
  started=${started%%[.,]*}
  _il_epoch
  if (( started + delay > _il_s )); then sleep $(( started + delay - _il_s )); fi
  while _il_alive "$n"; do
    if (( gated )); then
      read -r su _ < "$_il_dir/run-$n.probe.startup"
      if [[ $su != success ]]; then sleep "$period"; continue; fi
    fi
    out=$(_il_action "$n $t" "$5")
    rc=$?
    _il_alive "$n" || return 0
    _il_epoch
    if (( rc == 0 )); then
      bad=0
      if (( ++ok >= st )); then res=success; fi
    else
      ok=0
      (( ++total ))
      when=$_il_s
      if (( rc == 2 )); then msg="$word probe errored: $out"; else
        msg="$word probe failed: $out"
        if (( ++bad >= ft )); then res=failure; fi
      fi
    fi
    msg=${msg//[$'\n\r']/ }
    if [[ "$res $total" != "$last" ]]; then
      _il_put "$f" "$res $total $when"$'\n'"${msg:0:1024}"
      last="$res $total"
    fi
    if [[ $res == failure && $t != readiness ]]; then _il_kill "$n" "$t"; return 0; fi
    if [[ $res == success && $t == startup ]]; then return 0; fi
    sleep "$period"
  done
}
# _il_kill NAME WHY: stops a container as the kubelet does: preStop within the grace
# period, SIGTERM, SIGKILL when the rest of it (at least 2 s) has passed.
_il_kill() {
  local n=$1 p t0 left out
  _il_alive "$n" || return 0
  read -r p 2>/dev/null < "$_il_dir/run-$n.pid" || return 0
  _il_epoch
  t0=$_il_s
  if [[ $2 != delete ]]; then
    local k=0
    read -r _ _ k _ 2>/dev/null < "$_il_dir/run-$n.killed"
    _il_put "$_il_dir/run-$n.killed" "$2 $t0 $(( ${k:-0} + 1 )) $_il_restart"
    : > "$_il_dir/run-$n.kill"
  fi
  if (( _il_grace > 0 )) && _il_has "$n preStop"; then
    out=$(_il_action "$n preStop" "$_il_grace") ||
      _il_put "$_il_dir/run-$n.prestop" "failed $t0"$'\n'"${out//[$'\n\r']/ }"
  fi
  _il_epoch
  left=$(( _il_grace - (_il_s - t0) ))
  (( left < 2 )) && left=2
  # The whole process tree, as a runtime stops every process of a container (a shell's
  # children would otherwise outlive it and keep its log pipes open).
  local tree=()
  _il_tree "$p"
  kill -TERM "${tree[@]}" 2>/dev/null
  while kill -0 "$p" 2>/dev/null || _il_any "${tree[@]}"; do
    if (( left-- <= 0 )); then
      _il_has "$n hardkill" && _il_action "$n hardkill" 0 > /dev/null 2>&1
      kill -KILL "${tree[@]}" 2>/dev/null
      break
    fi
    sleep 1
  done
}
# _il_tree PID: PID and its descendants (into the caller's `tree`).
_il_tree() {
  local c
  tree+=("$1")
  command -v pgrep > /dev/null || return 0
  for c in $(pgrep -P "$1"); do _il_tree "$c"; done
}
_il_any() {
  local x
  for x; do kill -0 "$x" 2>/dev/null && return 0; done
  return 1
}
# _il_watch NAME POSTSTART [TYPE DELAY PERIOD TIMEOUT SUCCESS FAILURE]...: beside one
# container: waits for its process, runs postStart, then its probes.
_il_watch() {
  local n=$1 post=$2 out
  shift 2
  until [[ -e $_il_dir/run-$n.pid ]]; do
    [[ -e $_il_dir/run-$n.status ]] && return 0
    sleep 0.2
  done
  if _il_has "$n running"; then
    until _il_action "$n running" 0 > /dev/null 2>&1; do
      _il_alive "$n" || return 0
      sleep 0.5
    done
  fi
  if (( post )); then
    if out=$(_il_action "$n postStart" 0); then
      _il_put "$_il_dir/run-$n.poststart" ok
    else
      _il_epoch
      _il_put "$_il_dir/run-$n.poststart" "failed $_il_s"$'\n'"${out//[$'\n\r']/ }"
      _il_kill "$n" poststart
      return 0
    fi
  fi
  while (( $# >= 6 )); do
    _il_probe "$n" "$1" "$2" "$3" "$4" "$5" "$6" &
    shift 6
  done
  wait
}
# _il_fresh FILE: a probe result back to "unknown" for a new container instance; the
# failure count and message stay (the events' counts only grow).
_il_fresh() {
  local t=0 w=0 m=''
  { read -r _ t w && IFS= read -r m; } 2>/dev/null < "$1"
  _il_put "$1" "unknown ${t:-0} ${w:-0}"$'\n'"$m"
}
# _il_again BASE NAME (from _il_run): after the job killed the container (liveness or
# startup probe, postStart) and restartPolicy is not Never: keeps its last state, waits
# the kubelet's back-off (none before the first restart, then 10 s doubling to 300 s,
# back to the start after 10 minutes of running) and has it started again.
_il_again() {
  local b=$1 n=$2 r=0 delay s0
  [[ ${_il_restart:-0} == 1 && -e $b.kill && ! -e $_il_dir/stopping ]] || return 1
  rm -f -- "$b.kill" "$b.pid"
  read -r r 2>/dev/null < "$b.restarts"
  read -r s0 < "$b.started"
  mv -f -- "$b.started" "$b.last-started"
  mv -f -- "$b.status" "$b.last-status"
  if [[ -e $b.message ]]; then mv -f -- "$b.message" "$b.last-message"; else rm -f -- "$b.last-message"; fi
  _il_epoch
  (( _il_s - ${s0%%[.,]*} > 600 )) && _il_backoff=0
  delay=$(( _il_backoff ))
  _il_backoff=$(( _il_backoff ? _il_backoff * 2 : 10 ))
  (( _il_backoff > 300 )) && _il_backoff=300
  if (( delay > 0 )); then
    _il_put "$b.backoff" "$(( _il_s + delay )) $delay"
    # A signal cutting the wait short (scancel, time limit) means the job is ending.
    sleep "$delay" || : > "$_il_dir/stopping"
    rm -f -- "$b.backoff"
  fi
  if [[ -e $_il_dir/stopping ]]; then
    mv -f -- "$b.last-started" "$b.started"
    mv -f -- "$b.last-status" "$b.status"
    return 1
  fi
  _il_put "$b.restarts" "$(( ${r:-0} + 1 ))"
  _il_prep "$n"
  _il_spawn "$n"
}
)SH";

// Delete: slurm-sd signals the batch shell alone (scancel --batch --signal=USR1); the
// containers stop in parallel, each after its preStop hook.
constexpr const char* kStopFunction = R"SH(_il_stop() {
  local n ps=()
  : > "$_il_dir/stopping"
  for n in "${_il_apps[@]}"; do
    _il_kill "$n" delete &
    ps+=("$!")
  done
  wait "${ps[@]}"
}
trap _il_stop USR1
)SH";

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool HasHeader(const api::Handler& h, const std::string& name) {
  for (const auto& [k, v] : h.headers) {
    if (Lower(k) == Lower(name)) return true;
  }
  return false;
}

// "exec" words: ExecCommand (one implementation with kubectl exec) as shell words.
std::string ExecWords(const JobSpec& job, const ContainerSpec& c,
                      const std::vector<std::string>& cmd) {
  return RenderContainerCommand(
      ExecCommand(job, c, cmd),
      job.runtime == Runtime::kCharliecloud && job.runtime_binary.find('/') == std::string::npos);
}

// The _il_handle call of one handler; `timeout` is a shell word ("$2": the caller's).
std::string HandlerCall(const JobSpec& job, const ContainerSpec& c, const api::Handler& h,
                        bool hook) {
  std::string call = "_il_handle \"$2\" ";
  if (!h.port_error.empty()) return call + "error " + ShellQuote(h.port_error);
  const std::string host = h.host.empty() ? "127.0.0.1" : h.host;
  switch (h.kind) {
    case api::HandlerKind::kExec:
      if (h.command.empty()) return call + "error " + ShellQuote("exec handler without command");
      return call + "exec " + ExecWords(job, c, h.command);
    case api::HandlerKind::kHttpGet: {
      // kubelet 1.20: hooks always use plain http and ignore the headers.
      std::vector<std::string> words = {hook ? "http" : Lower(h.scheme), host,
                                        std::to_string(h.port), h.path};
      if (!hook) {
        if (!HasHeader(h, "User-Agent")) words.push_back("User-Agent: kube-probe/1.20");
        if (!HasHeader(h, "Accept")) words.push_back("Accept: */*");
        for (const auto& [k, v] : h.headers) {
          if (HasLineBreak(k) || HasLineBreak(v)) continue;
          std::string line = k;
          line += ": ";
          line += v;
          words.push_back(std::move(line));
        }
      }
      return call + (hook ? "hookhttp " : "http ") + ShellJoin(words);
    }
    case api::HandlerKind::kTcpSocket:
      if (hook) return call + "error " + ShellQuote("invalid handler: tcpSocket");
      return call + "tcp " + ShellJoin({host, std::to_string(h.port)});
    case api::HandlerKind::kGrpc:
      return call + "grpc " + ShellJoin({host, std::to_string(h.port), h.grpc_service});
    case api::HandlerKind::kSleep:
      return call + "sleep " + std::to_string(h.sleep_seconds);
  }
  return call + "error unknown";
}

void Case(std::string& out, const std::string& container, const char* what,
          const std::string& body) {
  out += "    " + ShellQuote(container + " " + what) + ") " + body + " ;;\n";
}

const std::optional<api::Probe>* ProbeOf(const api::ContainerProbes& p, int i) {
  return i == 0 ? &p.startup : i == 1 ? &p.readiness : &p.liveness;
}
const char* const kProbeWords[] = {"startup", "readiness", "liveness"};

std::string PrepareBody(const ContainerSpec& c, bool again) {
  std::string out;
  const std::string base = "\"$_il_dir\"/" + ShellQuote("run-" + c.name);
  if (c.lifecycle.post_start) out += "_il_put " + base + ".poststart pending; ";
  for (int i = 0; i < 3; ++i) {
    if (!*ProbeOf(c.probes, i)) continue;
    out += again ? "_il_fresh " + base + ".probe." + kProbeWords[i] + "; "
                 : "_il_put " + base + ".probe." + kProbeWords[i] + " 'unknown 0 0'; ";
  }
  return out;
}

std::string WatchCall(const ContainerSpec& c) {
  std::string out = "_il_watch " + ShellQuote(c.name) + (c.lifecycle.post_start ? " 1" : " 0");
  for (int i = 0; i < 3; ++i) {
    const auto& p = *ProbeOf(c.probes, i);
    if (!p) continue;
    out += std::string(" ") + kProbeWords[i];
    for (int64_t v : {p->initial_delay_seconds, p->period_seconds, p->timeout_seconds,
                      p->success_threshold, p->failure_threshold}) {
      out += " " + std::to_string(v);
    }
  }
  return out + " &";
}

}  // namespace

bool HasProbeWork(const ContainerSpec& c) {
  return !c.init && (!c.probes.empty() || !c.lifecycle.empty());
}

std::string RenderProbeFunctions(const JobSpec& job) {
  bool any = false;
  for (const auto& c : job.containers) any = any || HasProbeWork(c);
  if (!any) return "";
  std::string out = "_il_grace=" + std::to_string(job.grace_seconds) +
                    " _il_restart=" + (job.restart_policy == "Never" ? "0" : "1") +
                    " _il_backoff=0\n";
  if (!job.grpc_probe.empty()) out += "_il_grpc_probe=" + ShellQuote(job.grpc_probe) + "\n";
  out += kProbeFunctions;
  std::string actions;
  std::vector<std::string> has;
  for (const auto& c : job.containers) {
    if (!HasProbeWork(c)) continue;
    if (c.lifecycle.post_start)
      Case(actions, c.name, "postStart", HandlerCall(job, c, *c.lifecycle.post_start, true));
    if (c.lifecycle.pre_stop) {
      Case(actions, c.name, "preStop", HandlerCall(job, c, *c.lifecycle.pre_stop, true));
      has.push_back(c.name + " preStop");
    }
    for (int i = 0; i < 3; ++i) {
      if (const auto& p = *ProbeOf(c.probes, i))
        Case(actions, c.name, kProbeWords[i], HandlerCall(job, c, p->handler, false));
    }
    if (job.runtime == Runtime::kPodman) {
      const std::string name = ShellQuote(PodmanName(job.uid, c.name));
      const std::string bin = ShellQuote(job.runtime_binary);
      std::string running = "[[ $(" + bin;
      running += " container inspect --format '{{.State.Running}}' ";
      running += name;
      running += " 2>/dev/null) == true ]]";
      Case(actions, c.name, "running", running);
      std::string hardkill = bin;
      hardkill += " kill --signal KILL ";
      hardkill += name;
      Case(actions, c.name, "hardkill", hardkill);
      has.push_back(c.name + " running");
      has.push_back(c.name + " hardkill");
    }
  }
  out += "_il_action() {\n  case $1 in\n" + actions + "  esac\n}\n";
  // The state files of a restarted instance, and its watcher.
  out += "_il_prep() {\n  case $1 in\n";
  for (const auto& c : job.containers) {
    if (!HasProbeWork(c)) continue;
    std::string body = PrepareBody(c, true);
    out += "    " + ShellQuote(c.name) + ") " +
           (body.empty() ? ":" : body.substr(0, body.size() - 2)) + " ;;\n";
  }
  out += "  esac\n}\n_il_spawn() {\n  case $1 in\n";
  for (const auto& c : job.containers) {
    if (HasProbeWork(c)) out += "    " + ShellQuote(c.name) + ") " + WatchCall(c) + " ;;\n";
  }
  out += "  esac\n}\n";
  out += "_il_has() {\n  case $1 in\n";
  for (const auto& h : has) out += "    " + ShellQuote(h) + ") return 0 ;;\n";
  out += "  esac\n  return 1\n}\n";
  if (HasPreStop(job)) {
    out += "_il_apps=(";
    bool first = true;
    for (const auto& c : job.containers) {
      if (c.init) continue;
      out += (first ? "" : " ") + ShellQuote(c.name);
      first = false;
    }
    out += ")\n";
    out += kStopFunction;
  }
  return out;
}

std::string RenderProbePrepare(const ContainerSpec& c) {
  if (!HasProbeWork(c)) return "";
  std::string body = PrepareBody(c, false);
  return body.empty() ? "" : body.substr(0, body.size() - 2) + "\n";
}

std::string RenderProbeWatch(const ContainerSpec& c) {
  if (!HasProbeWork(c)) return "";
  return "_il_spawn " + ShellQuote(c.name) + "\n";
}

}  // namespace il::slurm
