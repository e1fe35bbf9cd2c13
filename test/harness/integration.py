"""Helpers for integration tests of our binaries: HTTP over TCP/TLS/unix, daemons with a
readiness check, pod manifests (the basics are in harness/__init__.py)."""
import http.client
import json
import os
import signal
import socket
import tempfile
import time

from harness import SKIP, Process, free_port, wait_until  # noqa: F401  (re-exported)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def connect(url, timeout=30, ssl_context=None):
    if url.startswith("unix://"):
        return UnixHTTPConnection(url[len("unix://"):], timeout=timeout)
    scheme, rest = url.split("://", 1)
    host, port = rest.rsplit(":", 1)
    if scheme == "https":
        return http.client.HTTPSConnection(host, int(port), timeout=timeout, context=ssl_context)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def call(url, method, path, body=None, token=None, headers=None, timeout=30, ssl_context=None):
    """Returns (status, headers dict, body bytes)."""
    conn = connect(url, timeout, ssl_context)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


class Daemon(Process):
    """A binary started with a config file and env; stopped (and killed) on exit."""

    def __init__(self, argv, env, name, log_dir):
        super().__init__(name, argv, env, log_dir)

    def wait_ready(self, url, path="/healthz", timeout=20, ssl_context=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                st, _, _ = call(url, "GET", path, timeout=2, ssl_context=ssl_context)
                if st < 500:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready at {url}:\n{self.tail()}")

    def kill(self, sig=signal.SIGTERM):
        self.stop(sig, timeout=10)


def write_config(dir_, text):
    path = os.path.join(dir_, "InterLinkConfig.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def pod(name, uid, annotations=None, containers=None, init_containers=None, ns="default"):
    spec = {"containers": containers or [{"name": "main", "image": "busybox", "command": ["echo"], "args": ["hello"]}]}
    if init_containers:
        spec["initContainers"] = init_containers
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": uid, "annotations": annotations or {}},
            "spec": spec, "status": {"phase": "Pending"}}


def state_of(container_status):
    st = container_status.get("state", {})
    for k in ("waiting", "running", "terminated"):
        if k in st:
            return k, st[k]
    return "unknown", {}
