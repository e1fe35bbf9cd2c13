#!/usr/bin/env python3
"""End-to-end test of kubectl exec, attach and port-forward on the virtual node, through the
local Kubernetes v1.20.2 API server, with both kubectl clients:
  - ws:   /usr/bin/kubectl (1.32): WebSocket first (v5.channel.k8s.io, the SPDY tunnel for
          port-forward), which the 1.20 API server passes through to the vk;
  - spdy: the project's kubectl 1.20 (SPDY/3.1 only).
Back-ends: mock-sd (scripted exec, port-forward to loopback), docker-sd (docker exec,
docker attach, port-forward in the pod's network namespace) and slurm-sd with runtime `none`
(srun --overlap into the job, attach by following the log, port-forward to the job's node),
plus an exec into a ch-run pod (the same image, the container's env and working directory).

Also: a user without RBAC for pods/exec is refused by the API server, and callers straight
at the kubelet port without credentials (401) or without nodes/proxy (403) are refused.

Usage: test_streaming_e2e.py BIN_DIR SOURCE_DIR [unittest args, e.g. Mock, Docker or Slurm]
Exits 77 when the control plane cannot be started (or every back-end was skipped).
"""
import hashlib
import http.client
import json
import os
import pty
import select
import socket
import ssl
import struct
import subprocess
import sys
import fcntl
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_backends_e2e as backends  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, Stack, free_port, wait_until  # noqa: E402

CP = None
BIN_DIR = SOURCE_DIR = None
KUBECTL_WS = os.environ.get("IL_KUBECTL_WS", "/usr/bin/kubectl")
BIG_MIB = 50


def kubectls():
    """name -> binary: 1.20 (SPDY), 1.32 (WebSocket first) and 1.32 told to use SPDY
    (it then offers v5 over SPDY, and the vk picks v4 as the kubelet does)."""
    out = {"spdy": CP.env["KUBECTL"]}
    if os.path.exists(KUBECTL_WS):
        out["ws"] = KUBECTL_WS
        out["spdy-1.32"] = KUBECTL_WS
    return out


def kenv(which):
    env = dict(os.environ)
    if which == "spdy-1.32":
        env.update({"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false",
                    "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"})
    return env


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyKubectl:
    """kubectl on a pseudo-terminal (for -t), reading what it prints."""

    def __init__(self, argv, rows=33, cols=101, env=None):
        self.master, slave = pty.openpty()
        set_winsize(slave, rows, cols)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=self._ctty(slave))
        os.close(slave)
        self.out = b""

    @staticmethod
    def _ctty(slave):
        def f():
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        return f

    def send(self, data):
        os.write(self.master, data)

    def expect(self, needle, timeout=30):
        end = time.time() + timeout
        while needle.encode() not in self.out:
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; got {self.out[-500:]!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"kubectl ended before {needle!r}; got {self.out[-500:]!r}")
                self.out += chunk
        return self.out

    def resize(self, rows, cols):
        set_winsize(self.master, rows, cols)
        os.killpg(self.proc.pid, 28)  # SIGWINCH

    def close(self):
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


def be_logs(stack, pod):
    r = subprocess.run([KUBECTL_WS, "--kubeconfig", CP.env["KUBECONFIG"], "-n", stack.namespace, "logs",
                        pod, "--all-containers"], capture_output=True, text=True)
    return f"kubectl logs {pod}: {r.stdout}{r.stderr}"


