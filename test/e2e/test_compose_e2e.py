#!/usr/bin/env python3
"""End-to-end test of the images and docker-compose.yaml (issue 12, items 1 and 2).

1. scripts/images/build: the Debian 12 base (debootstrap + docker import) and every Dockerfile.*
   on it (cached: an unchanged tree is all cache hits); it fails when an image is over budget.
2. The images: non-root, only runtime libraries (the binary runs: --help / ldd clean).
3. docker-compose.yaml, unmodified, with `docker compose` (v2) or `docker-compose` (v1):
   interlink and docker-sidecar run as containers with the config and the vk token mounted
   from files; bin/vk on the host (as in the other e2e tests) reaches them; a pod runs through
   them on dockerd to Succeeded and `kubectl logs` shows its output.
4. `compose down` leaves nothing of ours: no containers, networks or volumes of the project,
   and the pod's containers are gone.

Usage: test_compose_e2e.py BIN_DIR SOURCE_DIR
Exit 77 (skip) only as a developer's opt-out: IL_TEST_SKIP_IMAGES=1, or a missing service while
IL_REQUIRE_SERVICES is not 1 (scripts/test sets it; in CI a service that cannot start fails).
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, Daemon, Stack, wait_until  # noqa: E402

BUSYBOX = "interlink-test/busybox:latest"
IMAGES = {"interlink": "interlink/interlink:latest", "vk": "interlink/vk:latest",
          "sidecar-docker": "interlink/interlink-sidecar-docker:latest",
          "sidecar-slurm": "interlink/interlink-sidecar-slurm:latest"}
BINARY = {"interlink": "interlink", "vk": "vk", "sidecar-docker": "docker-sd",
          "sidecar-slurm": "slurm-sd"}


def log(msg):
    print(f"compose-e2e: {msg}", flush=True)


def run(argv, check=True, timeout=120, env=None, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def unavailable(msg):
    """A service we need is missing: a skip for a developer, a failure where services are required."""
    if os.environ.get("IL_REQUIRE_SERVICES") == "1":
        print(f"FAIL: {msg} (IL_REQUIRE_SERVICES=1)")
        return 1
    print(f"SKIP: {msg}")
    return SKIP


def docker_env(source_dir):
    """scripts/docker/up (idempotent: reuses a running dockerd) and the env file it writes."""
    r = run([os.path.join(source_dir, "scripts/docker/up")], check=False, timeout=600)
    if r.returncode != 0:
        return None, r.stderr[-1500:]
    env = {}
    with open(os.path.join(os.environ.get("IL_DOCKER_DIR", "/tmp/interlink-docker"), "env")) as f:
        for line in f:
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].strip().split("=", 1)
                env[k] = v.strip("'\"")
    return env, ""


def compose_command(docker):
    """`docker compose` (v2 plugin) where it exists, else Debian's docker-compose (v1)."""
    if run([docker, "compose", "version"], check=False).returncode == 0:
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def docker_and_compose(source_dir):
    """(docker, compose argv, "") with dockerd up, or (None, None, why not)."""
    denv, err = docker_env(source_dir)
    if denv is None:
        return None, None, f"dockerd cannot be started (scripts/docker/up): {err}"
    docker = denv.get("DOCKER", "docker")
    compose = compose_command(docker)
    if compose is None:
        return None, None, "neither `docker compose` nor `docker-compose` (scripts/setup docker)"
    return docker, compose, ""


