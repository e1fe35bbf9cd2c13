#!/usr/bin/env python3
"""Chaos test: pods through the whole stack (kube-apiserver -> vk -> interlink -> mock-sd)
while processes are killed with SIGKILL and the vk <-> interlink link stalls.

Usage: chaos.py BIN_DIR SOURCE_DIR [--pods N] [--seed S] [--faults F] [--waves W]
       chaos.py BIN_DIR SOURCE_DIR --size 500        # documented large runs: 500, 5000

Workload: N pods with a mix of outcomes (mock-sd annotations: run times, exit codes, several
containers, init containers that pass or fail, pods that run until deleted, pods the backend
rejects), created in waves while a fault thread, at seeded random moments, one at a time:
  - kill -9s the vk, interlink, mock-sd, kube-apiserver or etcd, then restarts it (our
    daemons through the harness, the control plane through scripts/k8s/up);
  - stalls the vk -> interlink TCP proxy: connections are accepted, bytes are held;
  - deletes some pods while the vk, interlink or mock-sd is down (a short grace period, so
    Kubernetes lets go of the pod before the backend could confirm the delete);
and measures the time until the system converged after each fault.

It asserts (exit 1 on any failure, 77 when the control plane cannot start):
  - every pod not deleted reaches its expected phase with the expected exit codes;
  - the backend ran exactly one job per pod (one job id per UID in the /create replies the
    recording proxy saw, and mock-sd issued exactly that many job ids);
  - every deleted pod is gone from Kubernetes and from mock-sd, and a /delete reached
    mock-sd for each one that had a job; interlink's cache holds no deleted pod;
  - after the final cleanup: no pod left in the namespace, none in mock-sd (its state
    file), none in interlink's cache.
The figures (pods, faults by kind, convergence time per fault, total time) are printed.
"""
import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))  # test_backends_e2e, for --backend docker|slurm
from harness.vk import SKIP, ControlPlane, Stack, wait_until  # noqa: E402
from vk_bench import Api  # noqa: E402

SIZES = {  # pods -> (waves, faults)
    100: (5, 7),
    500: (10, 14),
    5000: (20, 30),
}
FAULT_KINDS = ["vk", "interlink", "sidecar", "apiserver", "etcd", "stall", "vk+interlink"]
CONVERGE_TIMEOUT = 180.0
SLOW = 10.0  # a convergence slower than this prints what lagged and keeps the logs


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- the vk -> interlink link ----------------------------------------------------------------

