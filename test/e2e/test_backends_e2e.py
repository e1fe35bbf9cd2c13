#!/usr/bin/env python3
"""End-to-end tests of real back-ends on the local Kubernetes control plane: kubectl -> bin/vk ->
bin/interlink -> bin/docker-sd (Docker engine) or bin/slurm-sd (one-node Slurm, runtime `none`).

Usage: test_backends_e2e.py BIN_DIR SOURCE_DIR [unittest args, e.g. Docker or Slurm]
A back-end whose service cannot be started (scripts/docker/up, scripts/slurm/up) is skipped;
exits 77 when the control plane cannot be started or every selected back-end was skipped.
Services are stopped afterwards only when this process started them.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, Sidecar, Stack, wait_until  # noqa: E402

BIN_DIR = SOURCE_DIR = None
CP = None
IMAGE = "interlink-test/busybox:latest"


class Service:
    """scripts/<name>/up when `answers` fails; down at exit only if started here."""

    def __init__(self, name, answers):
        self.name, self.answers, self.started_here, self.env, self.error = name, answers, False, None, ""

    def env_file(self):
        return os.path.join(os.environ.get(f"IL_{self.name.upper()}_DIR", f"/tmp/interlink-{self.name}"), "env")

    def read_env(self):
        env = {}
        if os.path.exists(self.env_file()):
            with open(self.env_file()) as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("export ") and "=" in line:
                        k, v = line[len("export "):].split("=", 1)
                        env[k] = v.strip("'\"")
        return env

    def ensure(self):
        if self.env is None and not self.error:
            if not (os.path.exists(self.env_file()) and self.answers(self.read_env())):
                r = subprocess.run([os.path.join(SOURCE_DIR, f"scripts/{self.name}/up")],
                                   capture_output=True, text=True, timeout=900)
                if r.returncode != 0 or not self.answers(self.read_env()):
                    self.error = f"scripts/{self.name}/up failed: {r.stderr[-1500:]}"
                    return None
                self.started_here = True
            self.env = self.read_env()
        return self.env

    def close(self):
        if self.started_here:
            subprocess.run([os.path.join(SOURCE_DIR, f"scripts/{self.name}/down")],
                           capture_output=True, timeout=300)


def _ok(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None


DOCKER = Service("docker", lambda e: (lambda r: r is not None and r.returncode == 0)(
    _ok([e.get("DOCKER", "docker"), "image", "inspect", IMAGE])))
SLURM = Service("slurm", lambda e: (lambda r: r is not None and " is UP" in r.stdout)(
    _ok([e.get("SCONTROL", "scontrol"), "ping"])))


class BackendStack(Stack):
    """A Stack whose sidecar is `binary` with its own config file (`sidecar_yaml` lines);
    its pods are deleted on close while the stack still runs, so the back-end cleans up."""

    def __init__(self, cp, bin_dir, binary, service, sidecar_yaml, sidecar_env=None):
        super().__init__(cp, bin_dir, sidecar=Sidecar(binary, service, config=sidecar_yaml, env=sidecar_env,
                                                      drain_on_close=True))


def phase(stack, name):
    p = stack.pod(name)
    return p and p.get("status", {}).get("phase")


class BackendTest(unittest.TestCase):
    service = None
    stack = None

    @classmethod
    def make_stack(cls, env):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        env = cls.service.ensure()
        if env is None:
            raise unittest.SkipTest(f"{cls.service.name} cannot be started: {cls.service.error}")
        cls.stack = cls.make_stack(env)
        try:
            cls.stack.start()
            wait_until("node Ready", lambda: any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (CP.get("node", cls.stack.node) or {}).get("status", {}).get("conditions", [])),
                timeout=60)
        except Exception:
            print(cls.stack.logs())
            cls.stack.close()
            cls.stack = None
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.stack:
            cls.stack.close()

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and self.stack and len(result.failures) + len(result.errors) > failures:
            print(self.stack.logs())
        return out

    def wait_phase(self, name, want, timeout=90):
        def check():
            p = phase(self.stack, name)
            if p == "Failed" and want != "Failed":
                raise AssertionError(f"pod {name} Failed: {self.stack.pod(name).get('status')}")
            return p == want
        return wait_until(f"pod {name} {want}", check, timeout)


class Docker(BackendTest):
    service = DOCKER

    @classmethod
    def make_stack(cls, env):
        return BackendStack(CP, BIN_DIR, "docker-sd", "docker", f"DockerPath: {env.get('DOCKER', 'docker')}\n")

    def containers(self, uid):
        r = subprocess.run([DOCKER.env.get("DOCKER", "docker"), "ps", "-a", "-q", "--filter",
                            f"label=io.kubernetes.pod.uid={uid}"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    def test_configmap_secret_env_logs_and_delete(self):
        s, ns = self.stack, self.stack.namespace
        CP.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
                  "data": {"key": "config-value-42"}})
        CP.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec", "namespace": ns},
                  "stringData": {"pass": "s3cret; $HOME"}})
        containers = [{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                       "command": ["sh", "-c", 'cat /cfg/key; echo; cat /sec/pass; echo; echo "$MYENV"'],
                       "env": [{"name": "MYENV", "value": "env 'value' \"x\""}],
                       "volumeMounts": [{"name": "c", "mountPath": "/cfg"}, {"name": "s", "mountPath": "/sec"}]}]
        CP.apply(s.pod_spec("values", containers=containers,
                            volumes=[{"name": "c", "configMap": {"name": "cfg"}},
                                     {"name": "s", "secret": {"secretName": "sec"}}]))
        self.wait_phase("values", "Succeeded")
        uid = s.pod("values")["metadata"]["uid"]
        cs = s.pod("values")["status"]["containerStatuses"][0]
        self.assertEqual(cs["state"]["terminated"]["exitCode"], 0)
        self.assertTrue(cs.get("containerID", "").startswith("docker://"), cs)
        out = CP.kubectl("logs", "values", "-n", ns).stdout
        self.assertEqual(out, "config-value-42\ns3cret; $HOME\nenv 'value' \"x\"\n")
        self.assertEqual(len(self.containers(uid)), 1)
        CP.kubectl("delete", "pod", "values", "-n", ns, "--wait=true", timeout=90)
        wait_until("the pod's containers to be removed", lambda: self.containers(uid) == [], timeout=30)

    def test_delete_of_a_running_pod_removes_its_containers(self):
        s, ns = self.stack, self.stack.namespace
        CP.apply(s.pod_spec("forever", containers=[{"name": "main", "image": IMAGE, "imagePullPolicy": "Never",
                                                     "command": ["sleep", "3600"]}]))
        self.wait_phase("forever", "Running")
        uid = s.pod("forever")["metadata"]["uid"]
        self.assertEqual(len(self.containers(uid)), 1)
        CP.kubectl("delete", "pod", "forever", "-n", ns, "--wait=true", timeout=90)
        self.assertIsNone(s.pod("forever"))
        wait_until("the pod's containers to be removed", lambda: self.containers(uid) == [], timeout=30)


class Slurm(BackendTest):
    service = SLURM

    @classmethod
    def make_stack(cls, env, extra_yaml=""):
        keys = {"SbatchPath": "SBATCH", "ScancelPath": "SCANCEL", "SqueuePath": "SQUEUE",
                "SacctPath": "SACCT", "SinfoPath": "SINFO", "ScontrolPath": "SCONTROL"}
        yaml = "".join(f"{k}: {env[v]}\n" for k, v in keys.items() if env.get(v))
        yaml += (f"Partition: {env.get('IL_SLURM_PARTITION') or 'debug'}\nContainerRuntime: none\n"
                 "StatusCacheSeconds: 0.5\n" + extra_yaml)
        return BackendStack(CP, BIN_DIR, "slurm-sd", "slurm", yaml,
                            {"USER": os.environ.get("USER", "root")})

    def squeue(self, uid):
        """Slurm's record of the pod's job: {id: state} (finished jobs stay for MinJobAge)."""
        r = subprocess.run([SLURM.env.get("SQUEUE", "squeue"), "--noheader", "--states=all",
                            f"--name=il-{uid}", "--format=%i %T"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return dict(line.split() for line in r.stdout.splitlines() if line.strip())

    def test_job_runs_in_slurm_and_logs_reach_kubectl(self):
        s, ns = self.stack, self.stack.namespace
        CP.apply(s.pod_spec("job", containers=[{
            "name": "main", "image": IMAGE, "command": ["sh", "-c", 'echo "hello from $SLURM_JOB_ID $MYENV"'],
            "env": [{"name": "MYENV", "value": "env-value"}]}]))
        self.wait_phase("job", "Succeeded")
        p = s.pod("job")
        uid = p["metadata"]["uid"]
        jobs = self.squeue(uid)
        self.assertEqual(len(jobs), 1, jobs)
        job_id, state = next(iter(jobs.items()))
        self.assertEqual(state, "COMPLETED")
        self.assertEqual(p["metadata"]["annotations"].get("JobID"), job_id)
        self.assertEqual(p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0)
        out = CP.kubectl("logs", "job", "-n", ns).stdout
        self.assertEqual(out, f"hello from {job_id} env-value\n")
        CP.kubectl("delete", "pod", "job", "-n", ns, "--wait=true", timeout=90)

    def test_delete_of_a_running_pod_cancels_the_job(self):
        s, ns = self.stack, self.stack.namespace
        CP.apply(s.pod_spec("forever", containers=[{"name": "main", "image": IMAGE,
                                                     "command": ["sleep", "3600"]}]))
        self.wait_phase("forever", "Running")
        uid = s.pod("forever")["metadata"]["uid"]
        self.assertEqual(list(self.squeue(uid).values()), ["RUNNING"])
        CP.kubectl("delete", "pod", "forever", "-n", ns, "--wait=true", timeout=90)
        self.assertIsNone(s.pod("forever"))
        wait_until("the job to be cancelled", lambda: all(
            st in ("CANCELLED", "COMPLETED") for st in self.squeue(uid).values()), timeout=30)
        self.assertIn(list(self.squeue(uid).values()), ([], ["CANCELLED"]))


def main():
    global BIN_DIR, SOURCE_DIR, CP
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    BIN_DIR, SOURCE_DIR = sys.argv[1], sys.argv[2]
    for b in ("vk", "interlink", "docker-sd", "slurm-sd"):
        if not os.access(os.path.join(BIN_DIR, b), os.X_OK):
            print(f"SKIP: {BIN_DIR}/{b} is not built")
            return SKIP
    CP = ControlPlane(SOURCE_DIR)
    if not CP.start():
        print("SKIP: the Kubernetes control plane cannot be started (scripts/k8s/up)")
        CP.close()
        return SKIP
    try:
        prog = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:], exit=False)
        r = prog.result
        if not r.wasSuccessful():
            return 1
        ran = r.testsRun - sum(1 for t, _ in r.skipped if isinstance(t, unittest.TestCase))
        return SKIP if ran <= 0 else 0  # every selected back-end was skipped
    finally:
        SLURM.close()
        DOCKER.close()
        CP.close()


if __name__ == "__main__":
    sys.exit(main())
