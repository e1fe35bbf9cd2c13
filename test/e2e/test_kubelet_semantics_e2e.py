#!/usr/bin/env python3
"""Kubelet semantics end to end on real back-ends: probes, lifecycle hooks, termination
messages and multi-container phases, as kubectl sees them through bin/vk -> bin/interlink ->
bin/docker-sd (Docker engine) or bin/slurm-sd (one-node Slurm, runtime `none`).

Usage: test_kubelet_semantics_e2e.py BIN_DIR SOURCE_DIR [unittest args, e.g. Docker or Slurm]
Exits 77 when the control plane cannot be started or every selected back-end was skipped.
"""
import glob
import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_backends_e2e as be  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, wait_until  # noqa: E402

IMAGE = be.IMAGE
# Marker files get names of their own per run and pod: under slurm-sd's runtime `none` the
# containers share the node's /tmp, where an earlier run's /tmp/ready would pass a probe at once.
RUN = uuid.uuid4().hex[:12]


def marker(pod, what):
    return f"/tmp/il-sem-{RUN}-{pod}-{what}"


def container(name, script, **extra):
    c = {"name": name, "image": IMAGE, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script]}
    c.update(extra)
    return c


# A main process that ends on SIGTERM (a plain `sleep` as PID 1 ignores it and waits for the
# SIGKILL at the end of the grace period, as on a real kubelet).
TERM_EXITS = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


def exec_probe(cmd, period=1, **extra):
    p = {"exec": {"command": ["sh", "-c", cmd]}, "periodSeconds": period, "timeoutSeconds": 5}
    p.update(extra)
    return p


