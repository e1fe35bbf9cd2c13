#!/usr/bin/env bash
# Slurm sidecar benchmark (docs/slurm-sidecar.md, "Figures").
#
#   bench/slurm_bench.sh [SLURM_SD_BINARY]     (default: build/*/bin/slurm-sd, newest)
#
# Against the one-node Slurm of scripts/slurm/up (started when it does not answer):
#   1. submit throughput: N_SUBMIT held jobs with a raw `sbatch` loop, then N_SUBMIT pods
#      through slurm-sd's /create (sequentially, then with CONCURRENCY clients); jobs/s and
#      the slurm-sd/raw ratio;
#   2. status cost at N_STATUS jobs: slurm-sd's Slurm CLI calls (counted by wrappers around
#      squeue/sacct) and wall time per /status cycle for all pods, beside one bare squeue
#      call for the same job ids.
# Jobs are submitted with --hold so they never use the node; everything is cancelled at
# the end. Env: N_SUBMIT (200), N_STATUS (1000), CONCURRENCY (8), CYCLES (5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${1:-$(ls -t "$root"/build/*/bin/slurm-sd 2>/dev/null | head -1 || true)}
[ -x "$bin" ] || { echo "slurm_bench: no slurm-sd binary (build target slurm-sd or pass its path)" >&2; exit 2; }
state=${IL_SLURM_DIR:-/tmp/interlink-slurm}
if ! timeout 10 scontrol ping 2>/dev/null | grep -q ' is UP' || [ ! -f "$state/env" ]; then
  "$root/scripts/slurm/up" >&2
fi
# shellcheck disable=SC1091
. "$state/env"

work=$(mktemp -d /tmp/slurm-bench.XXXXXX)
sd_pid=""
cleanup() {
  [ -n "$sd_pid" ] && kill "$sd_pid" 2>/dev/null && wait "$sd_pid" 2>/dev/null || true
  # Cancel whatever of ours is left (held jobs of both halves).
  ids=$("$SQUEUE" -h -o '%i %j' | awk '$2 ~ /^il-(bench-|slurm-bench-)/ {print $1}')
  [ -z "$ids" ] || "$SCANCEL" $ids
  rm -rf "$work"
}
trap cleanup EXIT

# Counting wrappers: every call of slurm-sd to squeue/sacct leaves one line.
for t in squeue sacct; do
  real=$(command -v "$t")
  printf '#!/bin/sh\necho x >> %s/%s.calls\nexec %s "$@"\n' "$work" "$t" "$real" >"$work/$t"
  chmod +x "$work/$t"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/cfg.yaml" <<EOF
DataRootFolder: $work/jobs
StateFile: $work/state.db
ContainerRuntime: none
SbatchPath: $SBATCH
SqueuePath: $work/squeue
SacctPath: $work/sacct
ScancelPath: $SCANCEL
SinfoPath: $SINFO
StatusCacheSeconds: 0
LogLevel: warn
EOF
INTERLINKCONFIGPATH=$work/cfg.yaml "$bin" --listen "http://127.0.0.1:$port" >"$work/sd.log" 2>&1 &
sd_pid=$!

N_SUBMIT=${N_SUBMIT:-200} N_STATUS=${N_STATUS:-1000} CONCURRENCY=${CONCURRENCY:-8} CYCLES=${CYCLES:-5} \
  WORK=$work PORT=$port SBATCH_BIN=$SBATCH SQUEUE_BIN=$SQUEUE python3 - <<'PY'
import concurrent.futures as cf, json, os, subprocess, time, urllib.request, uuid

work, port = os.environ["WORK"], os.environ["PORT"]
n_submit, n_status = int(os.environ["N_SUBMIT"]), int(os.environ["N_STATUS"])
conc, cycles = int(os.environ["CONCURRENCY"]), int(os.environ["CYCLES"])
url = f"http://127.0.0.1:{port}"

def call(path, body, timeout=300):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")

