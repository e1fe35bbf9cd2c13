#!/usr/bin/env python3
"""Integration test of bin/slurm-sd against a real one-node Slurm (slurmctld + slurmd + munge).

Usage: test_slurm_sd.py PATH/TO/slurm-sd

Starts Slurm with scripts/slurm/up when it does not answer (exit 77 = skip when it cannot
start), runs slurm-sd on 127.0.0.1 with a private data root, and checks through its HTTP
API: a pod with 2 init + 2 app containers (podman), exit codes, a failing init container,
a job Slurm rejects, a cancelled job (scancel) and a deleted one, a TIMEOUT (1-minute limit),
logs (tail, timestamps, limitBytes, follow), volumes (ConfigMap/Secret/projected/emptyDir
with modes and multi-line content) on a shared filesystem and embedded in the script,
env values with quotes/newlines/$ under the none, podman and ch-run runtimes, ping, and a
kill -9 + restart of slurm-sd mid-run (no duplicate job), and pod names of 63 to 253
characters (issue 13), and the seed's Slurm keys as slurm-sd's own (issue 11): SbatchPath
from the file with a wrapper word in front, SCANCELPATH from the environment over the
file's ScancelPath; both must be what really ran. Leaves no job, container or
process behind. Takes about 100 s, most of it waiting for the TIMEOUT.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SLURM_ENV = os.environ.get("IL_SLURM_DIR", "/tmp/interlink-slurm") + "/env"
SKIP = 77


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- Slurm set-up

def slurm_env():
    env = {}
    with open(SLURM_ENV) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                env[k] = v
    return env


def slurm_answers():
    try:
        r = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        return " is UP" in r.stdout and os.path.exists(SLURM_ENV)
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_slurm():
    if slurm_answers():
        return slurm_env()
    log("Slurm does not answer: running scripts/slurm/up")
    for _ in range(2):  # the up script has rare start-up races; one retry
        r = subprocess.run([os.path.join(ROOT, "scripts/slurm/up")], capture_output=True, text=True)
        if r.returncode == 0 and slurm_answers():
            return slurm_env()
        log(r.stderr[-2000:])
    return None


# ---------------------------------------------------------------- slurm-sd process

from harness import free_port  # noqa: E402,F401  (one implementation)


class Sidecar:
    # The policy the functional checks need (runtimes none/podman/ch-run, image-root); the
    # isolation test (test_slurm_isolation.py) passes its own.
    POLICY = ("AllowedRuntimes: [none, podman, ch-run]\n"
              "HonouredAnnotations: [slurm-job.vk.io/flags, slurm-job.vk.io/container-runtime,"
              " slurm-job.vk.io/image-root, interlink.eu/pod-ip]\n")

    def __init__(self, binary, workdir, slurm, policy=None, data=None, state=None):
        self.binary, self.workdir, self.slurm = binary, workdir, slurm
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = data or os.path.join(workdir, "jobs")
        self.state = state or os.path.join(workdir, "state", "slurm-sd.db")
        self.cfg = os.path.join(workdir, "InterLinkConfig.yaml")
        with open(self.cfg, "w") as f:
            f.write(
                f"SidecarService: slurm\nDataRootFolder: {self.data}\nContainerRuntime: none\n"
                f"SbatchPath: {slurm['SBATCH']}\nScancelPath: {slurm['SCANCEL']}\n"
                f"SqueuePath: {slurm['SQUEUE']}\nSacctPath: {slurm['SACCT']}\n"
                f"SinfoPath: {slurm['SINFO']}\nScontrolPath: {slurm['SCONTROL']}\n"
                f"Partition: {slurm.get('IL_SLURM_PARTITION') or 'debug'}\n"
                f"PodmanPath: {slurm.get('PODMAN') or 'podman'}\n"
                "StatusCacheSeconds: 0.5\n"
                f"StateFile: {self.state}\n" + (self.POLICY if policy is None else policy))
        self.proc = None

    def start(self, extra_env=None):
        env = dict(os.environ)
        env.update({"INTERLINKCONFIGPATH": self.cfg, "SIDECARPORT": str(self.port),
                    "CONTAINERS_CONF": self.slurm.get("CONTAINERS_CONF", ""),
                    "USER": os.environ.get("USER", "root")})
        env.update(extra_env or {})
        self.log = open(os.path.join(self.workdir, "slurm-sd.log"), "a")
        self.proc = subprocess.Popen([self.binary, "--listen", self.url], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("slurm-sd exited: " + self.tail())
                time.sleep(0.1)
        raise RuntimeError("slurm-sd did not start: " + self.tail())

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self):
        try:
            with open(os.path.join(self.workdir, "slurm-sd.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    # --- API ---
    def call(self, path, body, timeout=60, raw=False):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                data = r.read()
                return r.status, (data.decode() if raw else json.loads(data or b"null"))
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def create(self, pod, containers_data=None):
        return self.call("/create", {"pod": pod, "container": containers_data or [
            {"name": c["name"]} for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]})

    def status(self, pods):
        code, body = self.call("/status", [{"metadata": p["metadata"]} for p in pods])
        assert code == 200, (code, body)
        return {s["UID"]: s for s in body}

    def logs(self, pod, container, **opts):
        code, body = self.call("/getLogs", {
            "Namespace": pod["metadata"]["namespace"], "PodUID": pod["metadata"]["uid"],
            "PodName": pod["metadata"]["name"], "ContainerName": container, "Opts": opts},
            timeout=120, raw=True)
        assert code == 200, (code, body)
        return body

    def delete(self, pod):
        return self.call("/delete", {"metadata": pod["metadata"], "spec": pod["spec"]}, raw=True)


# ---------------------------------------------------------------- pods

UIDS = []


def slurm_pod(name, containers, init=None, annotations=None, volumes=None, ns="slurm-it"):
    uid = str(uuid.uuid4())
    UIDS.append(uid)
    spec = {"containers": containers}
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    return {"metadata": {"name": name, "namespace": ns, "uid": uid,
                         "annotations": annotations or {}}, "spec": spec}


def sh(name, script, **extra):
    c = {"name": name, "image": "interlink-test/busybox:latest", "imagePullPolicy": "Never",
         "command": ["sh", "-c", script]}
    c.update(extra)
    return c


def state_of(cs):
    (k, v), = cs["state"].items()
    return k, v


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last: {last}")


def finished(sd, pod, timeout=90):
    uid = pod["metadata"]["uid"]

    def done():
        st = sd.status([pod]).get(uid)
        if st and st["containers"] and all(state_of(c)[0] == "terminated" for c in st["containers"]):
            return st
        return None
    return wait_for(f"pod {pod['metadata']['name']} to finish", done, timeout)


def by_name(statuses):
    return {c["name"]: state_of(c) for c in statuses}


# Env values that must arrive byte for byte.
NASTY_ENV = {
    "QUOTES": "it's \"double\" and 'single'",
    "NEWLINES": "line1\nline2\n\nline4",
    "DOLLARS": "$HOME ${PATH} $(id -u) `id -u` $$ \\$x",
    "SHELLISH": "a;b|c&d>e<f*g?h[i]~j!k#l",
    "UNICODE": "h\u00e9llo w\u00f6rld \u2713",
    "TRAILING": "ends with backslash \\",
}


def env_check_script():
    # Prints NAME=<base64 of the value> per variable, so newlines survive the log.
    return "; ".join(f'printf "{k}=%s\\n" "$(printf %s "${k}" | base64 | tr -d "\\n")"' for k in NASTY_ENV)


def check_env_logs(text, label):
    got = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            got[k] = base64.b64decode(v).decode() if v else ""
    for k, v in NASTY_ENV.items():
        assert got.get(k) == v, f"{label}: env {k}: want {v!r}, got {got.get(k)!r}"


# ---------------------------------------------------------------- checks

def check_ping(sd):
    code, body = sd.call("/status", [])
    assert code == 200, (code, body)
    assert int(body["resources"]["cpu"]) >= 1 and body["resources"]["memory"].endswith("Mi"), body
    log(f"ping: {body}")


def check_rejected(sd):
    pod = slurm_pod("rejected", [sh("a", "true")],
                    annotations={"slurm-job.vk.io/flags": "--gres=nosuchgres:1"})
    code, body = sd.create(pod)
    assert code in (400, 409, 412), (code, body)
    assert "gres" in body.lower(), body
    log(f"rejected job -> {code}: {body.strip()[:120]}")


def check_status_watch(sd):
    """The status watch with the `statuses` feature: every answer naming the pod carries its
    status from Slurm (the squeue pass and the job's files), the entry /status answers, up
    to the terminated state with the job's exit code."""
    def watch(since, timeout):
        url = f"{sd.url}/status/watch?since={since}&timeout={timeout}&statuses=true"
        with urllib.request.urlopen(url, timeout=timeout + 30) as r:
            return json.loads(r.read())
    cursor = watch("", 0)["cursor"]
    pod = slurm_pod("watched", [sh("w", "sleep 2; exit 3")])
    uid = pod["metadata"]["uid"]
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    seen, deadline = [], time.time() + 120
    while True:
        assert time.time() < deadline, f"no terminated status carried within 120 s: {seen}"
        w = watch(cursor, 30)
        cursor = w["cursor"]
        if uid not in w["uids"]:
            continue
        carried = {s["UID"]: s for s in w.get("statuses", [])}
        assert uid in carried, f"the answer names the pod without its status: {w}"
        cs = carried[uid]["containers"]
        seen.append(state_of(cs[0])[0] if cs else "-")
        if cs and state_of(cs[0])[0] == "terminated":
            break
    assert state_of(cs[0])[1]["exitCode"] == 3, cs
    now = sd.status([pod])[uid]["containers"][0]
    assert state_of(now)[0] == "terminated" and state_of(now)[1]["exitCode"] == 3, now
    log(f"status watch carried: {' -> '.join(seen)}")
    return pod


def check_multi_container(sd, env):
    """2 init containers in order, 2 app containers concurrently, exit codes (podman)."""
    vol = [{"name": "shared", "emptyDir": {}}]
    mount = [{"name": "shared", "mountPath": "/shared"}]
    pod = slurm_pod(
        "multi",
        init=[sh("init-a", "echo first > /shared/order; echo init-a done", volumeMounts=mount),
              sh("init-b", "echo second >> /shared/order; echo init-b stderr >&2", volumeMounts=mount)],
        containers=[sh("app-ok", "cat /shared/order; sleep 2; touch /shared/ok-done", volumeMounts=mount),
                    sh("app-fail", "sleep 1; test -e /shared/ok-done && echo sequential; echo failing >&2; exit 3",
                       volumeMounts=mount)],
        annotations={"slurm-job.vk.io/container-runtime": "podman"}, volumes=vol)
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    st = finished(sd, pod)
    init = by_name(st["initContainers"])
    app = by_name(st["containers"])
    assert init["init-a"] == ("terminated", init["init-a"][1]) and init["init-a"][1]["exitCode"] == 0, init
    assert init["init-b"][1]["exitCode"] == 0, init
    assert app["app-ok"][1]["exitCode"] == 0 and app["app-ok"][1]["reason"] == "Completed", app
    assert app["app-fail"][1]["exitCode"] == 3 and app["app-fail"][1]["reason"] == "Error", app
    # Concurrency: app-fail ran while app-ok slept, so it did not see ok-done.
    assert sd.logs(pod, "app-fail") == "failing\n", sd.logs(pod, "app-fail")
    assert sd.logs(pod, "app-ok") == "first\nsecond\n", sd.logs(pod, "app-ok")
    assert sd.logs(pod, "init-b") == "init-b stderr\n"
    # Per-container files.
    jobdir = os.path.join(sd.data, f"slurm-it-{pod['metadata']['uid']}")
    for f in ("init-init-a.status", "init-init-b.out", "run-app-ok.err", "run-app-fail.status", "job.status"):
        assert os.path.exists(os.path.join(jobdir, f)), f
    with open(os.path.join(jobdir, "run-app-fail.status")) as f:
        assert f.read().split()[0] == "3"
    log(f"multi-container pod: init {[(n, s[1]['exitCode']) for n, s in init.items()]}, "
        f"app {[(n, s[1]['exitCode']) for n, s in app.items()]}")
    return pod


def check_failing_init(sd):
    pod = slurm_pod("failinit", init=[sh("setup", "echo setting up; exit 5"), sh("never", "echo never")],
                    containers=[sh("app", "echo app")])
    assert sd.create(pod)[0] == 200
    st = finished(sd, pod)
    init = by_name(st["initContainers"])
    assert init["setup"][1]["exitCode"] == 5, init
    assert init["never"][0] == "terminated" and "did not start" in init["never"][1].get("message", ""), init
    app = by_name(st["containers"])["app"]
    assert app[1]["exitCode"] == 5 and "did not start" in app[1]["message"], app
    assert sd.logs(pod, "setup") == "setting up\n"
    log(f"failing init: setup exit 5, app {app[1]['reason']}: {app[1]['message']}")
    return pod


def check_logs(sd):
    script = "for i in 1 2 3 4 5; do echo line $i; echo err $i >&2; sleep 0.4; done"
    pod = slurm_pod("logs", [sh("talker", script)])
    assert sd.create(pod)[0] == 200
    wait_for("talker to start", lambda: state_of(sd.status([pod])[pod["metadata"]["uid"]]["containers"][0])[0]
             != "waiting", 60)
    t0 = time.time()
    followed = sd.logs(pod, "talker", Follow=True)
    took = time.time() - t0
    lines = followed.splitlines()
    assert [l for l in lines if l.startswith("line")] == [f"line {i}" for i in range(1, 6)], followed
    assert len(lines) == 10, followed
    assert took > 0.5, f"follow returned after {took:.2f}s: it did not stream"
    finished(sd, pod)
    tail = sd.logs(pod, "talker", Tail=2)
    assert sorted(tail.splitlines()) == ["err 5", "line 5"], tail
    stamped = sd.logs(pod, "talker", Timestamps=True, Tail=1)
    ts, text = stamped.rstrip("\n").split(" ", 1)
    assert ts.endswith("Z") and ts[4] == "-" and "T" in ts and text in ("err 5", "line 5"), stamped
    everything = sd.logs(pod, "talker")
    assert everything.count("\n") == 10
    # stdout and stderr lines written in the same instant may merge in either order.
    assert everything.startswith(("line 1\nerr 1\n", "err 1\nline 1\n")), everything
    assert sd.logs(pod, "talker", Bytes=9) == everything[:9]
    since = sd.logs(pod, "talker", SinceSeconds=3600)
    assert since == everything
    log(f"logs: follow streamed {len(lines)} lines over {took:.1f}s; tail/timestamps/limitBytes/since ok")
    return pod


def volume_pod(name, runtime_annotations):
    volumes = [
        {"name": "cfg", "configMap": {"name": "app-config", "defaultMode": 0o644,
                                     "items": [{"key": "app.conf", "path": "app.conf"},
                                               {"key": "script.sh", "path": "bin/script.sh", "mode": 0o755}]}},
        {"name": "creds", "secret": {"secretName": "db", "defaultMode": 0o400}},
        {"name": "kube-api-access-test", "projected": {"defaultMode": 0o644, "sources": []}},
        {"name": "scratch", "emptyDir": {}},
    ]
    mounts = [{"name": "cfg", "mountPath": "/etc/app"}, {"name": "creds", "mountPath": "/etc/creds"},
              {"name": "kube-api-access-test", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
              {"name": "scratch", "mountPath": "/scratch"}]
    script = ("cat /etc/app/app.conf; echo ---; cat /etc/creds/password; echo ---; "
              "cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt; echo ---; "
              "stat -c '%a %n' /etc/app/app.conf /etc/app/bin/script.sh /etc/creds/password; "
              "echo hello > /scratch/f && cat /scratch/f")
    writer = sh("main", script, volumeMounts=mounts)
    pod = slurm_pod(name, [writer], annotations=runtime_annotations, volumes=volumes)
    data = [{"name": "main",
             "configMaps": [{"metadata": {"name": "app-config"},
                             "data": {"app.conf": CONFIG_TEXT, "script.sh": "#!/bin/sh\necho hi\n"}}],
             "secrets": [{"metadata": {"name": "db"}, "data": {"password": base64.b64encode(SECRET).decode()}}],
             "projectedvolumemaps": [{"metadata": {"name": "kube-api-access-test"},
                                      "data": {"ca.crt": CA_TEXT, "token": "tok"}}]}]
    return pod, data


CONFIG_TEXT = "first line\n  indented 'quoted' \"double\"\n$NOT_EXPANDED `nor this`\n\nlast line without newline"
SECRET = b"s3cr\xc3\xa9t\nsecond line\n"
CA_TEXT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n"


def check_volumes(sd, label):
    pod, data = volume_pod("volumes-" + label.split()[0], {"slurm-job.vk.io/container-runtime": "podman"})
    code, body = sd.create(pod, data)
    assert code == 200, (code, body)
    st = finished(sd, pod)
    c = st["containers"][0]
    assert state_of(c)[1]["exitCode"] == 0, (c, sd.logs(pod, "main"))
    out = sd.logs(pod, "main")
    expected = (CONFIG_TEXT + "---\n" + SECRET.decode() + "---\n" + CA_TEXT + "---\n" +
                "644 /etc/app/app.conf\n755 /etc/app/bin/script.sh\n400 /etc/creds/password\nhello\n")
    assert out == expected, f"{label}: got {out!r}\nwant {expected!r}"
    log(f"volumes ({label}): ConfigMap/Secret/projected/emptyDir content and modes intact")
    return pod


def check_env(sd, env):
    pods = []
    runtimes = [("none", {}), ("podman", {})]
    if "ch-run" in env.get("IL_SLURM_CONTAINER_RUNTIMES", ""):
        image_dir = env["IL_CH_IMAGE_DIR"]
        runtimes.append(("ch-run", {"slurm-job.vk.io/image-root": os.path.dirname(image_dir) + "/"}))
    for runtime, ann in runtimes:
        ann = dict(ann, **{"slurm-job.vk.io/container-runtime": runtime})
        c = sh("printer", env_check_script(), env=[{"name": k, "value": v} for k, v in NASTY_ENV.items()])
        if runtime == "ch-run":
            c["image"] = os.path.basename(env["IL_CH_IMAGE_DIR"])
        pod = slurm_pod("env-" + runtime, [c], annotations=ann)
        code, body = sd.create(pod)
        assert code == 200, (code, body)
        pods.append((runtime, pod))
    for runtime, pod in pods:
        st = finished(sd, pod)
        out = sd.logs(pod, "printer")
        assert state_of(st["containers"][0])[1]["exitCode"] == 0, (runtime, st, out)
        check_env_logs(out, runtime)
    log(f"env quoting exact under {[r for r, _ in pods]}")
    return [p for _, p in pods]


# The cancelled container's shell. Slurm (proctrack/linuxproc) sends SIGTERM to each process
# of the job, children before their parents, one kill() at a time: on a loaded machine its
# `sleep` can die, and a plain "sleep 300 & wait" then end with exit 0, before the shell's own
# SIGTERM arrives (CI saw "Completed", exit 0). So the shell waits again until its trap runs,
# and says when the trap is set (the container is Running from its .started file, before it
# has run a line).
CANCEL_SCRIPT = ("trap 'echo got TERM; kill \"$c\" 2>/dev/null; exit 7' TERM; echo trap set; "
                 "while :; do sleep 300 & c=$!; wait; done")


def children_of(jobdir, container):
    with open(os.path.join(jobdir, f"run-{container}.pid")) as f:
        pid = f.read().strip()
    return subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()


def check_cancel(sd, env):
    pod = slurm_pod("cancelled", [sh("sleeper", CANCEL_SCRIPT)])
    code, body = sd.create(pod)
    assert code == 200
    jid = body["PodJID"]
    wait_for("sleeper running", lambda: state_of(sd.status([pod])[pod["metadata"]["uid"]]["containers"][0])[0]
             == "running", 60)
    wait_for("sleeper's trap", lambda: "trap set" in sd.logs(pod, "sleeper"), 30)
    # Slurm's worst case, made certain: the shell's child gets SIGTERM (and is gone) well before
    # the shell does. The shell should wait for a new child (a shell that ended instead has
    # written its status file: exit 0, "Completed", as in CI).
    jobdir = os.path.join(sd.data, f"slurm-it-{pod['metadata']['uid']}")
    first = wait_for("the sleeper's child", lambda: children_of(jobdir, "sleeper"), 30)
    for c in first:
        os.kill(int(c), signal.SIGTERM)
    wait_for("the sleeper's next child or its end",
             lambda: set(children_of(jobdir, "sleeper")) - set(first) or
             os.path.exists(os.path.join(jobdir, "run-sleeper.status")), 10)
    subprocess.run([env["SCANCEL"], jid], check=True)
    st = finished(sd, pod, 60)
    s = state_of(st["containers"][0])[1]
    assert s["exitCode"] == 7, s  # its own exit code, written by the TERM trap
    assert "got TERM" in sd.logs(pod, "sleeper")
    # Container killed without recording an exit code -> the job's reason.
    pod2 = slurm_pod("deleted", [sh("sleeper", "sleep 300")])
    code, body = sd.create(pod2)
    assert code == 200
    jid2 = body["PodJID"]
    wait_for("second sleeper running",
             lambda: state_of(sd.status([pod2])[pod2["metadata"]["uid"]]["containers"][0])[0] == "running", 60)
    code, text = sd.delete(pod2)
    assert code == 200, (code, text)
    jobdir = os.path.join(sd.data, f"slurm-it-{pod2['metadata']['uid']}")
    assert not os.path.exists(jobdir), jobdir
    state = wait_for("job cancelled", lambda: job_state(env, jid2) in ("CANCELLED", "") and job_state(env, jid2), 30)
    assert sd.status([pod2]) == {}, "deleted pod still reported"
    assert sd.delete(pod2)[0] == 404
    log(f"cancel: scancel'd job -> exit 7 from its TERM trap; deleted pod -> scancel, Slurm says {state}")
    return pod


def check_cancelled_reason(sd, env):
    pod = slurm_pod("cancel-reason", [sh("sleeper", "exec sleep 300")])
    code, body = sd.create(pod)
    assert code == 200
    wait_for("running", lambda: state_of(sd.status([pod])[pod["metadata"]["uid"]]["containers"][0])[0] == "running", 60)
    subprocess.run([env["SCANCEL"], body["PodJID"]], check=True)
    st = finished(sd, pod, 60)
    s = state_of(st["containers"][0])[1]
    assert s["exitCode"] == 143 and s["reason"] == "SlurmJobCancelled", s
    log(f"cancelled job: {s['reason']} exit {s['exitCode']}")
    return pod


def check_long_names(sd, env):
    """Issue 13: pod names of 63..253 characters (two 253s differing only at the end) run as
    Slurm jobs under podman with a 63-character namespace and container name; job names,
    job directories and podman names stay bounded (they derive from namespace and uid)."""
    ns = "l" * 63
    pods = []
    for label, name in long_pod_names("s"):
        pod = slurm_pod(name, [sh(MAX_LABEL, 'echo "$POD_NAME"', env=[{"name": "POD_NAME", "value": name}])],
                        annotations={"slurm-job.vk.io/container-runtime": "podman"}, ns=ns)
        code, body = sd.create(pod)
        assert code == 200, (label, code, body)
        pods.append((label, pod, body["PodJID"]))
    assert len({jid for _, _, jid in pods}) == len(pods), pods
    for label, pod, jid in pods:
        st = finished(sd, pod, 180)
        assert st["name"] == pod["metadata"]["name"] and st["JID"] == jid, (label, st)
        c = state_of(st["containers"][0])
        assert c[0] == "terminated" and c[1]["exitCode"] == 0, (label, c)
        assert sd.logs(pod, MAX_LABEL) == pod["metadata"]["name"] + "\n", label
        uid = pod["metadata"]["uid"]
        jobdir = os.path.join(sd.data, f"{ns}-{uid}")
        assert os.path.isdir(jobdir), jobdir
        names = subprocess.run([env["SQUEUE"], "-h", "-t", "all", "-j", jid, "-o", "%j"],
                               capture_output=True, text=True).stdout.split()
        assert names in ([], ["il-" + uid]), (label, names)  # [] once the job aged out
    statuses = sd.status([p for _, p, _ in pods])
    assert len(statuses) == len(pods), statuses
    for label, pod, _ in pods:
        code, body = sd.delete(pod)
        assert code == 200, (label, code, body)
    log(f"long names: {', '.join(label for label, _, _ in pods)} created, logged, deleted")
    return [p for _, p, _ in pods]


def job_state(env, jid):
    r = subprocess.run([env["SQUEUE"], "-h", "-t", "all", "-j", jid, "-o", "%T"], capture_output=True, text=True)
    return r.stdout.strip()


def start_timeout_pod(sd):
    pod = slurm_pod("timeout", [sh("sleeper", "echo sleeping; exec sleep 600")],
                    annotations={"slurm-job.vk.io/flags": "--time=1"})
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    return pod


def check_timeout(sd, pod):
    st = finished(sd, pod, 150)
    s = state_of(st["containers"][0])[1]
    assert s["reason"] == "SlurmJobTimeout", s
    assert s["exitCode"] == 143, s
    log(f"TIMEOUT: {s['reason']} exit {s['exitCode']} ({s.get('message', '')})")


def check_restart(sd, env):
    """kill -9 slurm-sd while a job runs; the restarted one finds the job and never submits twice."""
    pod = slurm_pod("restart", [sh("worker", "echo working; sleep 6; echo done")])
    code, body = sd.create(pod)
    assert code == 200
    jid = body["PodJID"]
    sd.kill9()
    sd.start(extra_env={"SHARED_FS": "false"})  # also switches volumes to embedded files
    code, again = sd.create(pod)
    assert code == 200 and again["PodJID"] == jid, (code, again, jid)
    st = sd.status([pod])[pod["metadata"]["uid"]]
    assert st["JID"] == jid
    st = finished(sd, pod)
    assert state_of(st["containers"][0])[1]["exitCode"] == 0
    names = subprocess.run([env["SQUEUE"], "-h", "-t", "all", "-n", "il-" + pod["metadata"]["uid"], "-o", "%i"],
                           capture_output=True, text=True).stdout.split()
    assert names == [jid], f"jobs for the pod: {names}"
    assert sd.logs(pod, "worker") == "working\ndone\n"
    log(f"restart: job {jid} recovered after kill -9, one job in Slurm")
    return pod


# ---------------------------------------------------------------- cleanup

def cleanup(sd, env, pods):
    for p in pods:
        try:
            sd.delete(p)
        except Exception:  # noqa: BLE001 - best effort
            pass
    # Nothing of ours may stay in Slurm (a cancel takes a moment to complete).
    def ours_alive():
        r = subprocess.run([env["SQUEUE"], "-h", "-o", "%i %j %T"], capture_output=True, text=True)
        alive = []
        for line in r.stdout.splitlines():
            jid, name, state = line.split()[:3]
            if name.startswith("il-") and name[3:] in UIDS and state not in ("COMPLETED", "FAILED", "CANCELLED",
                                                                              "TIMEOUT"):
                alive.append(jid)
        return alive
    deadline = time.time() + 30
    left = ours_alive()
    while left and time.time() < deadline:
        time.sleep(0.5)
        left = ours_alive()
    if left:
        subprocess.run([env["SCANCEL"]] + left)
    podman = env.get("PODMAN") or shutil.which("podman")
    if podman:
        penv = dict(os.environ, CONTAINERS_CONF=env.get("CONTAINERS_CONF", ""))
        ps = subprocess.run([podman, "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, env=penv)
        ours = [n for n in ps.stdout.split() if any(u in n for u in UIDS)]
        if ours:
            subprocess.run([podman, "rm", "-f"] + ours, capture_output=True, env=penv)
        return left, ours
    return left, []


def seed_key_wrapper(workdir):
    """A wrapper that logs the command it runs and then runs it: SbatchPath and SCANCELPATH
    point through it, so the log shows which keys slurm-sd really used."""
    calls = os.path.join(workdir, "seed-key-calls")
    wrap = os.path.join(workdir, "seed-key-wrap")
    with open(wrap, "w") as f:
        f.write(f'#!/bin/sh\necho "$1" >> {calls}\nexec "$@"\n')
    os.chmod(wrap, 0o755)
    return wrap, calls


def check_seed_keys(calls, env):
    with open(calls) as f:
        ran = set(f.read().split())
    for what, binary in (("SbatchPath (file, with a wrapper word)", env["SBATCH"]),
                         ("SCANCELPATH (environment over the file)", env["SCANCEL"])):
        assert binary in ran, f"{what}: {binary} never ran through the wrapper ({sorted(ran)})"
    log("seed keys: sbatch from SbatchPath and scancel from SCANCELPATH ran through the wrapper")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    env = ensure_slurm()
    if env is None:
        print("SKIP: Slurm cannot be started here (scripts/slurm/up failed)")
        return SKIP
    workdir = tempfile.mkdtemp(prefix="slurm-sd-it-")
    wrap, calls = seed_key_wrapper(workdir)
    sd = Sidecar(binary, workdir, dict(env, SBATCH=f"{wrap} {env['SBATCH']}"))
    pods = []
    ok = False
    t0 = time.time()
    try:
        sd.start(extra_env={"SCANCELPATH": f"{wrap} {env['SCANCEL']}"})
        check_ping(sd)
        timeout_pod = start_timeout_pod(sd)  # runs in the background the whole time
        pods.append(timeout_pod)
        check_rejected(sd)
        results = {}

        def run(name, fn, *args):
            try:
                results[name] = fn(*args)
            except Exception as e:  # noqa: BLE001 - reported below
                results[name] = e
                traceback.print_exc()
        threads = [threading.Thread(target=run, args=a) for a in [
            ("multi", check_multi_container, sd, env), ("failinit", check_failing_init, sd),
            ("logs", check_logs, sd), ("volumes", check_volumes, sd, "shared filesystem"),
            ("env", check_env, sd, env), ("cancel", check_cancel, sd, env),
            ("cancel-reason", check_cancelled_reason, sd, env),
            ("long-names", check_long_names, sd, env), ("watch", check_status_watch, sd)]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, r in results.items():
            if isinstance(r, Exception):
                raise AssertionError(f"{name} failed: {r}")
            pods.extend(r if isinstance(r, list) else [r])
        check_seed_keys(calls, env)  # check_cancel has run scancel
        pods.append(check_restart(sd, env))
        pods.append(check_volumes(sd, "embedded in the script"))
        check_timeout(sd, timeout_pod)
        ok = True
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("---- slurm-sd log ----\n" + sd.tail())
    finally:
        left, containers = [], []
        try:
            if sd.proc and sd.proc.poll() is None:
                left, containers = cleanup(sd, env, pods)
        finally:
            sd.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        if left or containers:
            print(f"FAIL: left behind jobs {left} containers {containers}")
            ok = False
    log(f"{'PASS' if ok else 'FAIL'} in {time.time() - t0:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