class ComposeStack(Stack):
    """vk on the host (the harness's Stack), interlink + docker-sidecar from docker-compose.yaml."""

    def __init__(self, cp, bin_dir, source_dir, docker, compose):
        super().__init__(cp, bin_dir, proxy=False)
        self.docker, self.compose_cmd = docker, compose
        self.project = "il-compose-" + uuid.uuid4().hex[:8]
        # The containers' view: config and secrets in their own directories (mounted read-only),
        # DataRootFolder mounted at the same path. The host's vk keeps the harness's config.
        cdir = os.path.join(self.dir, "compose")
        self.config_dir, self.secrets_dir = os.path.join(cdir, "config"), os.path.join(cdir, "secrets")
        self.data_root = os.path.join(cdir, "data")
        for d in (self.config_dir, self.secrets_dir):
            os.makedirs(d, mode=0o755)
        os.chmod(cdir, 0o755)
        shutil.copy(self.token, os.path.join(self.secrets_dir, "vk-token"))
        for p in (self.secrets_dir, os.path.join(self.secrets_dir, "vk-token")):
            os.chown(p, 10001, 10001)  # interlink runs as uid 10001; nobody else may read it
        os.chmod(self.secrets_dir, 0o700)
        os.chmod(os.path.join(self.secrets_dir, "vk-token"), 0o600)
        with open(self.config) as f:
            lines = [ln for ln in f if not ln.startswith(("VKTokenFile:", "DataRootFolder:", "Mock"))]
        with open(os.path.join(self.config_dir, "InterLinkConfig.yaml"), "w") as f:
            f.write("".join(lines) + 'VKTokenFile: "/run/secrets/interlink/vk-token"\n'
                    f'DataRootFolder: "{self.data_root}"\nDockerPath: "docker"\n')
        os.chmod(os.path.join(self.config_dir, "InterLinkConfig.yaml"), 0o644)
        self.compose_file = os.path.join(source_dir, "docker-compose.yaml")
        self.env = {**os.environ, "IL_CONFIG_DIR": self.config_dir, "IL_SECRETS_DIR": self.secrets_dir,
                    "IL_DATA_ROOT": self.data_root, "INTERLINKPORT": str(self.interlink_port),
                    "SIDECARPORT": str(self.sidecar_port), "SIDECARSERVICE": "docker"}
        self.up = False

    def compose(self, *args, timeout=180, check=True):
        return run(self.compose_cmd + ["-f", self.compose_file, "-p", self.project, *args],
                   env=self.env, timeout=timeout, check=check)

    def start(self):
        try:
            t = time.time()
            self.up = True
            self.compose("up", "-d", "--no-build")
            wait_until("docker-sidecar to listen", lambda: self._port_open(self.sidecar_port), timeout=60)
            wait_until("interlink to listen", lambda: self._port_open(self.interlink_port), timeout=60)
            log(f"compose up: both containers listen after {time.time() - t:.1f}s")
            self.cp.kubectl("create", "namespace", self.namespace)
            wait_until("the default service account", lambda: self.cp.get(
                "serviceaccount", "default", "-n", self.namespace), timeout=60)
            self.daemons["vk"] = Daemon("vk", self.vk_argv(), {"INTERLINKCONFIGPATH": self.config,
                                                             "KUBECONFIG": self.cp.env["KUBECONFIG"]}, self.dir)
            self.start_vk()
            return self
        except BaseException:
            print(self.logs())
            self.close()
            raise

    def containers(self, service=None):
        f = [f"label=com.docker.compose.project={self.project}"]
        if service:
            f.append(f"label=com.docker.compose.service={service}")
        argv = [self.docker, "ps", "-a", "-q"]
        for x in f:
            argv += ["--filter", x]
        return run(argv).stdout.split()

    def logs(self):
        out = super().logs()
        if self.up:
            out += "\n----- compose logs -----\n" + self.compose("logs", "--no-color", "--tail", "60",
                                                               check=False).stdout
        return out

    def down(self):
        if self.up:
            self.compose("down", "--volumes", "--remove-orphans", check=False)
            self.up = False

    def close(self):
        if "vk" in self.daemons:
            # Pods first, while vk, interlink and the sidecar still run, so the back-end cleans up.
            self.cp.kubectl("delete", "pods", "--all", "-n", self.namespace, "--wait=true",
                            "--timeout=60s", check=False, timeout=90)
            self.daemons.pop("vk").stop()
        self.down()
        shutil.rmtree(self.data_root, ignore_errors=True)
        super().close()


def build_images(source_dir):
    """scripts/images/build: base and images (cached); it prints sizes and fails over budget."""
    t = time.time()
    sys.stdout.flush()
    # Its progress (a cold build compiles for about 15 minutes) goes straight to our output.
    r = subprocess.run([os.path.join(source_dir, "scripts/images/build")], stdout=subprocess.DEVNULL,
                       stderr=sys.stdout, timeout=3600)
    if r.returncode != 0:
        print("FAIL: scripts/images/build failed")
        return False
    log(f"scripts/images/build: {time.time() - t:.1f}s")
    return True