class StreamChecks:
    """The six kubectl commands, with both clients; subclasses start a stack and a pod
    `self.pod_name` whose container `main` prints periodically and serves HTTP on
    `self.http_port` with a file /big of BIG_MIB MiB whose sha256 is `self.big_sha`."""

    stack = None
    pod_name = "streams"
    tty_cmd = ["sh"]

    def kubectl(self, which, *args, input=None, timeout=120, check=True):
        argv = [kubectls()[which], "--kubeconfig", CP.env["KUBECONFIG"], "-n", self.stack.namespace,
                *args]
        r = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=kenv(which))
        if check and r.returncode != 0:
            raise AssertionError(f"{which}: {' '.join(args)} -> {r.returncode}: {r.stderr.decode()}"
                                 f"\n{self.stack.logs()}")
        return r

    def audit_lines(self, daemon):
        with open(self.stack.daemons[daemon].log_path, "rb") as f:
            return [ln for ln in f.read().decode(errors="replace").splitlines() if "audit: " in ln]

    def test_exec_echo(self):
        for which in kubectls():
            with self.subTest(kubectl=which):
                marker = f"marker-{which}-{time.time_ns()}"
                r = self.kubectl(which, "exec", self.pod_name, "--", "echo", "hi", marker)
                self.assertEqual(r.stdout, f"hi {marker}\n".encode())
                # kubectl 1.32 got its WebSocket (v5) through the 1.20 API server; 1.20 used SPDY.
                lines = [ln for ln in self.audit_lines("vk") if marker in ln]
                self.assertEqual(len(lines), 1, lines)
                self.assertIn("via websocket" if which == "ws" else "via spdy v4.channel.k8s.io",
                              lines[0])
                self.assertIn(f"pod={self.stack.namespace}/{self.pod_name}", lines[0])
                self.assertIn("container=main", lines[0])
                self.assertTrue(any(marker in ln for ln in self.audit_lines("interlink")))

    def test_exec_stdin_through_wc(self):
        data = os.urandom(300_000)
        for which in kubectls():
            with self.subTest(kubectl=which):
                r = self.kubectl(which, "exec", "-i", self.pod_name, "--", "wc", "-c", input=data)
                self.assertEqual(r.stdout.decode().strip(), str(len(data)))

    def test_exit_code_reaches_kubectl(self):
        for which in kubectls():
            with self.subTest(kubectl=which):
                r = self.kubectl(which, "exec", self.pod_name, "--", "sh", "-c", "exit 7", check=False)
                self.assertEqual(r.returncode, 7, r.stderr)

    def test_exec_tty_with_resize(self):
        for which in kubectls():
            with self.subTest(kubectl=which):
                k = PtyKubectl([kubectls()[which], "--kubeconfig", CP.env["KUBECONFIG"], "-n",
                                self.stack.namespace, "exec", "-it", self.pod_name, "--",
                                *self.tty_cmd], env=kenv(which))
                try:
                    time.sleep(2)
                    k.send(b"stty size\r")
                    k.expect("33 101")
                    k.resize(44, 132)
                    time.sleep(1)
                    k.send(b"stty size\r")
                    k.expect("44 132")
                    k.send(b"exit 0\r")
                finally:
                    code = k.close()
                self.assertEqual(code, 0, k.out[-500:])

    def test_attach_sees_periodic_output(self):
        for which in kubectls():
            with self.subTest(kubectl=which):
                p = subprocess.Popen([kubectls()[which], "--kubeconfig", CP.env["KUBECONFIG"], "-n",
                                      self.stack.namespace, "attach", self.pod_name, "-c", "main"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kenv(which))
                lines = []
                try:
                    deadline = time.time() + 30
                    while len([ln for ln in lines if b"tick" in ln]) < 2 and time.time() < deadline:
                        r, _, _ = select.select([p.stdout], [], [], 1)
                        if r:
                            ln = p.stdout.readline()
                            if not ln:
                                break
                            lines.append(ln)
                finally:
                    p.terminate()
                    _, err = p.communicate(timeout=20)
                self.assertGreaterEqual(len([ln for ln in lines if b"tick" in ln]), 2, (lines, err))

    def test_port_forward_50mib_by_hash(self):
        for which in kubectls():
            with self.subTest(kubectl=which):
                local = free_port()
                p = subprocess.Popen([kubectls()[which], "--kubeconfig", CP.env["KUBECONFIG"], "-n",
                                      self.stack.namespace, "port-forward", self.pod_name,
                                      f"{local}:{self.http_port}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kenv(which))
                try:
                    wait_until("port-forward listening", lambda: p.poll() is None and
                               socket.create_connection(("127.0.0.1", local), 1).close() is None,
                               timeout=30)
                    for _ in range(2):  # two connections over the same port-forward
                        r = subprocess.run(["curl", "-sS", "--max-time", "120", "-o", "-",
                                            f"http://127.0.0.1:{local}/big"],
                                           capture_output=True, timeout=150)
                        if r.returncode != 0:
                            p.terminate()
                            self.fail(f"curl: {r.stderr}; kubectl: {p.communicate(timeout=20)}"
                                      f"\n{self.stack.logs()}")
                        self.assertEqual(len(r.stdout), BIG_MIB << 20)
                        self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), self.big_sha)
                finally:
                    p.terminate()
                    out, err = p.communicate(timeout=20)

    def test_user_without_pods_exec_rbac_is_refused(self):
        ns = self.stack.namespace
        CP.kubectl("create", "serviceaccount", "no-exec", "-n", ns, check=False)
        req = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"expirationSeconds": 3600}}
        token = json.loads(CP.kubectl("create", "--raw",
                                      f"/api/v1/namespaces/{ns}/serviceaccounts/no-exec/token",
                                      "-f", "-", input=json.dumps(req)).stdout)["status"]["token"]
        for which in kubectls():
            with self.subTest(kubectl=which):
                # No kubeconfig at all: an admin one (KUBECONFIG, as scripts/test exports it)
                # would add its client certificate, and the API server would take that first.
                env = kenv(which)
                env.pop("KUBECONFIG", None)
                r = subprocess.run([kubectls()[which], "--kubeconfig", os.devnull,
                                    "--server", CP.env["IL_K8S_SERVER"],
                                    "--certificate-authority", CP.env["IL_K8S_CA_CERT"],
                                    "--token", token, "-n", ns, "exec", self.pod_name, "--",
                                    "echo", "hi"], capture_output=True, timeout=60, env=env)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(b"forbidden", r.stderr.lower())
        # The same token straight at the kubelet port: authenticated, not authorized.
        status, _ = self.kubelet_post(token)
        self.assertEqual(status, 403)

    def test_anonymous_caller_at_the_kubelet_port_is_401(self):
        status, body = self.kubelet_post(None)
        self.assertEqual(status, 401, body)

    def kubelet_post(self, token):
        ctx = ssl.create_default_context(cafile=CP.env["IL_K8S_CA_CERT"])
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", self.stack.kubelet_port, context=ctx,
                                           timeout=30)
        try:
            headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                       "X-Stream-Protocol-Version": "v4.channel.k8s.io"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request("POST", f"/exec/{self.stack.namespace}/{self.pod_name}/main?"
                         "command=echo&command=hi&output=1", headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            conn.close()


class Mock(StreamChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(CP, BIN_DIR, proxy=False).start()
        s = cls.stack
        # mock-sd forwards to loopback: the "pod's" HTTP server runs here.
        cls.tmp = os.path.join(s.dir, "www")
        os.makedirs(cls.tmp)
        data = os.urandom(BIG_MIB << 20)
        cls.big_sha = hashlib.sha256(data).hexdigest()
        with open(os.path.join(cls.tmp, "big"), "wb") as f:
            f.write(data)
        cls.http_port = free_port()
        cls.httpd = subprocess.Popen([sys.executable, "-m", "http.server", str(cls.http_port),
                                      "--bind", "127.0.0.1", "--directory", cls.tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until("node Ready", lambda: any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (CP.get("node", s.node) or {}).get("status", {}).get("conditions", [])),
                timeout=60)
            CP.apply(s.pod_spec(cls.pod_name, {"mock.interlink.io/run-seconds": "3600"}))
            wait_until("pod Running", lambda: (s.pod(cls.pod_name) or {}).get("status", {})
                       .get("phase") == "Running", timeout=60)
        except BaseException:
            print(s.logs())
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.httpd.terminate()
        cls.httpd.wait()
        if cls.stack:
            cls.stack.close()
            cls.stack = None


class Docker(StreamChecks, unittest.TestCase):
    http_port = 8080

    @classmethod
    def setUpClass(cls):
        env = backends.DOCKER.ensure()
        if env is None:
            raise unittest.SkipTest(f"docker cannot be started: {backends.DOCKER.error}")
        cls.stack = backends.BackendStack(CP, BIN_DIR, "docker-sd", "docker",
                                          f"DockerPath: {env.get('DOCKER', 'docker')}\n")
        s = cls.stack
        try:
            s.proxy.close()
            s.proxy = None
            with open(s.config) as f:
                text = f.read()
            with open(s.config, "w") as f:
                f.write("".join(ln for ln in text.splitlines(True) if not ln.startswith("SidecarPort:"))
                        + f'SidecarPort: "{s.sidecar_port}"\n')
            s.start()
            wait_until("node Ready", lambda: any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (CP.get("node", s.node) or {}).get("status", {}).get("conditions", [])),
                timeout=60)
            script = (f"mkdir -p /www && dd if=/dev/urandom of=/www/big.tmp bs=1048576 count={BIG_MIB} "
                      "2>/dev/null && mv /www/big.tmp /www/big; httpd -p 8080 -h /www; i=0; "
                      "while true; do echo tick $i; i=$((i+1)); sleep 1; done")
            CP.apply(s.pod_spec(cls.pod_name, containers=[{
                "name": "main", "image": backends.IMAGE, "imagePullPolicy": "Never",
                "command": ["sh", "-c", script]}]))
            wait_until("pod Running", lambda: (s.pod(cls.pod_name) or {}).get("status", {})
                       .get("phase") == "Running", timeout=90)
            docker = env.get("DOCKER", "docker")
            uid = s.pod(cls.pod_name)["metadata"]["uid"]

            def sha():
                ids = subprocess.run([docker, "ps", "-q", "--filter", f"label=io.kubernetes.pod.uid={uid}",
                                      "--filter", "label=io.kubernetes.container.name=main"],
                                     capture_output=True, text=True).stdout.split()
                if not ids:
                    return None
                r = subprocess.run([docker, "exec", ids[0], "sha256sum", "/www/big"],
                                   capture_output=True, text=True)
                return r.stdout.split()[0] if r.returncode == 0 and r.stdout else None
            cls.big_sha = wait_until("the 50 MiB file in the pod", sha, timeout=90)
        except BaseException:
            print(s.logs())
            s.close()
            cls.stack = None
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.stack:
            cls.stack.close()
            cls.stack = None


class Slurm(StreamChecks, unittest.TestCase):
    """slurm-sd with ContainerRuntime none: exec is srun --overlap into the job's allocation,
    port-forward connects to the job's node (here: this host)."""

    @classmethod
    def setUpClass(cls):
        env = backends.SLURM.ensure()
        if env is None:
            raise unittest.SkipTest(f"slurm cannot be started: {backends.SLURM.error}")
        cls.stack = backends.Slurm.make_stack(env)
        s = cls.stack
        try:
            s.proxy.close()
            s.proxy = None
            with open(s.config) as f:
                text = f.read()
            cls.ch_image = env.get("IL_CH_IMAGE_DIR", "") if "ch-run" in env.get(
                "IL_SLURM_CONTAINER_RUNTIMES", "") else ""
            extra = ""
            if cls.ch_image:  # a second pod runs under ch-run (image by name below ImagePrefix)
                extra = (f'AllowedRuntimes: [none, ch-run]\n'
                         f'ImagePrefix: "{os.path.dirname(cls.ch_image)}/"\n')
            with open(s.config, "w") as f:
                f.write("".join(ln for ln in text.splitlines(True) if not ln.startswith("SidecarPort:"))
                        + f'SidecarPort: "{s.sidecar_port}"\n')
            with open(s.sidecar_config, "a") as f:
                f.write(extra)
            www = os.path.join(s.dir, "www")
            os.makedirs(www)
            os.chmod(s.dir, 0o755)
            data = os.urandom(BIG_MIB << 20)
            cls.big_sha = hashlib.sha256(data).hexdigest()
            with open(os.path.join(www, "big"), "wb") as f:
                f.write(data)
            cls.http_port = free_port()
            s.start()
            wait_until("node Ready", lambda: any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (CP.get("node", s.node) or {}).get("status", {}).get("conditions", [])),
                timeout=60)
            script = (f"cd {www} && {sys.executable} -m http.server {cls.http_port} --bind 0.0.0.0 "
                      ">/dev/null 2>&1 & i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done")
            CP.apply(s.pod_spec(cls.pod_name, containers=[{
                "name": "main", "image": backends.IMAGE, "command": ["sh", "-c", script]}]))
            # The one-node test cluster may be busy with other jobs: the pod can pend a while.
            wait_until("pod Running", lambda: (s.pod(cls.pod_name) or {}).get("status", {})
                       .get("phase") == "Running", timeout=600)
            wait_until("the pod's HTTP server", lambda: socket.create_connection(
                ("127.0.0.1", cls.http_port), 1).close() is None, timeout=60)
            if cls.ch_image:
                # A file only the image has: exec must run inside the image, not on the node.
                cls.marker = f"il-e2e-marker-{os.getpid()}"
                with open(os.path.join(cls.ch_image, cls.marker), "w") as f:
                    f.write("inside the ch-run image\n")
                pod = s.pod_spec("streams-chrun", containers=[{
                    "name": "main", "image": os.path.basename(cls.ch_image), "workingDir": "/etc",
                    "env": [{"name": "GREETING", "value": "it's \"$HOME\" ; `x`"}],
                    "command": ["sh", "-c", "while true; do sleep 1; done"]}])
                pod["metadata"].setdefault("annotations", {})[
                    "slurm-job.vk.io/container-runtime"] = "ch-run"
                CP.apply(pod)
                phase = lambda: (s.pod("streams-chrun") or {}).get("status", {}).get("phase")  # noqa: E731
                wait_until("ch-run pod Running or Failed", lambda: phase() in ("Running", "Failed"),
                           timeout=600)
                time.sleep(3)  # still running: its container did not end at once
                if phase() != "Running":
                    raise AssertionError(f"ch-run pod: {json.dumps(s.pod('streams-chrun').get('status'))}\n"
                                         + be_logs(s, "streams-chrun"))
        except BaseException:
            print(s.logs())
            s.close()
            cls.stack = None
            raise

    def test_exec_under_ch_run_runs_in_the_same_image_with_the_containers_env(self):
        if not self.ch_image:
            self.skipTest("ch-run does not run inside Slurm jobs here (scripts/slurm/up)")
        for which in kubectls():
            r = self.kubectl(which, "exec", "streams-chrun", "--", "sh", "-c",
                             f'cat /{self.marker}; printf "%s|" "$GREETING"; pwd')
            self.assertEqual(r.stdout.decode(), "inside the ch-run image\nit's \"$HOME\" ; `x`|/etc\n",
                             which)
            r = self.kubectl(which, "exec", "streams-chrun", "--", "sh", "-c", "exit 5", check=False)
            self.assertEqual(r.returncode, 5, (which, r.stderr))

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "marker", None) and cls.ch_image:
            try:
                os.unlink(os.path.join(cls.ch_image, cls.marker))
            except OSError:
                pass
        if cls.stack:
            cls.stack.close()
            cls.stack = None


def main():
    global CP, BIN_DIR, SOURCE_DIR
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    BIN_DIR, SOURCE_DIR = sys.argv[1], sys.argv[2]
    backends.BIN_DIR, backends.SOURCE_DIR = BIN_DIR, SOURCE_DIR
    CP = ControlPlane(SOURCE_DIR)
    if not CP.start():
        return SKIP
    backends.CP = CP
    try:
        prog = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False, verbosity=2)
        r = prog.result
        if r.testsRun and len(r.skipped) == r.testsRun:
            return SKIP
        return 0 if r.wasSuccessful() else 1
    finally:
        backends.DOCKER.close()
        backends.SLURM.close()
        CP.close()


if __name__ == "__main__":
    sys.exit(main())