for _ in range(100):
    try:
        urllib.request.urlopen(url + "/healthz", timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)

def calls(tool):
    try:
        with open(f"{work}/{tool}.calls") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0

pods = []
def pod(i):
    uid = f"slurm-bench-{uuid.uuid4()}"
    p = {"metadata": {"name": f"bench-{i}", "namespace": "bench", "uid": uid,
                      "annotations": {"slurm-job.vk.io/flags": "--hold"}},
         "spec": {"containers": [{"name": "c", "image": "none", "command": ["true"]}]}}
    pods.append(p)
    return p

def create(p):
    return call("/create", {"pod": p, "container": [{"name": "c"}]})

# 1. Raw sbatch loop: same kind of held job, same node, one process per job.
script = f"{work}/raw.sh"
with open(script, "w") as f:
    f.write("#!/bin/bash\n#SBATCH --output=/dev/null\ntrue\n")
t0 = time.time()
for i in range(n_submit):
    subprocess.run([os.environ["SBATCH_BIN"], "--parsable", "--hold", "-J", f"il-bench-raw-{i}", script],
                   check=True, capture_output=True)
raw = n_submit / (time.time() - t0)

t0 = time.time()
for i in range(n_submit):
    create(pod(i))
seq = n_submit / (time.time() - t0)

t0 = time.time()
with cf.ThreadPoolExecutor(conc) as ex:
    list(ex.map(create, [pod(n_submit + i) for i in range(n_submit)]))
par = n_submit / (time.time() - t0)

# 2. Status cost at n_status jobs.
rest = max(0, n_status - len(pods))
with cf.ThreadPoolExecutor(conc) as ex:
    list(ex.map(create, [pod(2 * n_submit + i) for i in range(rest)]))
asked = [{"metadata": p["metadata"]} for p in pods[:n_status]]
sq0, sa0 = calls("squeue"), calls("sacct")
times = []
for _ in range(cycles):
    t0 = time.time()
    st = call("/status", asked)
    times.append(time.time() - t0)
assert len(st) == len(asked), (len(st), len(asked))
sq = (calls("squeue") - sq0) / cycles
sa = (calls("sacct") - sa0) / cycles
jids = sorted({s["JID"] for s in st})
t0 = time.time()
subprocess.run([os.environ["SQUEUE_BIN"], "--noheader", "--states=all", "--jobs=" + ",".join(jids),
                "--Format=JobID:|,State:|,Reason:|,exit_code:|,StartTime:|,EndTime:|,Name:"],
               check=True, capture_output=True)
bare = time.time() - t0
states = {}
for s in st:
    r = s["containers"][0]["state"]
    k = next(iter(r))
    states[r[k].get("reason", k)] = states.get(r[k].get("reason", k), 0) + 1

print(f"submit, {n_submit} held jobs:")
print(f"  raw sbatch loop              {raw:7.1f} jobs/s")
print(f"  slurm-sd /create, 1 client   {seq:7.1f} jobs/s   ratio {seq / raw:.2f}")
print(f"  slurm-sd /create, {conc} clients  {par:7.1f} jobs/s   ratio {par / raw:.2f}")
print(f"status, {len(asked)} jobs ({states}), {cycles} cycles:")
print(f"  Slurm calls per cycle        squeue {sq:.1f}, sacct {sa:.1f}")
print(f"  /status time per cycle       {1000 * sum(times) / len(times):7.1f} ms (min {1000 * min(times):.1f})")
print(f"  one bare squeue, same ids    {1000 * bare:7.1f} ms")

# Clean up through the sidecar (scancel + directory removal), in parallel.
t0 = time.time()
with cf.ThreadPoolExecutor(conc) as ex:
    list(ex.map(lambda p: urllib.request.urlopen(urllib.request.Request(
        url + "/delete", data=json.dumps(p).encode(), method="POST"), timeout=120).read(), pods))
print(f"delete, {len(pods)} pods: {len(pods) / (time.time() - t0):.1f} pods/s")
PY