class Semantics:
    """Tests shared by the back-ends; mixed into be.BackendTest subclasses below."""

    # Whether terminationMessagePath is a file the container can write (slurm-sd's runtime
    # `none` has no mount namespace; podman is covered by integration.slurm_probes).
    termination_file = True

    def tearDown(self):
        # Every test's pods go, so a failed one does not hold the one-node Slurm's CPUs.
        be.CP.kubectl("delete", "pods", "--all", "-n", self.stack.namespace, "--wait=true",
                      "--timeout=90s", check=False, timeout=120)

    def status_of(self, name, container_name="main"):
        p = self.stack.pod(name) or {}
        for c in p.get("status", {}).get("containerStatuses", []):
            if c["name"] == container_name:
                return c
        return {}

    def condition(self, name, type_):
        p = self.stack.pod(name) or {}
        for c in p.get("status", {}).get("conditions", []):
            if c["type"] == type_:
                return c.get("status")
        return None

    def events(self, name):
        items = be.CP.get("events", "-n", self.stack.namespace,
                          "--field-selector", f"involvedObject.name={name}")
        return (items or {}).get("items", [])

    def test_readiness_probe_gates_ready_and_posts_unhealthy_events(self):
        s = self.stack
        be.CP.apply(s.pod_spec("ready", restart="Always", containers=[container(
            "main", f"sleep 8; touch {marker('ready', 'ok')}; sleep 3600",
            readinessProbe=exec_probe(f"cat {marker('ready', 'ok')}"))]))
        self.wait_phase("ready", "Running", timeout=120)
        # Running and started (no startup probe; docker-sd may report started one status pass
        # after running), but not ready until the probe passes.
        wait_until("started", lambda: self.status_of("ready").get("started"), timeout=30)
        st = self.status_of("ready")
        self.assertFalse(st.get("ready"), st)
        self.assertEqual(self.condition("ready", "Ready"), "False")
        wait_until("an Unhealthy event on the container", lambda: [
            e for e in self.events("ready") if e["reason"] == "Unhealthy"
            and e["message"].startswith("Readiness probe failed")
            and e["involvedObject"].get("fieldPath") == "spec.containers{main}"], timeout=60)
        wait_until("Ready", lambda: self.condition("ready", "Ready") == "True", timeout=90)
        self.assertTrue(self.status_of("ready").get("ready"))
        self.assertEqual(self.condition("ready", "ContainersReady"), "True")

    def test_startup_probe_holds_started_and_liveness_failure_restarts(self):
        s = self.stack
        # The startup probe passes after ~5 s; liveness then fails on a file that never exists:
        # the container is killed and restarted (Always), restartCount and lastState show it.
        be.CP.apply(s.pod_spec("live", restart="Always", containers=[container(
            "main", f"sleep 5; touch {marker('live', 'started')}; sleep 3600",
            startupProbe=exec_probe(f"cat {marker('live', 'started')}", failureThreshold=60),
            livenessProbe=exec_probe(f"cat {marker('live', 'never')}", failureThreshold=2))]))
        self.wait_phase("live", "Running", timeout=120)
        self.assertFalse(self.status_of("live").get("started"), self.status_of("live"))
        wait_until("started after the startup probe", lambda: self.status_of("live").get("started"),
                   timeout=60)
        wait_until("a restart after the liveness failure",
                   lambda: self.status_of("live").get("restartCount", 0) >= 1, timeout=120)
        st = self.status_of("live")
        self.assertIn("terminated", st.get("lastState", {}), st)
        reasons = {e["reason"] for e in self.events("live")}
        self.assertIn("Unhealthy", reasons)
        self.assertIn("Killing", reasons)

    def test_liveness_failure_under_never_ends_terminated(self):
        s = self.stack
        be.CP.apply(s.pod_spec("live-never", restart="Never", containers=[container(
            "main", "sleep 3600", livenessProbe=exec_probe("exit 1", failureThreshold=1))]))
        self.wait_phase("live-never", "Failed", timeout=120)
        st = self.status_of("live-never")
        self.assertIn("terminated", st["state"], st)
        self.assertNotEqual(st["state"]["terminated"]["exitCode"], 0)
        self.assertEqual(st.get("restartCount", 0), 0)

    def test_post_start_hook_runs_before_the_container_counts_as_running(self):
        s = self.stack
        f = marker("hook", "hooked")
        script = (f'for i in $(seq 40); do [ -f {f} ] && {{ cat {f}; exit 0; }}; sleep 0.25; done; '
                  'echo no hook; exit 1')
        be.CP.apply(s.pod_spec("hook", containers=[container(
            "main", script, lifecycle={"postStart": {"exec": {"command": ["sh", "-c", f"echo hooked > {f}"]}}})]))
        self.wait_phase("hook", "Succeeded", timeout=120)
        self.assertEqual(be.CP.kubectl("logs", "hook", "-n", s.namespace).stdout, "hooked\n")

    def test_failing_post_start_hook_kills_the_container(self):
        s = self.stack
        # `sleep` ignores SIGTERM as PID 1: killed at the end of the 2 s grace period (137).
        be.CP.apply(s.pod_spec("badhook", restart="Never", terminationGracePeriodSeconds=2,
                               containers=[container("main", "sleep 3600", lifecycle={
                                   "postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}})]))
        self.wait_phase("badhook", "Failed", timeout=120)
        st = self.status_of("badhook")
        # 137 when PID 1 ignores SIGTERM (Docker), 143 when the shell dies of it (runtime none).
        self.assertIn(st["state"]["terminated"]["exitCode"], (137, 143), st)
        wait_until("a FailedPostStartHook event", lambda: [
            e for e in self.events("badhook") if e["reason"] == "FailedPostStartHook"], timeout=60)

    def test_pre_stop_hook_runs_within_the_grace_period_on_delete(self):
        s = self.stack
        be.CP.apply(s.pod_spec("prestop", restart="Always", terminationGracePeriodSeconds=30,
                               containers=[container("main", TERM_EXITS, lifecycle={
                                   "preStop": {"exec": {"command": ["sh", "-c", "sleep 4"]}}})]))
        self.wait_phase("prestop", "Running", timeout=120)
        t0 = time.monotonic()
        be.CP.kubectl("delete", "pod", "prestop", "-n", s.namespace, "--wait=true", timeout=120)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 4.0, "the preStop hook's sleep 4 did not delay the stop")
        self.assertLess(took, 20.0, "the container should stop on SIGTERM right after the hook")

    def test_termination_message_file_and_fallback_to_logs(self):
        s = self.stack
        be.CP.apply(s.pod_spec("msg", restart="Never", containers=[
            container("file", "printf 'bad thing happened' > /dev/termination-log; exit 3"),
            container("logs", "echo first; echo last words; exit 2",
                      terminationMessagePolicy="FallbackToLogsOnError"),
            container("ok", "echo fine; exit 0", terminationMessagePolicy="FallbackToLogsOnError")]))
        self.wait_phase("msg", "Failed", timeout=120)
        f = self.status_of("msg", "file")["state"]["terminated"]
        self.assertEqual(f["exitCode"], 3)
        if self.termination_file:
            self.assertEqual(f.get("message"), "bad thing happened")
        lg = self.status_of("msg", "logs")["state"]["terminated"]
        self.assertEqual(lg["exitCode"], 2)
        self.assertIn("last words", lg.get("message", ""))
        ok = self.status_of("msg", "ok")["state"]["terminated"]
        self.assertEqual((ok["exitCode"], ok.get("message", "")), (0, ""))

    def test_all_containers_run_and_end_with_their_own_codes(self):
        s = self.stack
        names = [f"multi-{i}" for i in range(3)]
        for n in names:
            be.CP.apply(s.pod_spec(n, restart="Never", containers=[
                container("a", "echo a-out; exit 0"),
                container("b", "sleep 2; echo b-out; exit 4"),
                container("c", "sleep 4; echo c-out; exit 0")]))
        for n in names:
            self.wait_phase(n, "Failed", timeout=180)
            codes = {c: self.status_of(n, c)["state"]["terminated"]["exitCode"] for c in "abc"}
            self.assertEqual(codes, {"a": 0, "b": 4, "c": 0}, n)
            for c in "abc":
                out = be.CP.kubectl("logs", n, "-c", c, "-n", s.namespace).stdout
                self.assertEqual(out, f"{c}-out\n", f"{n}/{c}")


class Docker(Semantics, be.BackendTest):
    service = be.DOCKER

    @classmethod
    def make_stack(cls, env):
        return be.Docker.make_stack(env)


class Slurm(Semantics, be.BackendTest):
    service = be.SLURM
    termination_file = False

    @classmethod
    def make_stack(cls, env):
        # Probes run inside the job only with EnableProbes (upstream's key; off by default).
        return be.Slurm.make_stack(env, "EnableProbes: true\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    be.BIN_DIR, be.SOURCE_DIR = sys.argv[1], sys.argv[2]
    for b in ("vk", "interlink", "docker-sd", "slurm-sd"):
        if not os.access(os.path.join(be.BIN_DIR, b), os.X_OK):
            print(f"SKIP: {be.BIN_DIR}/{b} is not built")
            return SKIP
    be.CP = ControlPlane(be.SOURCE_DIR)
    if not be.CP.start():
        print("SKIP: the Kubernetes control plane cannot be started (scripts/k8s/up)")
        be.CP.close()
        return SKIP
    try:
        prog = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:], exit=False)
        r = prog.result
        if not r.wasSuccessful():
            return 1
        ran = r.testsRun - sum(1 for t, _ in r.skipped if isinstance(t, unittest.TestCase))
        return SKIP if ran <= 0 else 0
    finally:
        for f in glob.glob(f"/tmp/il-sem-{RUN}-*"):  # left on the node by runtime `none`
            os.unlink(f)
        be.SLURM.close()
        be.DOCKER.close()
        be.CP.close()


if __name__ == "__main__":
    sys.exit(main())