class StallProxy:
    """TCP proxy in front of interlink. stall(seconds): connections are still accepted, but
    no byte moves in either direction until the stall ends (they are then delivered)."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.resume_at = 0.0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self, seconds):
        self.resume_at = time.time() + seconds

    def _hold(self):
        while time.time() < self.resume_at and not self.closed:
            time.sleep(0.05)

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        self._hold()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()  # interlink is down: the vk sees what it would see without us
            return
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._hold()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.closed = True
        self.sock.close()


# --- workload --------------------------------------------------------------------------------

class PodPlan:
    """One pod of the workload and what must become of it."""

    def __init__(self, name, kind, annotations, containers, init=None, phase=None, codes=None,
                 init_codes=None):
        self.name, self.kind = name, kind
        self.annotations, self.containers, self.init = annotations, containers, init
        self.phase = phase            # expected terminal phase (None: deleted by the test)
        self.codes = codes or {}      # app container -> exit code
        self.init_codes = init_codes or {}
        self.uid = None
        self.obj = None               # the pod as created (metadata and spec)
        self.created_at = None        # when the API server accepted it
        self.deleted = False          # the test deleted it
        self.deleted_during = None    # fault kind that was active when it was deleted


def make_plan(n, rng, backend="mock"):
    if backend != "mock":
        return make_command_plan(n, rng)
    kinds = (["ok"] * 35 + ["fail"] * 15 + ["multi"] * 10 + ["initok"] * 8 + ["initfail"] * 5 +
             ["forever"] * 22 + ["reject"] * 5)
    plans = []
    for i in range(n):
        kind = rng.choice(kinds)
        name = f"p{i:05d}-{kind}"
        secs = lambda lo, hi: f"{rng.uniform(lo, hi):.1f}"  # noqa: E731
        main = [{"name": "main", "image": "busybox"}]
        if kind == "ok":
            plans.append(PodPlan(name, kind, {"mock.interlink.io/run-seconds": secs(0.5, 8)}, main,
                                 phase="Succeeded", codes={"main": 0}))
        elif kind == "fail":
            code = rng.choice([1, 2, 3, 42, 127, 255])
            plans.append(PodPlan(name, kind, {"mock.interlink.io/run-seconds": secs(0.5, 8),
                                              "mock.interlink.io/exit-code": str(code)}, main,
                                 phase="Failed", codes={"main": code}))
        elif kind == "multi":
            code = rng.choice([0, 0, 5, 9])
            plans.append(PodPlan(name, kind, {"mock.interlink.io/run-seconds.a": secs(0.5, 3),
                                              "mock.interlink.io/run-seconds.b": secs(0.5, 6),
                                              "mock.interlink.io/exit-code.b": str(code)},
                                 [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}],
                                 phase="Succeeded" if code == 0 else "Failed", codes={"a": 0, "b": code}))
        elif kind in ("initok", "initfail"):
            code = 0 if kind == "initok" else rng.choice([1, 4])
            plans.append(PodPlan(name, kind, {"mock.interlink.io/init-run-seconds": secs(0.2, 2),
                                              "mock.interlink.io/exit-code.setup": str(code),
                                              "mock.interlink.io/run-seconds": secs(0.5, 4)}, main,
                                 init=[{"name": "setup", "image": "busybox"}],
                                 phase="Succeeded" if code == 0 else "Failed",
                                 codes={"main": 0} if code == 0 else {}, init_codes={"setup": code}))
        elif kind == "forever":
            plans.append(PodPlan(name, kind, {"mock.interlink.io/run-forever": "true"}, main))
        else:  # reject
            plans.append(PodPlan(name, kind, {"mock.interlink.io/create-error": "quota exceeded"}, main,
                                 phase="Failed"))
    return plans


def make_command_plan(n, rng):
    """The same mix for docker-sd and slurm-sd: real commands (sh -c "sleep; exit"), and no
    rejected pods (they have no create-error knob)."""
    kinds = ["ok"] * 35 + ["fail"] * 15 + ["multi"] * 10 + ["initok"] * 8 + ["initfail"] * 5 + ["forever"] * 22
    image = "interlink-test/busybox:latest"

    def c(name, secs, code=0):
        return {"name": name, "image": image, "imagePullPolicy": "Never",
                "command": ["sh", "-c", f"sleep {secs:.1f}; exit {code}"]}

    plans = []
    for i in range(n):
        kind = rng.choice(kinds)
        name = f"p{i:05d}-{kind}"
        if kind == "ok":
            plans.append(PodPlan(name, kind, {}, [c("main", rng.uniform(0.5, 4))], phase="Succeeded",
                                 codes={"main": 0}))
        elif kind == "fail":
            code = rng.choice([1, 2, 3, 42, 127])
            plans.append(PodPlan(name, kind, {}, [c("main", rng.uniform(0.5, 4), code)], phase="Failed",
                                 codes={"main": code}))
        elif kind == "multi":
            code = rng.choice([0, 0, 5, 9])
            plans.append(PodPlan(name, kind, {}, [c("a", rng.uniform(0.5, 2)), c("b", rng.uniform(0.5, 3), code)],
                                 phase="Succeeded" if code == 0 else "Failed", codes={"a": 0, "b": code}))
        elif kind in ("initok", "initfail"):
            code = 0 if kind == "initok" else rng.choice([1, 4])
            plans.append(PodPlan(name, kind, {}, [c("main", rng.uniform(0.5, 2))],
                                 init=[c("setup", rng.uniform(0.2, 1), code)],
                                 phase="Succeeded" if code == 0 else "Failed",
                                 codes={"main": 0} if code == 0 else {}, init_codes={"setup": code}))
        else:  # forever
            plans.append(PodPlan(name, kind, {}, [{"name": "main", "image": image, "imagePullPolicy": "Never",
                                                   "command": ["sleep", "3600"]}]))
    return plans


def terminal(pod):
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def exit_codes(pod, key):
    out = {}
    for cs in pod.get("status", {}).get(key) or []:
        t = cs.get("state", {}).get("terminated")
        out[cs["name"]] = t.get("exitCode") if t else None
    return out


def check_pod(plan, pod):
    """'' when the pod is as planned, else what is wrong."""
    st = pod.get("status", {})
    if st.get("phase") != plan.phase:
        states = {cs["name"]: cs.get("state") for cs in (st.get("initContainerStatuses") or []) +
                  (st.get("containerStatuses") or [])}
        return (f"phase {st.get('phase')!r}, want {plan.phase!r} (reason {st.get('reason')!r},"
                f" message {st.get('message')!r}, containers {json.dumps(states)})")
    if plan.kind == "reject":
        return "" if st.get("reason") == "ProviderFailed" else f"reason {st.get('reason')!r}, want ProviderFailed"
    got = {k: v for k, v in exit_codes(pod, "containerStatuses").items() if v is not None}
    if got != plan.codes:
        return f"exit codes {got}, want {plan.codes}"
    if plan.init_codes and exit_codes(pod, "initContainerStatuses") != plan.init_codes:
        return f"init exit codes {exit_codes(pod, 'initContainerStatuses')}, want {plan.init_codes}"
    return ""


# --- the run ---------------------------------------------------------------------------------

class Skip(Exception):
    pass


class Chaos:
    def __init__(self, cp, bin_dir, args):
        self.cp, self.args = cp, args
        self.rng = random.Random(args.seed)
        self.api = Api(cp.env)
        self.k8s_dir = cp.env["IL_K8S_DIR"]
        self.backend = args.backend
        self.sidecar_name = "mock-sd" if self.backend == "mock" else "sidecar"
        self.plans = make_plan(args.pods, self.rng, self.backend)
        self.by_name = {p.name: p for p in self.plans}
        self.lock = threading.Lock()
        self.failures = []
        self.faults = []          # dicts: kind, at, down, deletes, restart, converge
        self.active_fault = None
        self.creating_done = threading.Event()
        self.stall = None
        self.stack = None
        self.bin_dir = bin_dir

    # -- plumbing --
    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)
        log("FAIL: " + msg)

    def call(self, method, path, body=None, ok=(200, 201, 202), timeout=120):
        """An API call retried across API server / etcd outages."""
        deadline = time.time() + timeout
        while True:
            try:
                status, obj = self.api.call(method, path, body)
                if status in ok or time.time() > deadline:
                    return status, obj
            except (http.client.HTTPException, OSError):
                if time.time() > deadline:
                    raise
            time.sleep(0.5)

    def ns_path(self, rest=""):
        return f"/api/v1/namespaces/{self.stack.namespace}/pods{rest}"

    def list_pods(self):
        status, obj = self.call("GET", self.ns_path())
        if status != 200:
            raise AssertionError(f"listing pods: {status} {obj}")
        return {p["metadata"]["name"]: p for p in obj["items"]}

    def sidecar(self, method, path, body):
        c = http.client.HTTPConnection("127.0.0.1", self.stack.sidecar_port, timeout=60)
        try:
            c.request(method, path, body=json.dumps(body), headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def mock_statuses(self, plans):
        """The sidecar's own view (not interlink's cache): uid -> status for the pods it knows."""
        body = [p.obj for p in plans if p.uid]
        if not body:
            return {}
        status, out = self.sidecar("GET", "/status", body)
        if status != 200:
            raise AssertionError(f"{self.sidecar_name} /status: {status}")
        return {s.get("UID") or s.get("uid"): s for s in out or []}

    # -- what the real back-ends hold --
    def docker_containers(self):
        """[(uid, role, container name)] of every container of the test namespace."""
        r = subprocess.run([self.svc_env.get("DOCKER", "docker"), "ps", "-a", "--filter",
                            f"label=io.kubernetes.pod.namespace={self.stack.namespace}", "--format",
                            '{{.Label "io.kubernetes.pod.uid"}}|{{.Label "interlink.docker-sd.role"}}|'
                            '{{.Label "io.kubernetes.container.name"}}'],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("docker ps: " + r.stderr)
        return [tuple(ln.split("|")) for ln in r.stdout.splitlines() if ln.strip()]

    def slurm_jobs(self):
        """{uid: [(job id, state)]} of the jobs Slurm still lists for the test's pods."""
        r = subprocess.run([self.svc_env.get("SQUEUE", "squeue"), "--noheader", "--states=all",
                            "--format=%j %i %T"], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("squeue: " + r.stderr)
        uids = {p.uid for p in self.plans if p.uid}
        out = collections.defaultdict(list)
        for ln in r.stdout.splitlines():
            f = ln.split()
            if len(f) == 3 and f[0].startswith("il-") and f[0][3:] in uids:
                out[f[0][3:]].append((f[1], f[2]))
        return out

    def backend_leftovers(self, plans, final):
        """What the real back-end still holds for `plans` ('' when nothing): containers;
        queued or running Slurm jobs and job directories."""
        uids = {p.uid for p in plans if p.uid}
        if self.backend == "docker":
            left = [c for c in self.docker_containers() if c[0] in uids or (final and c[0])]
            return f"containers {left[:5]}" if left else ""
        if self.backend == "slurm":
            jobs = {u: j for u, j in self.slurm_jobs().items() if u in uids and
                    any(st in ("RUNNING", "PENDING", "CONFIGURING", "COMPLETING") for _, st in j)}
            root = os.path.join(self.stack.dir, "sd")
            dirs = [d for d in (os.listdir(root) if os.path.isdir(root) else [])
                    if any(d.endswith(u) for u in uids)]
            if jobs or dirs:
                return f"jobs {dict(list(jobs.items())[:5])}, job directories {dirs[:5]}"
        return ""

    def backend_evidence(self, p):
        """For a failure message: what the real back-end itself says about the pod."""
        try:
            if self.backend == "docker":
                r = subprocess.run([self.svc_env.get("DOCKER", "docker"), "ps", "-a", "--filter",
                                    f"label=io.kubernetes.pod.uid={p.uid}", "--format",
                                    "{{.Names}}: {{.Status}}"], capture_output=True, text=True, timeout=30)
                return f"; docker: {r.stdout.strip()!r} {r.stderr.strip()!r}"
            if self.backend == "slurm":
                return f"; slurm: {self.slurm_jobs().get(p.uid)}"
        except (OSError, subprocess.SubprocessError, AssertionError) as e:
            return f"; back-end not readable: {e!r}"
        return ""

    def backend_sets(self):
        """The real back-end ran one container set / job per pod ('' when so)."""
        if self.backend == "docker":
            seen = collections.Counter(self.docker_containers())
            self.backend_seen = f"{sum(seen.values())} containers"
            dup = [k for k, v in seen.items() if v > 1]
            if dup:
                return f"duplicate containers {dup[:5]}"
            by_uid = collections.defaultdict(list)
            for uid, role, name in seen:
                if role == "app":
                    by_uid[uid].append(name)
            for p in self.plans:
                if p.uid and not p.deleted and p.phase is not None and p.kind != "initfail":
                    want = sorted(c["name"] for c in p.containers)
                    if sorted(by_uid.get(p.uid, [])) != want:
                        return f"{p.name}: app containers {sorted(by_uid.get(p.uid, []))}, want {want}"
        if self.backend == "slurm":
            jobs_by_uid = self.slurm_jobs()
            self.backend_seen = f"{sum(map(len, jobs_by_uid.values()))} Slurm jobs of {len(jobs_by_uid)} pods"
            for uid, jobs in jobs_by_uid.items():
                if len(jobs) > 1:
                    return f"pod uid {uid}: {len(jobs)} Slurm jobs {jobs}"
        return ""

    def interlink_cache(self):
        """Every pod in interlink's cache (a /status with an empty list)."""
        with open(self.stack.token) as f:
            token = f.read().strip()
        c = http.client.HTTPConnection("127.0.0.1", self.stack.interlink_port, timeout=30)
        try:
            c.request("GET", "/status", body="[]", headers={"Content-Type": "application/json",
                                                            "Authorization": "Bearer " + token})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                raise AssertionError(f"interlink /status []: {r.status} {data[:200]!r}")
            out = json.loads(data or b"[]")
            return {s.get("UID") or s.get("uid") for s in out} if isinstance(out, list) else set()
        finally:
            c.close()

    def mock_db(self):
        """(pods stored, job ids issued) from mock-sd's state file."""
        db = sqlite3.connect(f"file:{self.stack.dir}/mock.sqlite?mode=ro", uri=True, timeout=10)
        try:
            pods = db.execute("SELECT count(*) FROM pods").fetchone()[0]
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        finally:
            db.close()
        return pods, meta

    # -- workload --
    def pod_object(self, plan):
        obj = self.stack.pod_spec(plan.name, plan.annotations, containers=plan.containers, init=plan.init)
        spec = obj["spec"]
        spec.pop("nodeSelector", None)
        spec["nodeName"] = self.stack.node  # no scheduler in the way (it is shared, 50 QPS)
        spec["terminationGracePeriodSeconds"] = 2
        return obj

    def create(self, plan):
        status, obj = self.call("POST", self.ns_path(), self.pod_object(plan), ok=(201, 409), timeout=300)
        if status == 409:  # the API server made it, then died before answering
            status, obj = self.call("GET", self.ns_path("/" + plan.name))
        if status not in (200, 201):
            self.fail(f"create {plan.name}: {status} {obj}")
            return
        plan.obj = {"metadata": obj["metadata"], "spec": obj["spec"]}
        plan.created_at = time.time()
        plan.uid = obj["metadata"]["uid"]  # last: a set uid means the plan is complete

    def creator(self, waves, gap):
        chunks = [self.plans[i::waves] for i in range(waves)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for i, chunk in enumerate(chunks):
                t0 = time.time()
                list(pool.map(self.create, chunk))
                log(f"wave {i + 1}/{waves}: {len(chunk)} pods created in {time.time() - t0:.1f}s"
                    f" (during fault: {self.active_fault or 'none'})")
                if i + 1 < waves:
                    time.sleep(gap)
        self.creating_done.set()

    def delete(self, plan, force=False):
        body = {"gracePeriodSeconds": 0} if force else None
        status, obj = self.call("DELETE", self.ns_path("/" + plan.name), body, ok=(200, 202, 404))
        if status not in (200, 202, 404):
            self.fail(f"delete {plan.name}: {status} {obj}")
        plan.deleted = True

    def delete_some(self, kind, n):
        """Deletes n pods that run forever (around the moment `kind` fails). One in three is
        force-deleted (grace 0: Kubernetes forgets it at once, only the vk remembers)."""
        with self.lock:
            pool = [p for p in self.plans if p.kind == "forever" and p.uid and not p.deleted]
            picked = self.rng.sample(pool, min(n, len(pool)))
            force = [kind == "vk+interlink" or self.rng.random() < 0.33 for _ in picked]
            for p in picked:
                p.deleted, p.deleted_during = True, kind
        for p, f in zip(picked, force):
            self.delete(p, force=f)
        return [p.name + (" (force)" if f else "") for p, f in zip(picked, force)]

    # -- faults --
    def component_pid(self, comp):
        with open(os.path.join(self.k8s_dir, "pids", comp + ".pid")) as f:
            return int(f.read().strip())

    def restart_control_plane(self):
        r = subprocess.run([os.path.join(self.cp.source_dir, "scripts/k8s/up")], capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError("scripts/k8s/up failed:\n" + r.stderr[-3000:])

    def inject(self, kind):
        s = self.stack
        # A stall longer than 10 s outlasts the vk's ping timeout (its /create timeout is 60 s).
        down = self.rng.uniform(4, 15) if kind == "stall" else self.rng.uniform(2, 8)
        t_fault = time.time()
        rec = {"kind": kind, "at": t_fault - self.t0, "deletes": []}
        self.active_fault = kind
        log(f"fault: {kind} (~{down:.1f}s)")
        if kind == "stall":
            self.stall.stall(down)
            t = time.time()
            rec["deletes"] = self.delete_some(kind, self.rng.randint(1, 2))
            time.sleep(max(0.0, down - (time.time() - t)))
        elif kind == "vk+interlink":
            # Both die; pods are force-deleted meanwhile. interlink comes back with an empty
            # cache, so only the vk's StateFile journal knows these pods still have jobs.
            s.daemons["vk"].stop(signal.SIGKILL)
            s.daemons["interlink"].stop(signal.SIGKILL)
            time.sleep(0.5)
            rec["deletes"] = self.delete_some(kind, self.rng.randint(1, 3))
            time.sleep(max(0.0, down - 0.5))
            t = time.time()
            s.start_interlink()
            s.start_vk()
            rec["restart"] = time.time() - t
        elif kind in ("apiserver", "etcd"):
            comp = "kube-apiserver" if kind == "apiserver" else "etcd"
            os.kill(self.component_pid(comp), signal.SIGKILL)
            time.sleep(min(down, 3))  # shared with other engineers' tests: keep it short
            t = time.time()
            self.restart_control_plane()
            rec["restart"] = time.time() - t
        else:
            daemon = s.daemons[self.sidecar_name if kind == "sidecar" else kind]
            n = self.rng.randint(1, 3)
            if self.rng.random() < 0.3:  # deletes in flight when it dies
                rec["deletes"] = self.delete_some(kind, n)
                time.sleep(self.rng.uniform(0, 0.3))
                daemon.stop(signal.SIGKILL)
            else:  # deletes issued while it is down
                daemon.stop(signal.SIGKILL)
                time.sleep(0.5)
                rec["deletes"] = self.delete_some(kind, n)
            time.sleep(max(0.0, down - 0.5))
            t = time.time()
            if kind == "vk":
                s.start_vk()
            elif kind == "interlink":
                s.start_interlink()
            else:
                daemon.start()
                wait_until("the sidecar to listen", lambda: s._port_open(s.sidecar_port), timeout=30)
            rec["restart"] = time.time() - t
        self.active_fault = None
        rec["down"] = time.time() - t_fault  # until restarted (control plane: healthy again)
        t = time.time()
        ok = self.wait_converged()
        rec["converge"] = time.time() - t if ok else None
        rec["lag"] = self.last_lag
        if not ok:
            self.fail(f"no convergence within {CONVERGE_TIMEOUT:.0f}s after the {kind} fault: {self.last_lag}")
        log(f"  converged after {rec['converge'] if ok else float('nan'):.1f}s"
            f"{' (deleted ' + ', '.join(rec['deletes']) + ')' if rec['deletes'] else ''}")
        self.faults.append(rec)

    def node_ready(self):
        status, node = self.call("GET", f"/api/v1/nodes/{self.stack.node}")
        if status != 200:
            return False
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))

    def lag(self, since):
        """What still differs from a converged system ('' when nothing). Pods created after
        `since` (by the concurrent waves) get 3 s to reach the backend."""
        if not self.node_ready():
            return "node not Ready"
        with self.lock:
            plans = [p for p in self.plans if p.uid]
        mock = self.mock_statuses(plans)
        pods = self.list_pods()
        now = time.time()
        for p in plans:
            pod = pods.get(p.name)
            if p.deleted:
                if pod is not None and pod["metadata"]["uid"] == p.uid:
                    return f"{p.name} deleted but still in Kubernetes"
                if p.uid in mock:
                    return f"{p.name} deleted but still in {self.sidecar_name}"
                continue
            if pod is None:
                return f"{p.name} vanished from Kubernetes"
            young = p.created_at > since and now - p.created_at < 3
            if p.kind == "reject" or young:
                if p.kind == "reject" and not young and not terminal(pod):
                    return f"{p.name} not yet ProviderFailed"
                continue
            m = mock.get(p.uid)
            if m is None:
                return f"{p.name} not in {self.sidecar_name}"
            states = [c.get("state", {}) for c in (m.get("containers") or []) + (m.get("initContainers") or [])]
            init_failed = any((c.get("state", {}).get("terminated") or {}).get("exitCode", 0) != 0
                              for c in m.get("initContainers") or [])
            if (init_failed or all("terminated" in st for st in states)) and not terminal(pod):
                return f"{p.name} finished in {self.sidecar_name}, {pod['status'].get('phase')} in Kubernetes"
        return ""

    def wait_converged(self):
        """True once lag() is empty; self.last_lag: what was still lagging just before (or
        at the timeout)."""
        since = time.time()
        deadline = since + CONVERGE_TIMEOUT
        self.last_lag = ""
        while time.time() < deadline:
            try:
                lag = self.lag(since)
                if not lag:
                    return True
                self.last_lag = lag
            except (AssertionError, OSError, http.client.HTTPException, ValueError) as e:
                self.last_lag = repr(e)
            time.sleep(max(0.3, len(self.plans) / 5000))  # a poll lists every pod
        return False

    def injector(self, count):
        kinds = list(FAULT_KINDS)
        self.rng.shuffle(kinds)
        while len(kinds) < count:
            kinds.append(self.rng.choice(FAULT_KINDS))
        for kind in kinds[:count]:
            time.sleep(self.rng.uniform(1, 6))
            self.inject(kind)

    # -- main --
    def run(self):
        a = self.args
        self.t0 = time.time()
        log(f"chaos: {a.pods} pods in {a.waves} waves, {a.faults} faults, seed {a.seed}")
        counts = collections.Counter(p.kind for p in self.plans)
        log("pods by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        node = "chaos-" + format(a.seed & 0xffffff, "06x")
        if self.backend == "mock":
            big = str(max(1000, 4 * a.pods))
            self.stack = Stack(self.cp, self.bin_dir, node=node,
                               config={"Resources": f'{{CPU: "{big}", Memory: "4Ti", Pods: "{big}"}}',
                                       "MockCapacityCPU": f'"{big}"', "MockCapacityPods": f'"{big}"'},
                               vk_log_level="info", vk_env={})
        else:
            try:
                self.stack = self.backend_stack()
            except Skip as e:
                print(f"SKIP: {self.backend}: {e}")
                return SKIP
        # interlink listens on the configured port; the vk dials it through the stall proxy.
        self.stall = StallProxy(self.stack.interlink_port)
        self.stack.vk_env["INTERLINKPORT"] = str(self.stall.port)
        try:
            self.stack.start()
            wait_until("node Ready", self.node_ready, timeout=60)
            log(f"stack up: node {self.stack.node}, logs in {self.stack.dir}")
            gap = max(2.0, a.duration / max(1, a.waves))
            creator = threading.Thread(target=self.creator, args=(a.waves, gap), daemon=True)
            creator.start()
            self.injector(a.faults)
            creator.join()
            self.finish()
        except BaseException as e:
            self.fail(f"aborted: {e!r}")
        finally:
            slow = [f for f in self.faults if (f.get("converge") or 0) > SLOW]
            if (self.failures or slow) and self.stack:
                if self.failures:
                    print(self.stack.logs())
                keep = f"/tmp/chaos-logs-{self.args.seed}"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(self.stack.dir, keep, ignore=shutil.ignore_patterns("certs", "token"))
                print(f"daemon logs kept in {keep}")
            self.report()
            self.stall.close()
            if self.stack:
                self.stack.close()
            if getattr(self, "svc", None):
                self.svc.close()
        return 1 if self.failures else 0

    def backend_stack(self):
        """docker-sd or slurm-sd (test/e2e/test_backends_e2e.py), its service started if needed."""
        import test_backends_e2e as tb
        tb.SOURCE_DIR, tb.BIN_DIR, tb.CP = self.cp.source_dir, self.bin_dir, self.cp
        self.svc = tb.DOCKER if self.backend == "docker" else tb.SLURM
        self.svc_env = self.svc.ensure()
        if self.svc_env is None:
            raise Skip(self.svc.error)
        cls = tb.Docker if self.backend == "docker" else tb.Slurm
        stack = cls.make_stack(self.svc_env)
        stack.vk_env = {}
        return stack

    def finish(self):
        # Every pod reaches its end; the rest (forever pods) are deleted, half of them while
        # mock-sd is down, which is the upstream #540 case.
        log("all waves created; waiting for every pod to finish")
        missing = [p.name for p in self.plans if not p.uid]
        if missing:
            self.fail(f"{len(missing)} pods were never created: {missing[:10]}")
        if self.backend == "slurm":
            # Each job holds a CPU of the small test cluster (OverSubscribe=NO): the pods that
            # run forever go now, or the others could wait for a CPU forever.
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(self.delete, [p for p in self.plans if p.kind == "forever" and p.uid
                                            and not p.deleted]))
        if not self.wait_converged():
            self.fail(f"no convergence after the last wave: {self.last_lag}")
        def unfinished():
            return sorted(f"{name} {pod['status'].get('phase')}" for name, pod in self.list_pods().items()
                          if self.by_name[name].phase is not None and not terminal(pod))
        try:
            wait_until("every planned pod to end", lambda: not unfinished(), timeout=CONVERGE_TIMEOUT, interval=1)
        except AssertionError:
            self.fail(f"pods that never finished: {unfinished()[:10]}")
        pods = self.list_pods()
        for p in self.plans:
            if p.deleted:
                continue
            if p.phase is None:
                continue
            why = check_pod(p, pods[p.name]) if p.name in pods else "missing"
            if why:
                self.fail(f"{p.name}: {why}{self.backend_evidence(p)}")
        self.check_one_job_per_pod()
        why = self.backend_sets()
        if why:
            self.fail(f"{self.backend}: {why}")
        # Deleted pods: gone in Kubernetes, in the sidecar, and from interlink's cache.
        gone = [p for p in self.plans if p.deleted]
        mock = self.mock_statuses(gone)
        cache = self.interlink_cache()
        for p in gone:
            if p.name in pods and pods[p.name]["metadata"]["uid"] == p.uid:
                self.fail(f"{p.name} (deleted during {p.deleted_during}) is still in Kubernetes")
            if p.uid in mock:
                self.fail(f"{p.name} (deleted during {p.deleted_during}) is still in {self.sidecar_name}")
            if p.uid in cache:
                self.fail(f"{p.name} (deleted during {p.deleted_during}) is still in interlink's cache")
            # A /delete answered by the sidecar (a 404 counts: a sidecar killed in the middle of
            # a delete finishes it when it restarts, and the retried /delete finds nothing).
            if self.stack.proxy.creates(p.uid) and not self.stack.proxy.deletes(p.uid):
                self.fail(f"{p.name} (deleted during {p.deleted_during}) had a job but no /delete"
                          f" reached {self.sidecar_name}")
        left = self.backend_leftovers(gone, final=False)
        if left:
            self.fail(f"{self.backend} still holds pods deleted during faults: {left}")
        # Cleanup, as a user would: delete everything (forever pods too), with the sidecar
        # killed in the middle.
        log(f"cleanup: deleting every pod, {self.sidecar_name} killed meanwhile")
        rest = [p for p in self.plans if not p.deleted and p.uid]
        half = len(rest) // 2
        t = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(self.delete, rest[:half]))
            self.stack.daemons[self.sidecar_name].stop(signal.SIGKILL)
            list(pool.map(self.delete, rest[half:]))
        time.sleep(3)
        self.stack.daemons[self.sidecar_name].start()
        try:
            wait_until("the namespace to have no pods", lambda: not self.list_pods(), timeout=CONVERGE_TIMEOUT,
                       interval=1)
        except AssertionError:
            self.fail(f"pods left in the namespace: {sorted(self.list_pods())[:10]}")
        if self.backend == "mock":
            try:
                wait_until("mock-sd to hold no pod", lambda: self.mock_db()[0] == 0 and
                           not self.mock_statuses(self.plans), timeout=CONVERGE_TIMEOUT, interval=1)
            except AssertionError:
                self.fail(f"mock-sd still holds {self.mock_db()[0]} pods: "
                          f"{sorted(self.mock_statuses(self.plans))[:10]}")
        else:
            try:
                wait_until(f"{self.backend} to hold nothing of the test", lambda: not self.mock_statuses(self.plans)
                           and not self.backend_leftovers(self.plans, final=True), timeout=CONVERGE_TIMEOUT, interval=1)
            except AssertionError:
                self.fail(f"{self.sidecar_name} still holds {sorted(self.mock_statuses(self.plans))[:5]}; "
                          f"{self.backend_leftovers(self.plans, final=True)}")
        self.cleanup_time = time.time() - t
        cache = self.interlink_cache()
        if cache:
            self.fail(f"interlink's cache still holds {len(cache)} pods after cleanup: {sorted(cache)[:5]}")
        self.check_one_job_per_pod()

    def check_one_job_per_pod(self):
        jids, repeats = {}, 0
        for p in self.plans:
            if not p.uid:
                continue
            creates = self.stack.proxy.creates(p.uid)
            got = set()
            for r in creates:
                try:
                    got.add(json.loads(r[3]).get("PodJID"))
                except ValueError:
                    got.add("unparsable reply")
            repeats += max(0, len(creates) - 1)
            want = 0 if p.kind == "reject" else 1
            if p.deleted and p.kind == "forever" and len(got) == 0:
                want = 0  # deleted before the vk ever sent it
            if len(got) != want:
                self.fail(f"{p.name}: {len(got)} backend jobs {sorted(map(str, got))}, want {want}")
            jids.update({j: p.name for j in got})
        issued = None
        try:
            if self.backend != "mock":
                raise LookupError
            _, meta = self.mock_db()
            if "next_seq" in meta:  # job ids are mock-1, mock-2, ...: next_seq - 1 were issued
                issued = int(meta["next_seq"]) - 1
        except LookupError:
            pass
        except (sqlite3.Error, ValueError) as e:
            self.fail(f"reading mock-sd's state file: {e!r}")
        if issued is not None and issued != len(jids):
            unseen = sorted(set(f"mock-{i}" for i in range(1, issued + 1)) - set(jids))
            lines = [ln for ln in self.stack.daemons["mock-sd"].tail(100000).splitlines()
                     if any(f"jid={j} " in ln + " " for j in unseen)]
            self.fail(f"mock-sd issued {issued} job ids, the proxy saw {len(jids)} distinct ones; "
                      f"not seen: {unseen[:10]}; mock-sd says: {lines[:10]}")
        self.repeated_creates, self.jobs_issued = repeats, issued

    def report(self):
        total = time.time() - self.t0
        kinds = collections.Counter(f["kind"] for f in self.faults)
        conv = [f["converge"] for f in self.faults if f.get("converge") is not None]
        print("\n===== chaos figures =====")
        print(f"seed                {self.args.seed}")
        mix = collections.Counter(p.kind for p in self.plans)
        print(f"pods                {len(self.plans)} ({', '.join(f'{k} {v}' for k, v in sorted(mix.items()))})")
        print(f"pods deleted early  {sum(p.deleted_during is not None for p in self.plans)} while a fault was active")
        print(f"faults injected     {len(self.faults)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
        for f in self.faults:
            c = f"{f['converge']:.1f}s" if f.get("converge") is not None else "NOT CONVERGED"
            r = f", restart {f['restart']:.1f}s" if "restart" in f else ""
            print(f"  t={f['at']:6.1f}s {f['kind']:12s} out {f['down']:4.1f}s{r}, deletes {len(f['deletes'])},"
                  f" converged {c} after the restart")
            if f.get("converge") is None or f["converge"] > SLOW:
                print(f"      last lagging: {f['lag']}")
        if conv:
            print(f"convergence         median {statistics.median(conv):.1f}s, max {max(conv):.1f}s")
        issued = f"; {self.jobs_issued} jobs issued by mock-sd" if getattr(self, "jobs_issued", None) else ""
        seen = f" ({self.backend_seen} checked before cleanup)" if getattr(self, "backend_seen", None) else ""
        print(f"backend             {self.backend}{seen}{issued}; repeated /create"
              f" calls for the same job: {getattr(self, 'repeated_creates', '?')}")
        if hasattr(self, "cleanup_time"):
            print(f"cleanup             {self.cleanup_time:.1f}s (delete all, {self.sidecar_name} killed meanwhile)")
        print(f"total time          {total:.1f}s")
        print(f"result              {'FAILED (' + str(len(self.failures)) + ' failures)' if self.failures else 'ok'}")
        for msg in self.failures[:50]:
            print("  - " + msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bin_dir")
    ap.add_argument("source_dir")
    ap.add_argument("--size", type=int, choices=sorted(SIZES), help="preset: pods, waves and faults")
    ap.add_argument("--pods", type=int)
    ap.add_argument("--waves", type=int)
    ap.add_argument("--faults", type=int)
    ap.add_argument("--duration", type=float, help="seconds over which the waves are spread")
    ap.add_argument("--backend", choices=["mock", "docker", "slurm"], default="mock",
                    help="mock-sd (default), docker-sd or slurm-sd (their services started if needed)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("IL_CHAOS_SEED", 0)) or None)
    a = ap.parse_args()
    size = a.size or a.pods or 100
    waves, faults = SIZES.get(size, (max(1, size // 50), 7))
    a.pods = a.pods or size
    a.waves = a.waves or waves
    a.faults = a.faults if a.faults is not None else faults
    a.duration = a.duration or 10.0 * a.faults
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 2**31)
    print(f"chaos seed {a.seed} (rerun with --seed {a.seed})", flush=True)
    sidecar = {"mock": "mock-sd", "docker": "docker-sd", "slurm": "slurm-sd"}[a.backend]
    for b in ("vk", "interlink", sidecar):
        if not os.access(os.path.join(a.bin_dir, b), os.X_OK):
            print(f"SKIP: {a.bin_dir}/{b} is not built")
            return SKIP
    cp = ControlPlane(a.source_dir)
    if not cp.start():
        print("SKIP: the Kubernetes control plane cannot be started (scripts/k8s/up)")
        cp.close()
        return SKIP
    try:
        return Chaos(cp, a.bin_dir, a).run()
    finally:
        cp.close()


if __name__ == "__main__":
    sys.exit(main())
