"""End-to-end harness: the local control plane (scripts/k8s/up), and a whole interLink
stack on loopback -- a sidecar (bin/mock-sd by default; bin/docker-sd, bin/slurm-sd, ...
through a Sidecar description), a recording proxy, bin/interlink and bin/vk with a
kubelet certificate signed by the test CA (scripts/k8s/sign-kubelet-cert).

Python 3 standard library only. Everything started here is stopped by Stack.close() and
ControlPlane.close(); the control plane is torn down only if this process started it.
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import SKIP, Process, free_port, wait_until  # noqa: F401  (re-exported)


class ControlPlane:
    """scripts/k8s/up (reused when healthy) and a kubectl wrapper."""

    def __init__(self, source_dir):
        self.source_dir = source_dir
        self.started_here = False
        self.env = {}

    def _healthy(self, env):
        try:
            out = subprocess.run([env["KUBECTL"], "--kubeconfig", env["KUBECONFIG"], "get",
                                  "--raw", "/readyz"], capture_output=True, text=True, timeout=10)
            return out.returncode == 0 and out.stdout.strip() == "ok"
        except (OSError, KeyError, subprocess.SubprocessError):
            return False

    def _read_env(self, path):
        env = {}
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("export ") and "=" in line:
                    k, v = line[len("export "):].split("=", 1)
                    env[k] = v.strip("'\"")
        return env

    def start(self):
        """Returns False (caller skips) when the control plane cannot be started."""
        state = os.environ.get("IL_K8S_DIR", "/tmp/interlink-k8s")
        env_file = os.path.join(state, "env")
        was_up = os.path.exists(env_file) and self._healthy(self._read_env(env_file))
        if not was_up:
            r = subprocess.run([os.path.join(self.source_dir, "scripts/k8s/up")],
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                print("control plane did not start:\n" + r.stderr[-3000:])
                return False
            env_file = r.stdout.strip().splitlines()[-1]
            self.started_here = True
        self.env = self._read_env(env_file)
        if not self._healthy(self.env):
            print("control plane is not healthy")
            return False
        return True

    def close(self):
        if self.started_here:
            subprocess.run([os.path.join(self.source_dir, "scripts/k8s/down")],
                           capture_output=True, timeout=300)

    def kubectl(self, *args, check=True, timeout=60, input=None):
        r = subprocess.run([self.env["KUBECTL"], "--kubeconfig", self.env["KUBECONFIG"], *args],
                           capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {r.stderr}")
        return r

    def get(self, *args):
        r = self.kubectl("get", *args, "-o", "json", check=False)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def apply(self, obj):
        self.kubectl("apply", "-f", "-", input=json.dumps(obj))


class RecordingProxy:
    """Between interlink and the sidecar: forwards everything (streaming the replies) and
    records the /create and /delete bodies and the /create replies."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.records = []  # (path, request json, status, reply bytes, time received)
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                received = time.time()
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=600)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    # /create and /delete are recorded once the sidecar has answered, even
                    # when the answer cannot be passed on (interlink went away): it acted.
                    reply = resp.read() if self.path in ("/create", "/delete") else b""
                except (OSError, http.client.HTTPException):  # the sidecar is down or died:
                    self.close_connection = True              # look like it to interlink
                    conn.close()
                    return
                try:
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                            self.send_header(k, v)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if reply:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(reply), reply))
                    while True:
                        chunk = resp.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                finally:
                    conn.close()
                    if self.path in ("/create", "/delete"):
                        try:
                            req = json.loads(body)
                        except ValueError:
                            req = None
                        with proxy.lock:
                            proxy.records.append((self.path, req, resp.status, reply, received))

            do_GET = do_POST = do_DELETE = do_PUT = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def creates(self, uid=None):
        with self.lock:
            out = [r for r in self.records if r[0] == "/create" and r[2] == 200]
        if uid is not None:
            out = [r for r in out if r[1] and r[1].get("pod", {}).get("metadata", {}).get("uid") == uid]
        return out

    def deletes(self, uid=None):
        with self.lock:
            out = [r for r in self.records if r[0] == "/delete"]
        if uid is not None:
            out = [r for r in out if r[1] and r[1].get("metadata", {}).get("uid") == uid]
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Daemon(Process):
    """A stack's daemon in a session of its own (a kill -9 of it leaves its children)."""

    def __init__(self, name, argv, env, log_dir):
        super().__init__(name, argv, env, log_dir, new_session=True)

    def tail(self, n=40):
        return super().tail(n)


