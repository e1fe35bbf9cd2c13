#!/usr/bin/env python3
"""Integration test: probes, lifecycle hooks and termination messages of bin/docker-sd (issue 13).

Runs the real docker-sd against the real Docker engine (scripts/docker/up; exit 77 = skip only
when no engine can be started), as test_docker_sd.py does, and checks what the kubelet would
show: readiness flapping, HTTP/TCP/exec/gRPC handlers (they reach the pod through its own
network namespace: the engine runs with --bridge=none, so pods have no address; the gRPC
health server is grpc_health_server.py run by the host's /usr/bin/python3 inside the pod's
namespace with nsenter), httpGet following a same-host redirect, a liveness
failure with each restart policy (restartCount, lastState, events), startup gating, postStart
seen by the main process and failing, preStop on delete, termination messages (File and
FallbackToLogsOnError), pods whose containers end at different times with different codes,
and a kill -9 of docker-sd in the middle.

Usage: test_docker_sd_probes.py --bin-dir BUILD/bin --source-dir REPO [-k name-substring]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import docker_harness as h  # noqa: E402

SD = None
CLI = None
IMAGE = None
WORK = None
UIDS = []


def pod(name, spec, **kw):
    p = h.make_pod(name, spec, **kw)
    UIDS.append(p["metadata"]["uid"])
    return p


def sh(name, script, **kw):
    c = {"name": name, "image": IMAGE, "imagePullPolicy": "Never",
         "command": ["sh", "-c", script]}
    c.update(kw)
    return c


def exec_probe(*cmd, period=1, failure=1, **kw):
    p = {"exec": {"command": list(cmd)}, "periodSeconds": period, "failureThreshold": failure}
    p.update(kw)
    return p


def c0(st):
    return st["containers"][0]


def events(st, reason=None):
    return [e for e in st.get("events", []) if reason is None or e["reason"] == reason]


GRPC_PYTHON = "/usr/bin/python3"  # Debian's interpreter, which sees python3-grpcio


def grpcio_available():
    return subprocess.run([GRPC_PYTHON, "-c", "import grpc"], capture_output=True).returncode == 0


def write_state(path, state):
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)


def dexec(p, container, *cmd):
    name = next(n for n in h.containers_of(CLI, p["metadata"]["uid"]) if "_" + container + "_" in n)
    return h.docker(CLI, "exec", name, *cmd)


class ProbesTest(unittest.TestCase):
    def create(self, p):
        code, body = SD.create(h.retrieved(p))
        self.assertEqual(code, 200, body)

    def delete(self, p):
        code, body = SD.delete(p)
        self.assertEqual(code, 200, body)

    def wait(self, p, pred, timeout=60, what="condition"):
        return SD.wait(p, pred, timeout, what)

    # --- probes ------------------------------------------------------------------------
    def test_readiness_flips_ready_false_and_true(self):
        p = pod("ready-flap", {"containers": [sh("c", "touch /tmp/ready; exec sleep 600",
                                                 readinessProbe=exec_probe("cat", "/tmp/ready"))]})
        self.create(p)
        st = self.wait(p, lambda s: c0(s).get("ready") is True, what="ready")
        self.assertTrue(c0(st)["started"])
        dexec(p, "c", "rm", "/tmp/ready")
        st = self.wait(p, lambda s: c0(s).get("ready") is False, what="unready")
        self.assertIn("running", c0(st)["state"])  # readiness never kills
        self.assertTrue(any(e["message"].startswith("Readiness probe failed: cat: can't open")
                            for e in events(st, "Unhealthy")), st)
        dexec(p, "c", "touch", "/tmp/ready")
        st = self.wait(p, lambda s: c0(s).get("ready") is True, what="ready again")
        self.assertEqual(c0(st)["restartCount"], 0)
        self.delete(p)

    def test_http_and_tcp_probes_reach_the_pods_namespace(self):
        server = "mkdir -p /www; echo ok > /www/healthz; exec httpd -f -p 8080 -h /www"
        p = pod("http-tcp", {"containers": [
            sh("web", server,
               ports=[{"name": "http", "containerPort": 8080}],
               readinessProbe={"httpGet": {"path": "/healthz", "port": "http",
                                           "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                               "periodSeconds": 1, "failureThreshold": 1},
               livenessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 1}),
            sh("side", "exec sleep 600", readinessProbe={"tcpSocket": {"port": 9999},
                                                         "periodSeconds": 1})]})
        self.create(p)
        st = self.wait(p, lambda s: c0(s).get("ready") is True, what="http ready")
        side = st["containers"][1]
        self.assertFalse(side["ready"])  # nothing listens on 9999
        dexec(p, "web", "rm", "/www/healthz")
        st = self.wait(p, lambda s: c0(s).get("ready") is False, what="http unready")
        msgs = [e["message"] for e in events(st, "Unhealthy")]
        self.assertIn("Readiness probe failed: HTTP probe failed with statuscode: 404", msgs)
        self.assertTrue(any("dial tcp 127.0.0.1:9999: connect: Connection refused" in m
                            for m in msgs), msgs)
        self.assertEqual(c0(st)["restartCount"], 0)  # the TCP liveness probe kept passing
        self.delete(p)

    def test_http_probe_follows_a_same_host_redirect(self):
        # busybox httpd answers /sub with 302 Location: /sub/; /sub/ is 404 until index.html
        # exists. A probe that did not follow the redirect would be ready at once.
        server = "mkdir -p /www/sub; exec httpd -f -p 8080 -h /www"
        p = pod("http-redirect", {"terminationGracePeriodSeconds": 1, "containers": [sh(
            "web", server, readinessProbe={
                "httpGet": {"path": "/sub", "port": 8080}, "periodSeconds": 1,
                "failureThreshold": 1})]})
        self.create(p)
        st = self.wait(p, lambda s: any("statuscode: 404" in e["message"]
                                        for e in events(s, "Unhealthy")), what="404 after redirect")
        self.assertFalse(c0(st)["ready"])
        dexec(p, "web", "sh", "-c", "echo ok > /www/sub/index.html")
        self.wait(p, lambda s: c0(s).get("ready") is True, what="ready after redirect")
        self.delete(p)

    def test_grpc_probes_reach_a_health_server_in_the_pods_namespace(self):
        if not grpcio_available():
            if os.environ.get("IL_REQUIRE_SERVICES") == "1":
                self.fail("python3-grpcio is missing (scripts/setup build)")
            self.skipTest("SKIPPED LOUDLY: %s cannot import grpc (python3-grpcio missing)"
                          % GRPC_PYTHON)
        port = 9090  # inside the pod's own namespace: any port is free
        state = os.path.join(WORK, "grpc-state.json")
        write_state(state, {"": "SERVING", "live": "SERVING"})
        grpc_probe = {"grpc": {"port": port}, "periodSeconds": 1, "failureThreshold": 1}
        live_probe = {"grpc": {"port": port, "service": "live"}, "periodSeconds": 1,
                      "failureThreshold": 2, "initialDelaySeconds": 4}
        # Two containers: the sandbox holds the namespace, so it outlives a restart of "app".
        p = pod("grpc", {"terminationGracePeriodSeconds": 1, "containers": [
            sh("app", "exec sleep 600", readinessProbe=grpc_probe, livenessProbe=live_probe),
            sh("side", "exec sleep 600", readinessProbe={
                "grpc": {"port": port, "service": "nope"}, "periodSeconds": 1})]})
        self.create(p)
        uid = p["metadata"]["uid"]
        deadline, pid = time.time() + 30, 0
        while time.time() < deadline and pid <= 0:
            sandbox = [n for n in h.containers_of(CLI, uid) if "_POD_" in n]
            if sandbox:
                pid = int(h.docker(CLI, "inspect", "-f", "{{.State.Pid}}", sandbox[0]).strip() or 0)
            if pid <= 0:
                time.sleep(0.2)
        self.assertGreater(pid, 0, "no running sandbox")
        server = subprocess.Popen(
            ["nsenter", "--net=/proc/%d/ns/net" % pid, GRPC_PYTHON,
             os.path.join(HERE, "grpc_health_server.py"), "--host", "0.0.0.0",
             "--port", str(port), "--state-file", state],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            self.assertEqual(line.strip(), "PORT %d" % port, server.stderr.read()
                             if server.poll() is not None else line)
            rpc_error = "Readiness probe failed: error: health rpc probe failed: rpc error: "
            st = self.wait(p, lambda s: c0(s).get("ready") is True and any(
                e["message"].startswith(rpc_error) for e in events(s, "Unhealthy")),
                what="grpc ready, and the unknown service failing")
            self.assertFalse(st["containers"][1]["ready"])  # unknown service

            write_state(state, {"": "NOT_SERVING", "live": "SERVING"})
            st = self.wait(p, lambda s: c0(s).get("ready") is False, what="grpc unready")
            self.assertIn('Readiness probe failed: service unhealthy (responded with '
                          '"NOT_SERVING")', [e["message"] for e in events(st, "Unhealthy")])
            self.assertEqual(c0(st)["restartCount"], 0)  # readiness never kills
            write_state(state, {"": "SERVING", "live": "SERVING"})
            self.wait(p, lambda s: c0(s).get("ready") is True, what="grpc ready again")

            write_state(state, {"": "SERVING", "live": "NOT_SERVING"})
            st = self.wait(p, lambda s: c0(s)["restartCount"] >= 1, timeout=30,
                           what="liveness restart")
            write_state(state, {"": "SERVING", "live": "SERVING"})
            self.assertIn("Container app failed liveness probe, will be restarted",
                          [e["message"] for e in events(st, "Killing")])
            self.assertIn('Liveness probe failed: service unhealthy (responded with '
                          '"NOT_SERVING")', [e["message"] for e in events(st, "Unhealthy")])
            st = self.wait(p, lambda s: "running" in c0(s)["state"] and c0(s).get("ready"),
                           timeout=30, what="ready after the restart")
            self.delete(p)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    def test_https_probe_does_not_verify_the_certificate(self):
        d = tempfile.mkdtemp(prefix="il-tls-", dir=WORK)
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "1", "-subj", "/CN=self-signed"],
                       check=True, capture_output=True)
        port = h.free_port()
        server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                                   "-key", key, "-cert", crt, "-www", "-quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            p = pod("https", {"containers": [sh("c", "exec sleep 600", readinessProbe={
                "httpGet": {"scheme": "HTTPS", "host": "127.0.0.1", "port": port, "path": "/"},
                "periodSeconds": 1})]})
            self.create(p)
            self.wait(p, lambda s: c0(s).get("ready") is True, what="https ready")
            self.delete(p)
        finally:
            server.kill()
            server.wait()

    def liveness_pod(self, name, policy):
        return pod(name, {"restartPolicy": policy, "terminationGracePeriodSeconds": 1,
                          "containers": [sh("c", "touch /tmp/alive; exec sleep 600",
                                            livenessProbe=exec_probe("cat", "/tmp/alive"))]})

    def test_liveness_failure_restarts_under_always_with_count_and_last_state(self):
        p = self.liveness_pod("live-always", "Always")
        self.create(p)
        self.wait(p, lambda s: "running" in c0(s)["state"] and c0(s).get("started"), what="running")
        dexec(p, "c", "rm", "/tmp/alive")
        st = self.wait(p, lambda s: c0(s)["restartCount"] == 1 and "running" in c0(s)["state"],
                       timeout=30, what="restart")
        last = c0(st)["lastState"]["terminated"]
        self.assertIn(last["exitCode"], (137, 143))
        self.assertEqual(last["reason"], "Error")
        kills = [e["message"] for e in events(st, "Killing")]
        self.assertEqual(kills, ["Container c failed liveness probe, will be restarted"])
        # The new instance recreated /tmp/alive: it stays up.
        time.sleep(3)
        self.assertEqual(c0(SD.status([p])[p["metadata"]["uid"]])["restartCount"], 1)
        self.delete(p)

    def test_liveness_failure_under_on_failure_restarts_too(self):
        p = self.liveness_pod("live-onfailure", "OnFailure")
        self.create(p)
        self.wait(p, lambda s: "running" in c0(s)["state"], what="running")
        dexec(p, "c", "rm", "/tmp/alive")
        self.wait(p, lambda s: c0(s)["restartCount"] == 1 and "running" in c0(s)["state"],
                  timeout=30, what="restart")
        self.delete(p)

    def test_liveness_failure_under_never_ends_terminated(self):
        p = self.liveness_pod("live-never", "Never")
        self.create(p)
        self.wait(p, lambda s: "running" in c0(s)["state"], what="running")
        dexec(p, "c", "rm", "/tmp/alive")
        st = self.wait(p, lambda s: "terminated" in c0(s)["state"], timeout=30, what="terminated")
        self.assertIn(c0(st)["state"]["terminated"]["exitCode"], (137, 143))
        self.assertEqual(c0(st)["restartCount"], 0)
        self.assertEqual(h.phase(st), "Failed")
        kills = [e["message"] for e in events(st, "Killing")]
        self.assertEqual(kills, ["Container c failed liveness probe"])
        time.sleep(2)
        self.assertIn("terminated", c0(SD.status([p])[p["metadata"]["uid"]])["state"])
        self.delete(p)

    def test_crash_restarted_by_docker_keeps_the_last_state(self):
        script = "if [ -f /tmp/once ]; then exec sleep 600; fi; touch /tmp/once; sleep 1; exit 3"
        p = pod("crash", {"containers": [sh("c", script)]})
        self.create(p)
        st = self.wait(p, lambda s: c0(s)["restartCount"] == 1 and "running" in c0(s)["state"]
                       and "lastState" in c0(s), timeout=30, what="restart by Docker")
        last = c0(st)["lastState"]["terminated"]
        self.assertEqual((last["exitCode"], last["reason"]), (3, "Error"))
        self.assertLessEqual(last["finishedAt"], c0(st)["state"]["running"]["startedAt"])
        self.delete(p)

    def test_startup_probe_gates_readiness_and_liveness(self):
        p = pod("startup", {"containers": [sh(
            "c", "exec sleep 600",
            startupProbe=exec_probe("cat", "/tmp/started", failure=60),
            readinessProbe=exec_probe("true"),
            livenessProbe=exec_probe("cat", "/tmp/started"))]})
        self.create(p)
        self.wait(p, lambda s: "running" in c0(s)["state"], what="running")
        time.sleep(2.5)
        st = SD.status([p])[p["metadata"]["uid"]]
        self.assertFalse(c0(st)["started"])
        self.assertFalse(c0(st)["ready"])
        self.assertEqual(c0(st)["restartCount"], 0)  # liveness did not run before startup
        self.assertFalse(events(st, "Killing"))
        dexec(p, "c", "touch", "/tmp/started")
        st = self.wait(p, lambda s: c0(s).get("ready") is True, what="ready after startup")
        self.assertTrue(c0(st)["started"])
        self.delete(p)

    # --- hooks -------------------------------------------------------------------------
    def test_post_start_writes_a_marker_the_main_process_reads(self):
        main = "while [ ! -f /tmp/hook ]; do sleep 0.1; done; echo saw-$(cat /tmp/hook); exec sleep 600"
        p = pod("poststart", {"containers": [sh("c", main, lifecycle={"postStart": {"exec": {
            "command": ["sh", "-c", "sleep 1; echo hook >> /tmp/hook"]}}})]})
        self.create(p)
        self.wait(p, lambda s: "waiting" in c0(s)["state"] or "running" in c0(s)["state"])
        self.wait(p, lambda s: "running" in c0(s)["state"], what="running after the hook")
        deadline = time.time() + 10
        while time.time() < deadline and "saw-hook" not in SD.logs(p, "c")[1]:
            time.sleep(0.2)
        self.assertEqual(SD.logs(p, "c")[1], "saw-hook\n")
        # kill -9 of docker-sd: the hook is not run again for the same instance.
        SD.stop(signal.SIGKILL)
        SD.start()
        self.wait(p, lambda s: "running" in c0(s)["state"])
        time.sleep(2.5)
        self.assertEqual(dexec(p, "c", "cat", "/tmp/hook"), "hook\n")
        self.delete(p)

    def test_failing_post_start_kills_the_container(self):
        p = pod("poststart-fail", {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                   "containers": [sh("c", "exec sleep 600", lifecycle={
                                       "postStart": {"exec": {"command": ["sh", "-c", "echo no; exit 3"]}}})]})
        self.create(p)
        st = self.wait(p, lambda s: "terminated" in c0(s)["state"], timeout=30, what="killed")
        failed = events(st, "FailedPostStartHook")
        self.assertEqual(len(failed), 1, st)
        self.assertIn('Exec lifecycle hook ([sh -c echo no; exit 3]) for Container "c" in Pod '
                      '"poststart-fail_default(', failed[0]["message"])
        self.assertIn('message: "no\n"', failed[0]["message"])
        self.assertEqual(events(st, "Killing")[0]["message"], "FailedPostStartHook")
        self.delete(p)

    def test_failing_post_start_under_always_waits_with_post_start_hook_error(self):
        p = pod("poststart-always", {"terminationGracePeriodSeconds": 1, "containers": [sh(
            "c", "exec sleep 600", lifecycle={"postStart": {"exec": {"command": ["false"]}}})]})
        self.create(p)
        st = self.wait(p, lambda s: c0(s)["restartCount"] >= 2, timeout=40, what="restarts")
        self.assertIn("terminated", c0(st)["lastState"])
        st = self.wait(p, lambda s: c0(s)["state"].get("waiting", {}).get("reason") in
                       ("PostStartHookError", "CrashLoopBackOff"), timeout=30)
        self.delete(p)

    def test_pre_stop_runs_on_delete_before_the_stop_signal(self):
        out = os.path.join(WORK, "allowed", "prestop")
        os.makedirs(out, exist_ok=True)
        main = "trap 'echo term >> /out/marker; exit 0' TERM; while true; do sleep 0.1; done"
        p = pod("prestop", {"terminationGracePeriodSeconds": 5,
                            "volumes": [{"name": "o", "hostPath": {"path": out}}],
                            "containers": [sh("c", main,
                                              volumeMounts=[{"name": "o", "mountPath": "/out"}],
                                              lifecycle={"preStop": {"exec": {"command": [
                                                  "sh", "-c", "echo prestop >> /out/marker"]}}})]})
        self.create(p)
        self.wait(p, lambda s: "running" in c0(s)["state"])
        time.sleep(0.3)
        self.delete(p)
        with open(os.path.join(out, "marker")) as f:
            self.assertEqual(f.read(), "prestop\nterm\n")

    # --- termination messages and phases -----------------------------------------------
    def test_termination_message_file_and_fallback_to_logs(self):
        p = pod("termmsg", {"restartPolicy": "Never", "containers": [
            sh("file", "printf done-msg > /dev/termination-log"),
            sh("custom", "printf custom > /tmp/why; exit 2", terminationMessagePath="/tmp/why"),
            sh("fallback", "echo line1; echo oops >&2; exit 3",
               terminationMessagePolicy="FallbackToLogsOnError"),
            sh("fallback-ok", "echo fine", terminationMessagePolicy="FallbackToLogsOnError")]})
        self.create(p)
        st = self.wait(p, lambda s: all("terminated" in c["state"] for c in s["containers"]),
                       what="all terminated")
        msg = {c["name"]: c["state"]["terminated"].get("message") for c in st["containers"]}
        self.assertEqual(msg["file"], "done-msg")
        self.assertEqual(msg["custom"], "custom")
        self.assertEqual(sorted(msg["fallback"].splitlines()), ["line1", "oops"])
        self.assertIsNone(msg["fallback-ok"])  # exit 0: no fallback
        self.assertEqual(h.phase(st), "Failed")
        self.delete(p)

    def test_containers_ending_at_different_times_under_concurrent_pods(self):
        pods = []
        for i in range(3):
            pods.append(pod("ends-%d" % i, {"restartPolicy": "Never", "containers": [
                sh("a", "echo a; sleep 1; exit 0"),
                sh("b", "echo b; sleep 2; exit 1"),
                sh("c", "echo c; sleep 3; exit 0")]}))
        hog = pod("hog", {"restartPolicy": "Never", "containers": [
            sh("m", "x=$(head -c 60000000 /dev/zero | tr '\\0' a); sleep 3",
               resources={"limits": {"memory": "32Mi"}})]})
        threads = [threading.Thread(target=self.create, args=(p,)) for p in pods + [hog]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for p in pods:
            st = self.wait(p, lambda s: all("terminated" in c["state"] for c in s["containers"]),
                           what="all ended")
            codes = [c["state"]["terminated"]["exitCode"] for c in st["containers"]]
            self.assertEqual(codes, [0, 1, 0])
            self.assertEqual(h.phase(st), "Failed")
            for name in "abc":
                self.assertEqual(SD.logs(p, name)[1], name + "\n")
        # Under load dockerd can see the exit before the kernel's OOM notice and leave
        # State.OOMKilled false for good; docker-sd then takes its `oom` event, which may come a
        # moment after the exit: the reason settles on OOMKilled as containerd's CRI does.
        st = self.wait(hog, lambda s: "terminated" in c0(s)["state"], what="neighbour ended")
        st = self.wait(hog, lambda s: c0(s)["state"]["terminated"]["reason"] == "OOMKilled", 10,
                       what="neighbour OOMKilled (last: %s)" % c0(st)["state"]["terminated"])
        self.assertEqual(c0(st)["state"]["terminated"]["exitCode"], 137)
        for p in pods + [hog]:
            self.delete(p)


def main():
    global SD, CLI, IMAGE, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    env = h.ensure_docker(args.source_dir)
    if env is None:
        print("SKIP: no Docker engine could be started")
        return h.SKIP
    CLI, IMAGE = env["DOCKER"], env["IL_TEST_IMAGE"]
    WORK = tempfile.mkdtemp(prefix="il-docker-sd-probes-")
    os.makedirs(os.path.join(WORK, "allowed"))
    SD = h.DockerSd(args.bin_dir, WORK, CLI, {"HostPathAllowList": [os.path.join(WORK, "allowed")]})
    SD.start()
    try:
        loader = unittest.TestLoader()
        if args.k:
            loader.testNamePatterns = ["*%s*" % args.k]
        result = unittest.TextTestRunner(verbosity=2).run(loader.loadTestsFromTestCase(ProbesTest))
        if not result.wasSuccessful():
            print("---- docker-sd log (tail) ----\n" + SD.log_tail(80))
        return 0 if result.wasSuccessful() else 1
    finally:
        SD.stop()
        h.remove_containers(CLI, UIDS)
        left = [u for u in UIDS if h.containers_of(CLI, u)]
        shutil.rmtree(WORK, ignore_errors=True)
        if left:
            print("ERROR: containers left behind for uids", left)


if __name__ == "__main__":
    sys.exit(main())
