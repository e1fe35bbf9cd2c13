#!/usr/bin/env python3
"""End-to-end test of the seed's quick start on a real worker node (issue 12, item 3).

1. scripts/docker/up and scripts/images/build (cached), as e2e.compose does.
2. A control plane of its own (scripts/k8s/up with IL_K8S_DIR=/tmp/interlink-k8s-quickstart and
   its own ports), and a real worker node joined to it: scripts/k8s/node up (kubelet built from
   the same Kubernetes source, containerd + runc + CNI plugins from Debian, the il-pause sandbox
   image made locally). The vk image is imported into the node's containerd.
3. The seed's three commands, as written (run from the source dir):
     kubectl apply -n vk -k ./kustomizations
     docker compose -f docker-compose.yaml up -d         (-p <project>, and the files it mounts)
     kubectl apply -f examples/interlink_mock/payloads/busyecho_k8s.yaml -n vk
   The vk Deployment's pod runs on the real node (in-cluster config from its service account),
   registers the virtual node test-vk, the example pod runs through interlink and the docker
   sidecar to Succeeded and `kubectl logs` shows "Hello from container".
4. Teardown leaves nothing: the pod's containers, the compose project, the node's processes,
   mounts, bridge and iptables chain, the node's and the control plane's state dirs.

Before the seed's commands the test does what a user does once (docs/deployment.md):
`kubectl create ns vk`, the Secret vk-token (the vk's bearer token for interlink) and the Secret
vk-kubelet-tls (the vk's kubelet serving certificate, signed by the cluster CA).

Usage: test_quickstart_e2e.py BIN_DIR SOURCE_DIR
Exit 77 (skip) only as a developer's opt-out: IL_TEST_SKIP_IMAGES=1 or IL_TEST_SKIP_NODE=1, or a
missing service while IL_REQUIRE_SERVICES is not 1 (scripts/test sets it; in CI it fails).
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compose_e2e import (ComposeStack, build_images, docker_and_compose,  # noqa: E402
                              run, unavailable)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, wait_until  # noqa: E402

NS = "vk"
VK_NODE = "test-vk"            # kustomizations/deployment.yaml --nodename
REAL_NODE = "il-quickstart-node"
NODE_DIR = "/tmp/interlink-quickstart-node"
K8S_DIR = "/tmp/interlink-k8s-quickstart"
# The control plane's ports: not the default ones, so it runs beside the shared one.
K8S_PORTS = {"IL_K8S_PORT": "6643", "IL_K8S_ETCD_PORT": "23990", "IL_K8S_ETCD_PEER_PORT": "24000",
             "IL_K8S_SCHEDULER_PORT": "10359", "IL_K8S_CM_PORT": "10357"}
INTERLINK_PORT, SIDECAR_PORT = 3000, 4000   # docker-compose.yaml's and kustomizations/'s defaults
EXAMPLE = "examples/interlink_mock/payloads/busyecho_k8s.yaml"


def log(msg):
    print(f"quickstart-e2e: {msg}", flush=True)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Node:
    """scripts/k8s/node up / import / down for the test's real worker node."""

    def __init__(self, source_dir, bin_dir, docker):
        self.script = os.path.join(source_dir, "scripts/k8s/node")
        self.env = {**os.environ, "DOCKER": docker, "IL_K8S_DIR": K8S_DIR, "IL_NODE_DIR": NODE_DIR,
                    "IL_NODE_NAME": REAL_NODE, "IL_PAUSE_BIN": os.path.join(bin_dir, "il-pause")}
        self.up_ = False

    def __call__(self, *args, timeout=600, check=True):
        sys.stdout.flush()
        # Its progress (a cold kubelet build takes long) goes straight to our output.
        r = subprocess.run([self.script, *args], env=self.env, stdout=subprocess.PIPE,
                           stderr=sys.stdout, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"scripts/k8s/node {' '.join(args)} failed ({r.returncode})")
        return r

    def up(self):
        self.up_ = True
        return self("up", timeout=7200, check=False).returncode == 0

    def down(self):
        if self.up_:
            self("down", check=False)
            self.up_ = False

    def logs(self):
        out = ""
        for name in ("kubelet", "containerd"):
            p = os.path.join(NODE_DIR, "logs", name + ".log")
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f"----- {name} -----\n" + "".join(f.readlines()[-40:])
        return out