class Sidecar:
    """The sidecar daemon of a Stack: bin_dir/<binary>, run as Stack.daemons[name] and
    named `service` in interlink's SidecarService."""

    def __init__(self, binary, service, name="sidecar", config=None, env=None, drain_on_close=False):
        """config: None -- the sidecar reads interlink's InterLinkConfig.yaml (mock-sd, whose
        Mock* keys the Stack then writes there); YAML text -- its own sidecar.yaml, after the
        SidecarService, DataRootFolder and StateFile lines the Stack writes. env: more
        environment for it. drain_on_close: Stack.close() deletes the namespace's pods while
        everything still runs, so the back-end frees what they hold (containers, jobs)."""
        self.binary, self.service, self.name = binary, service, name
        self.config, self.env, self.drain_on_close = config, dict(env or {}), drain_on_close


MOCK_SD = Sidecar("mock-sd", "mock", name="mock-sd")


class Stack:
    """sidecar (mock-sd unless told) + proxy + interlink + vk for one virtual node, in a
    fresh namespace."""

    def __init__(self, cp, bin_dir, node=None, ping_interval=2, proxy=True, config=None,
                 vk_args=(), vk_log_level="debug", vk_env=None, sidecar=MOCK_SD):
        """proxy: put the RecordingProxy between interlink and the sidecar; config: top-level
        InterLinkConfig.yaml keys (YAML flow text) replacing the defaults; vk_args: more
        vk flags; vk_env: more environment for the vk only (e.g. INTERLINKPORT to reach
        interlink through a proxy); sidecar: which sidecar daemon runs (a Sidecar)."""
        self.cp, self.bin_dir, self.sidecar = cp, bin_dir, sidecar
        self.config_overrides, self.vk_args = dict(config or {}), list(vk_args)
        self.vk_env = dict(vk_env or {})
        self.vk_log_level = vk_log_level
        self.node = node or "vk-e2e-" + uuid.uuid4().hex[:6]
        self.namespace = self.node
        self.dir = tempfile.mkdtemp(prefix="vk-e2e-")
        self.sidecar_port, self.interlink_port, self.kubelet_port = free_port(), free_port(), free_port()
        self.token = os.path.join(self.dir, "token")
        with open(self.token, "w") as f:
            f.write(uuid.uuid4().hex)
        certs = os.path.join(self.dir, "certs")
        subprocess.run([os.path.join(cp.source_dir, "scripts/k8s/sign-kubelet-cert"), self.node, certs],
                       check=True, capture_output=True, env={**os.environ, **cp.env})
        self.config = os.path.join(self.dir, "InterLinkConfig.yaml")
        self.proxy = RecordingProxy(self.sidecar_port) if proxy else None
        self.daemons = {}
        self._write_config(certs, ping_interval)
        self.sidecar_config = self.config
        if sidecar.config is not None:
            self.sidecar_config = os.path.join(self.dir, "sidecar.yaml")
            with open(self.sidecar_config, "w") as f:
                f.write(f"SidecarService: {sidecar.service}\nDataRootFolder: {self.dir}/sd\n"
                        f"StateFile: {self.dir}/sidecar-state.db\n" + sidecar.config)

    def _write_config(self, certs, ping_interval):
        keys = {
            "InterlinkURL": '"http://127.0.0.1"',
            "InterlinkPort": f'"{self.interlink_port}"',
            "SidecarService": f'"{self.sidecar.service}"',
            "SidecarURL": '"http://127.0.0.1"',
            "SidecarPort": f'"{self.proxy.port if self.proxy else self.sidecar_port}"',
            "VKTokenFile": f'"{self.token}"',
            "DataRootFolder": f'"{self.dir}"',
            "KubeletAddress": '"127.0.0.1"',
            "KubeletPort": str(self.kubelet_port),
            "KubeletCertFile": f'"{certs}/kubelet.crt"',
            "KubeletKeyFile": f'"{certs}/kubelet.key"',
            "KubeletHTTP": f'{{ClientCAFile: "{certs}/ca.crt"}}',
            "PingIntervalSeconds": str(ping_interval),
            "StatusSyncIntervalMs": "300",
            "StateFile": f'"{self.dir}/vk.state"',
            "Resources": '{CPU: "32", Memory: "64Gi", Pods: "200"}',
        }
        if self.sidecar.config is None:  # mock-sd reads its keys from this file
            keys.update({"MockStateFile": f'"{self.dir}/mock.sqlite"', "MockCapacityCPU": '"48"'})
        keys.update(self.config_overrides)
        with open(self.config, "w") as f:
            f.write("".join(f"{k}: {v}\n" for k, v in keys.items()))

    def start(self):
        """Starts everything; on failure stops what was started (and re-raises)."""
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        env = {"INTERLINKCONFIGPATH": self.config}
        sd = self.sidecar
        self.daemons[sd.name] = Daemon(sd.binary, [os.path.join(self.bin_dir, sd.binary),
                                                   "--listen", f"http://127.0.0.1:{self.sidecar_port}"],
                                       {**sd.env, "INTERLINKCONFIGPATH": self.sidecar_config}, self.dir).start()
        wait_until(f"{sd.binary} to listen", lambda: self._port_open(self.sidecar_port), timeout=30)
        self.daemons["interlink"] = Daemon("interlink", [os.path.join(self.bin_dir, "interlink")],
                                           env, self.dir)
        self.start_interlink()
        self.cp.kubectl("create", "namespace", self.namespace)
        wait_until("the default service account", lambda: self.cp.get(
            "serviceaccount", "default", "-n", self.namespace), timeout=60)
        self.daemons["vk"] = Daemon("vk", self.vk_argv(), {**env, "KUBECONFIG": self.cp.env["KUBECONFIG"],
                                                         **self.vk_env}, self.dir)
        self.start_vk()
        return self

    def vk_argv(self):
        return [os.path.join(self.bin_dir, "vk"), "--nodename", self.node, "--provider", "interlink",
                "--startup-timeout", "30s", "--klog.v", "2", "--klog.logtostderr",
                "--log-level", self.vk_log_level, "--kubeconfig", self.cp.env["KUBECONFIG"]] + self.vk_args

    def start_interlink(self):
        self.daemons["interlink"].start()
        wait_until("interlink to listen", lambda: self._port_open(self.interlink_port), timeout=20)

    def start_vk(self):
        self.daemons["vk"].start()
        wait_until("the kubelet API to listen", lambda: self._port_open(self.kubelet_port), timeout=30)

    def _port_open(self, port):
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def mock_status(self, uid):
        """What mock-sd itself knows about a pod (bypassing interlink's cache)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.sidecar_port, timeout=10)
        try:
            body = json.dumps([{"metadata": {"uid": uid, "name": "x", "namespace": self.namespace}}])
            conn.request("GET", "/status", body=body, headers={"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read() or b"[]") or []
        finally:
            conn.close()

    def logs(self):
        return "\n".join(f"----- {n} -----\n{d.tail()}" for n, d in self.daemons.items())

    def pod_spec(self, name, annotations=None, containers=None, init=None, restart="Never", **extra):
        spec = {
            "restartPolicy": restart,
            "nodeSelector": {"type": "virtual-kubelet", "kubernetes.io/hostname": self.node},
            "tolerations": [{"key": "virtual-node.interlink/no-schedule", "operator": "Exists"},
                            {"key": "virtual-kubelet.io/provider", "operator": "Exists"}],
            "containers": containers or [{"name": "main", "image": "busybox"}],
        }
        if init:
            spec["initContainers"] = init
        spec.update(extra)
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": self.namespace,
                             "annotations": annotations or {}},
                "spec": spec}

    def pod(self, name):
        return self.cp.get("pod", name, "-n", self.namespace)

    def close(self):
        """Stops everything started (again: harmless); the daemons' logs stay readable."""
        if self.sidecar.drain_on_close and any(d.alive() for d in self.daemons.values()):
            self.cp.kubectl("delete", "pods", "--all", "-n", self.namespace, "--wait=true",
                            "--timeout=60s", check=False, timeout=90)
        for name in ("vk", "interlink", self.sidecar.name):
            d = self.daemons.get(name)
            if d:
                d.stop()
        if self.proxy:
            self.proxy.close()
        self.cp.kubectl("delete", "namespace", self.namespace, "--wait=false", check=False)
        # Pods of the namespace are bound to a node nobody runs now: finish them.
        self.cp.kubectl("delete", "pods", "--all", "-n", self.namespace, "--grace-period=0",
                        "--force", check=False)
        self.cp.kubectl("delete", "node", self.node, check=False)
        self.cp.kubectl("delete", "lease", self.node, "-n", "kube-node-lease", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
