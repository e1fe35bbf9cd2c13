"""Shared helpers for tests and benchmarks that run bin/docker-sd against a real Docker engine.

Python 3 stdlib only. Everything listens on 127.0.0.1; every container created here carries the
docker-sd "il-" name prefix, so scripts/docker/down would clean up after a crash too.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

SKIP = 77


def ensure_docker(source_dir):
    """Returns {DOCKER, IL_TEST_IMAGE, ...} from scripts/docker/up's env file, starting the
    engine through the project's script when none answers; None when it cannot be started."""
    env_file = os.environ.get("IL_DOCKER_DIR", "/tmp/interlink-docker") + "/env"

    def read_env():
        vals = {}
        if os.path.exists(env_file):
            for line in open(env_file):
                line = line.strip()
                if line.startswith("export ") and "=" in line:
                    k, v = line[len("export "):].split("=", 1)
                    vals[k] = v
        return vals

    vals = read_env()
    cli = vals.get("DOCKER", "/usr/bin/docker")
    image = vals.get("IL_TEST_IMAGE", "interlink-test/busybox:latest")

    def answers():
        try:
            ok = subprocess.run([cli, "info"], capture_output=True, timeout=20).returncode == 0
            return ok and subprocess.run([cli, "image", "inspect", image],
                                         capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    if not vals or not answers():
        up = os.path.join(source_dir, "scripts/docker/up")
        r = subprocess.run([up], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print("cannot start Docker with scripts/docker/up:\n" + r.stderr[-2000:])
            return None
        vals = read_env()
        cli = vals.get("DOCKER", cli)
    vals.setdefault("DOCKER", cli)
    vals.setdefault("IL_TEST_IMAGE", image)
    return vals


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/
from harness import free_port  # noqa: E402,F401  (one implementation)


class DockerSd:
    """A bin/docker-sd process on loopback with its own config, data dir and state file."""

    def __init__(self, bin_dir, workdir, docker_cli, settings=None):
        self.bin = os.path.join(bin_dir, "docker-sd")
        self.workdir = workdir
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(workdir, "docker-sd.log")
        self.proc = None
        cfg = {"SidecarService": "docker", "DataRootFolder": os.path.join(workdir, "data"),
               "DockerPath": docker_cli}
        cfg.update(settings or {})
        self.config = os.path.join(workdir, "InterLinkConfig.yaml")
        with open(self.config, "w") as f:
            for k, v in cfg.items():
                f.write("%s: %s\n" % (k, json.dumps(v)))

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.bin, "--config", self.config, "--listen", self.url],
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("docker-sd exited:\n" + self.log_tail())
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError("docker-sd did not answer:\n" + self.log_tail())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n=40):
        try:
            return "".join(open(self.log_path).readlines()[-n:])
        except OSError:
            return ""

    def call(self, path, body, timeout=120):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def create(self, data):
        code, body = self.call("/create", data)
        return code, (json.loads(body) if code == 200 else body.decode())

    def delete(self, pod):
        code, body = self.call("/delete", pod)
        return code, body.decode()

    def status(self, pods):
        code, body = self.call("/status", pods)
        if code != 200:
            raise RuntimeError("status: %d %s" % (code, body))
        return {s["UID"]: s for s in json.loads(body)}

    def logs(self, pod, container, **opts):
        req = {"Namespace": pod["metadata"]["namespace"], "PodUID": pod["metadata"]["uid"],
               "PodName": pod["metadata"]["name"], "ContainerName": container, "Opts": opts}
        code, body = self.call("/getLogs", req)
        return code, body.decode(errors="replace")

    def wait(self, pod, predicate, timeout=60, what="condition"):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = self.status([pod]).get(pod["metadata"]["uid"])
            if last is not None and predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError("timeout waiting for %s of pod %s; last status: %s"
                             % (what, pod["metadata"]["name"], json.dumps(last)))


def make_pod(name, spec, ns="default", uid=None, **meta):
    md = {"name": name, "namespace": ns, "uid": uid or str(uuid.uuid4())}
    md.update(meta)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def retrieved(pod, config_maps=(), secrets=(), projected=()):
    """RetrievedPodData as interLink sends it (per-container lists; we list everything once)."""
    first = pod["spec"]["containers"][0]["name"]
    return {"pod": pod, "container": [{"name": first, "configMaps": list(config_maps),
                                        "secrets": list(secrets),
                                        "projectedvolumemaps": list(projected)}]}


def state_of(cs):
    return next(iter(cs["state"]))


def phase(st):
    """Pod phase the way the VK derives it from container statuses."""
    inits = st.get("initContainers") or []
    for c in inits:
        t = c["state"].get("terminated")
        if t and t["exitCode"] != 0:
            return "Failed"
    cs = st.get("containers") or []
    if cs and all("terminated" in c["state"] for c in cs):
        return "Succeeded" if all(c["state"]["terminated"]["exitCode"] == 0 for c in cs) else "Failed"
    if any("running" in c["state"] for c in cs):
        return "Running"
    return "Pending"


def docker(cli, *args, check=True, timeout=60):
    r = subprocess.run([cli] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("docker %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def containers_of(cli, uid):
    out = docker(cli, "ps", "-a", "--filter", "label=io.kubernetes.pod.uid=" + uid,
                 "--format", "{{.Names}}")
    return sorted(x for x in out.split("\n") if x)


def remove_containers(cli, uids):
    for uid in uids:
        names = containers_of(cli, uid)
        if names:
            docker(cli, "rm", "-f", "-v", *names, check=False)