class QuickstartCompose(ComposeStack):
    """interlink + docker-sidecar from docker-compose.yaml on the ports kustomizations/ names;
    the vk is the Deployment's pod, not a host process."""

    def __init__(self, cp, bin_dir, source_dir, docker, compose):
        super().__init__(cp, bin_dir, source_dir, docker, compose)
        self.project = "il-quickstart-" + uuid.uuid4().hex[:6]
        self.interlink_port, self.sidecar_port = INTERLINK_PORT, SIDECAR_PORT
        self.env.update({"INTERLINKPORT": str(INTERLINK_PORT), "SIDECARPORT": str(SIDECAR_PORT)})

    def start(self):
        self.up = True
        t = time.time()
        self.compose("up", "-d", "--no-build")
        wait_until("docker-sidecar to listen", lambda: port_open(SIDECAR_PORT), timeout=60)
        wait_until("interlink to listen", lambda: port_open(INTERLINK_PORT), timeout=60)
        log(f"compose up: interlink :{INTERLINK_PORT} and docker-sidecar :{SIDECAR_PORT} in {time.time() - t:.1f}s")
        return self


def node_ip():
    r = run(["ip", "-4", "route", "get", "1.1.1.1"])
    words = r.stdout.split()
    return words[words.index("src") + 1]