def check_images(docker):
    for key, image in IMAGES.items():
        cfg = json.loads(run([docker, "image", "inspect", image]).stdout)[0]["Config"]
        assert cfg.get("User") == "10001:10001", f"{image} runs as {cfg.get('User')!r}, not 10001:10001"
        binary = BINARY[key]
        r = run([docker, "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                 f"id -u; ! ldd /usr/local/bin/{binary} | grep 'not found'; "
                 f"/usr/local/bin/{binary} --help >/dev/null 2>&1 || /usr/local/bin/{binary} --version"],
                check=False)
        assert r.returncode == 0 and r.stdout.split()[0] == "10001", f"{image}: {r.stdout} {r.stderr}"
        # Only runtime libraries: no compiler, no -dev headers.
        r = run([docker, "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                 "dpkg-query -W -f '${Package}\\n' | grep -E -- '-dev$|^(gcc|g\\+\\+|cpp)(-[0-9]+)?$|^cmake$' || true"])
        assert r.stdout.strip() == "", f"{image} has build packages: {r.stdout.split()}"
    log("images: all run as uid 10001, their binaries start, no build packages inside")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    bin_dir, source_dir = sys.argv[1], sys.argv[2]
    t0 = time.time()
    if os.environ.get("IL_TEST_SKIP_IMAGES") == "1":
        print("SKIP: IL_TEST_SKIP_IMAGES=1 (developer opt-out)")
        return SKIP
    if not os.access(os.path.join(bin_dir, "vk"), os.X_OK):
        print(f"FAIL: {bin_dir}/vk is not built")
        return 1
    docker, compose, err = docker_and_compose(source_dir)
    if docker is None:
        return unavailable(err)
    if not shutil.which("debootstrap"):
        return unavailable("debootstrap is not installed (scripts/setup docker)")

    if not build_images(source_dir):
        return 1
    check_images(docker)

    cp = ControlPlane(source_dir)
    if not cp.start():
        cp.close()
        return unavailable("the Kubernetes control plane cannot be started (scripts/k8s/up)")
    stack = None
    try:
        log(f"compose: {' '.join(compose)}")
        stack = ComposeStack(cp, bin_dir, source_dir, docker, compose).start()
        ns = stack.namespace
        # Non-root where it can be: interlink as uid 10001 (the sidecar is root: docker.sock).
        il = stack.containers("interlink")
        assert len(il) == 1 and len(stack.containers("docker-sidecar")) == 1, stack.containers()
        assert run([docker, "exec", il[0], "id", "-u"]).stdout.strip() == "10001"
        # The token came from the mounted file: interlink refuses a request without it.
        r = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                 f"http://127.0.0.1:{stack.interlink_port}/pinglink"], check=False)
        assert r.stdout == "401", f"interlink without the token answered {r.stdout}, want 401"

        wait_until("node Ready", lambda: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (cp.get("node", stack.node) or {}).get("status", {}).get("conditions", [])), timeout=60)
        t = time.time()
        cp.apply(stack.pod_spec("hello", containers=[{
            "name": "main", "image": BUSYBOX, "imagePullPolicy": "Never",
            "command": ["sh", "-c", "echo hello from compose; echo uid=$(id -u)"]}]))

        def succeeded():
            p = stack.pod("hello") or {}
            ph = p.get("status", {}).get("phase")
            if ph == "Failed":
                raise AssertionError(f"pod Failed: {p.get('status')}")
            return ph == "Succeeded"
        try:
            wait_until("pod hello Succeeded", succeeded, timeout=120)
        except AssertionError:
            print(stack.logs())
            raise
        uid = stack.pod("hello")["metadata"]["uid"]
        out = cp.kubectl("logs", "hello", "-n", ns).stdout
        assert out == "hello from compose\nuid=0\n", f"kubectl logs: {out!r}"
        log(f"pod Succeeded through the compose containers in {time.time() - t:.1f}s; logs: {out!r}")

        def pod_containers():
            return run([docker, "ps", "-a", "-q", "--filter", f"label=io.kubernetes.pod.uid={uid}"]).stdout.split()
        assert pod_containers(), "no container of the pod on dockerd"
        cp.kubectl("delete", "pod", "hello", "-n", ns, "--wait=true", timeout=90)
        wait_until("the pod's containers to be removed", lambda: pod_containers() == [], timeout=60)

        for svc in ("interlink", "docker-sidecar"):
            health = lambda: run([docker, "inspect", "-f", "{{.State.Health.Status}}",  # noqa: E731
                                  stack.containers(svc)[0]]).stdout.strip()
            wait_until(f"{svc} healthy", lambda: health() == "healthy", timeout=60)
        log("both containers report healthy (HEALTHCHECK il-healthz)")

        # 4. down leaves nothing of ours behind.
        stack.daemons.pop("vk").stop()
        stack.down()
        lbl = f"label=com.docker.compose.project={stack.project}"
        left = {kind: run([docker, kind, "ls", "-q", "--filter", lbl] + (["-a"] if kind == "container" else [])).stdout.split()
                for kind in ("container", "network", "volume")}
        assert not any(left.values()), f"left behind after down: {left}"
        assert pod_containers() == [], "the pod's containers outlived down"
        log("compose down: no containers, networks or volumes of the project left")
        print(f"e2e.compose: PASS in {time.time() - t0:.1f}s (wall, this run)")
        return 0
    finally:
        if stack:
            stack.close()
        cp.close()


if __name__ == "__main__":
    sys.exit(main())