def leftovers(docker):
    """What of ours outlives the teardown."""
    left = []
    for d in (NODE_DIR, K8S_DIR):
        if os.path.exists(d):
            left.append(d)
    with open("/proc/self/mounts") as f:
        left += [ln.split()[1] for ln in f if NODE_DIR in ln.split()[1]]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if NODE_DIR in cmd or K8S_DIR in cmd:
            left.append(f"process {pid}: {cmd[:120]}")
    if run(["iptables", "-t", "nat", "-S", "IL-NODE-SVC"], check=False).returncode == 0:
        left.append("iptables chain nat/IL-NODE-SVC")
    if run(["ip", "link", "show", "il-cni0"], check=False).returncode == 0:
        left.append("bridge il-cni0")
    ids = run([docker, "ps", "-a", "-q", "--filter", "label=com.docker.compose.project"]).stdout.split()
    for cid in ids:
        name = run([docker, "inspect", "-f", "{{index .Config.Labels \"com.docker.compose.project\"}}", cid],
                   check=False).stdout.strip()
        if name.startswith("il-quickstart-"):
            left.append(f"container {cid} of {name}")
    return left


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    bin_dir, source_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    t0 = time.time()
    for opt in ("IL_TEST_SKIP_IMAGES", "IL_TEST_SKIP_NODE"):
        if os.environ.get(opt) == "1":
            print(f"SKIP: {opt}=1 (developer opt-out)")
            return SKIP
    for b in ("il-pause",):
        if not os.access(os.path.join(bin_dir, b), os.X_OK):
            print(f"FAIL: {bin_dir}/{b} is not built")
            return 1
    if os.geteuid() != 0:
        return unavailable("a real node needs root (kubelet, containerd, CNI, iptables)")
    for tool in ("containerd", "runc", "ctr", "iptables"):
        if not shutil.which(tool):
            return unavailable(f"{tool} is not installed (scripts/setup node)")
    if not os.path.exists("/usr/lib/cni/bridge"):
        return unavailable("the CNI plugins are not installed (scripts/setup node)")
    for p in (INTERLINK_PORT, SIDECAR_PORT, 10250):
        if port_open(p):
            print(f"FAIL: port {p} is in use; the quick start's interlink, sidecar and vk need it")
            return 1
    docker, compose, err = docker_and_compose(source_dir)
    if docker is None:
        return unavailable(err)
    if not build_images(source_dir):
        return 1

    os.environ.update({"IL_K8S_DIR": K8S_DIR, **K8S_PORTS})
    cp = ControlPlane(source_dir)
    node = Node(source_dir, bin_dir, docker)
    stack = None
    applied = False
    try:
        t = time.time()
        if not cp.start():
            return unavailable("the Kubernetes control plane cannot be started (scripts/k8s/up)")
        log(f"control plane in {K8S_DIR}: {time.time() - t:.1f}s")

        # --- the real worker node -------------------------------------------------------------
        t = time.time()
        if not node.up():
            print(node.logs())
            return unavailable("the worker node cannot be started (scripts/k8s/node up)")
        log(f"scripts/k8s/node up: node {REAL_NODE} Ready in {time.time() - t:.1f}s")
        node("import", "interlink/vk:latest")

        # --- once per cluster: namespace, the vk's token and kubelet serving cert ---------------
        stack = QuickstartCompose(cp, bin_dir, source_dir, docker, compose)
        cp.kubectl("create", "namespace", NS)
        wait_until("the default service account of vk", lambda: cp.get("serviceaccount", "default", "-n", NS),
                   timeout=60)
        cp.kubectl("-n", NS, "create", "secret", "generic", "vk-token", f"--from-file=token={stack.token}")
        tls = os.path.join(stack.dir, "vk-tls")
        run([os.path.join(source_dir, "scripts/k8s/sign-kubelet-cert"), VK_NODE, tls, node_ip()],
            env={**os.environ, **cp.env})
        cp.kubectl("-n", NS, "create", "secret", "tls", "vk-kubelet-tls",
                   f"--cert={tls}/kubelet.crt", f"--key={tls}/kubelet.key")

        # --- the seed's quick start ------------------------------------------------------------
        t = time.time()
        r = subprocess.run([cp.env["KUBECTL"], "--kubeconfig", cp.env["KUBECONFIG"], "apply", "-n", NS,
                            "-k", "./kustomizations"], cwd=source_dir, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, f"kubectl apply -n vk -k ./kustomizations: {r.stderr}"
        applied = True
        log("kubectl apply -n vk -k ./kustomizations:\n  " + r.stdout.strip().replace("\n", "\n  "))
        stack.start()

        def vk_pod():
            pods = (cp.get("pods", "-n", NS, "-l", f"nodeName={VK_NODE}") or {}).get("items", [])
            running = [p for p in pods if p.get("status", {}).get("phase") == "Running"
                       and all(c.get("ready") for c in p["status"].get("containerStatuses", []))]
            return running[0] if running else None
        try:
            pod = wait_until("the vk Deployment's pod Running", vk_pod, timeout=180, interval=1)
        except AssertionError:
            print(cp.kubectl("describe", "pods", "-n", NS, check=False).stdout[-3000:])
            print(node.logs())
            raise
        assert pod["spec"]["nodeName"] == REAL_NODE, f"vk pod on {pod['spec']['nodeName']}"
        log(f"vk pod {pod['metadata']['name']} Running on the real node {REAL_NODE} "
            f"after {time.time() - t:.1f}s")

        def vk_node_ready():
            n = cp.get("node", VK_NODE) or {}
            return any(c["type"] == "Ready" and c["status"] == "True"
                       for c in n.get("status", {}).get("conditions", []))
        try:
            wait_until(f"virtual node {VK_NODE} Ready", vk_node_ready, timeout=90, interval=1)
        except AssertionError:
            print(cp.kubectl("logs", "-n", NS, pod["metadata"]["name"], "--tail=60", check=False).stdout)
            raise
        log(f"virtual node {VK_NODE} Ready, registered by the pod")

        t = time.time()
        r = subprocess.run([cp.env["KUBECTL"], "--kubeconfig", cp.env["KUBECONFIG"], "apply", "-f",
                            EXAMPLE, "-n", NS], cwd=source_dir, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"kubectl apply -f {EXAMPLE}: {r.stderr}"

        def succeeded():
            p = cp.get("pod", "busyecho", "-n", NS) or {}
            ph = p.get("status", {}).get("phase")
            if ph == "Failed":
                raise AssertionError(f"busyecho Failed: {p.get('status')}")
            return ph == "Succeeded"
        try:
            wait_until("busyecho Succeeded", succeeded, timeout=120, interval=0.5)
        except AssertionError:
            print(cp.kubectl("logs", "-n", NS, pod["metadata"]["name"], "--tail=60", check=False).stdout)
            print(stack.logs())
            raise
        busy = cp.get("pod", "busyecho", "-n", NS)
        assert busy["spec"]["nodeName"] == VK_NODE, busy["spec"].get("nodeName")
        out = cp.kubectl("logs", "busyecho", "-n", NS).stdout
        assert out == "Hello from container\n", f"kubectl logs busyecho: {out!r}"
        log(f"busyecho Succeeded on {VK_NODE} in {time.time() - t:.1f}s; kubectl logs: {out!r}")
        print(cp.kubectl("get", "pods", "-n", NS, "-o", "wide").stdout, flush=True)
        uid = busy["metadata"]["uid"]

        def pod_containers():
            return run([docker, "ps", "-a", "-q", "--filter", f"label=io.kubernetes.pod.uid={uid}"]).stdout.split()
        assert pod_containers(), "no container of busyecho on dockerd"
        cp.kubectl("delete", "-f", os.path.join(source_dir, EXAMPLE), "-n", NS, "--wait=true", timeout=90)
        wait_until("busyecho's containers to be removed", lambda: pod_containers() == [], timeout=60)
    finally:
        if applied:
            r = subprocess.run([cp.env["KUBECTL"], "--kubeconfig", cp.env["KUBECONFIG"], "delete", "-n", NS,
                                "-k", "./kustomizations", "--wait=true", "--timeout=90s"],
                               cwd=source_dir, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                log(f"kubectl delete -k: {r.stderr.strip()}")
        if stack:
            stack.close()
        if cp.env:
            cp.kubectl("delete", "node", VK_NODE, "--ignore-not-found", check=False)
            cp.kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false", check=False)
        node.down()
        cp.close()
    left = leftovers(docker)
    assert not left, f"left behind: {left}"
    log("teardown: no node processes, mounts, bridge, iptables chain, state dirs or containers left")
    print(f"e2e.quickstart: PASS in {time.time() - t0:.1f}s (wall, this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
