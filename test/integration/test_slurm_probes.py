#!/usr/bin/env python3
"""Probes, lifecycle hooks and termination messages of bin/slurm-sd against a real Slurm
(issue 13).

Usage: test_slurm_probes.py PATH/TO/slurm-sd

With EnableProbes: true, runtime none (processes on the node) unless said otherwise:
  - readiness (httpGet on a Python server): ready false, an Unhealthy event, then ready true;
  - gRPC readiness through il-grpc-probe against a grpc.health.v1 server: NOT_SERVING gives
    an Unhealthy event, SERVING makes the container ready;
  - startup gating (exec): started/ready false until the startup probe passes, then both true;
  - liveness failure (tcpSocket, nobody listening): preStop runs and the container is
    killed; under Never it stays Terminated 143; under Always and OnFailure it is restarted
    (restartCount, lastState, CrashLoopBackOff with the 10 s back-off); Unhealthy and Killing
    events;
  - postStart (exec) writes a marker the main process reads; a failing postStart kills the
    container with reason PostStartHookError and a FailedPostStartHook event;
  - preStop on delete: the hook runs before the container's SIGTERM;
  - termination messages: FallbackToLogsOnError (none) and terminationMessagePath (podman);
  - podman: postStart and an exec readiness probe through `podman exec` (a file only inside
    the container), and an httpGet probe;
  - three pods with three containers each, exits 0/1/0 at different times, concurrently;
  - EnableProbes: false (a second slurm-sd): a failing readiness probe is ignored.
Exit 77 when Slurm cannot be started. Leaves no job or process behind.
"""
import os
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_slurm_sd as s  # noqa: E402

PROBES_ON = s.Sidecar.POLICY + "EnableProbes: true\n"


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import free_port  # noqa: E402,F401  (one implementation)


def host(name, argv, **extra):
    c = {"name": name, "image": "ignored", "command": argv}
    c.update(extra)
    return c


def container(st, name):
    for c in st["containers"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name} in {st}")


def status_of(sd, pod):
    return sd.status([pod]).get(pod["metadata"]["uid"])


def events(st, reason=None):
    return [e for e in st.get("events", []) if reason is None or e["reason"] == reason]


CREATED = []


def create(sd, pod):
    CREATED.append(pod)
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    return pod


def done_with(sd, *pods):
    # The test node has 2 CPUs: free them for the next check.
    for p in pods:
        sd.delete(p)


def job_dir(sd, pod):
    return os.path.join(sd.data, f"{pod['metadata']['namespace']}-{pod['metadata']['uid']}")


# A server whose /ready answers 503 for its first 4 seconds, then 200.
SERVER = r"""
import http.server, sys, time
t0 = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path != '/ready' or time.time() - t0 > 4
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b'ua=' + self.headers.get('User-Agent', '').encode())
    def log_message(self, *a):
        print('probe', self.path, self.headers.get('X-Probe'), flush=True)
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
"""


def check_readiness(sd):
    port = free_port()
    pod = create(sd, s.slurm_pod("ready-http", [host(
        "srv", ["python3", "-c", SERVER, str(port)],
        readinessProbe={"httpGet": {"path": "/ready", "port": "web",
                                    "httpHeaders": [{"name": "X-Probe", "value": "$(id) 'x'"}]},
                        "periodSeconds": 1, "failureThreshold": 1},
        ports=[{"name": "web", "containerPort": port}])]))
    running = s.wait_for("srv running", lambda: (lambda st: st if st and s.state_of(
        container(st, "srv"))[0] == "running" else None)(status_of(sd, pod)), 90)
    assert container(running, "srv")["ready"] is False, running
    # (the first runs may find nothing listening yet: wait for the 503 ones)
    unready = s.wait_for("an Unhealthy event", lambda: (lambda st: st if any(
        "statuscode: 503" in e["message"] for e in events(st, "Unhealthy")) else None)(
        status_of(sd, pod)), 20)
    ev = events(unready, "Unhealthy")[0]
    assert ev["message"].startswith("Readiness probe failed: HTTP probe failed with statuscode: 503"), ev
    assert ev["type"] == "Warning" and ev["container"] == "srv" and ev["count"] >= 1, ev
    s.wait_for("srv ready", lambda: container(status_of(sd, pod), "srv")["ready"], 20)
    out = sd.logs(pod, "srv")
    assert "probe /ready $(id) 'x'" in out, out[-500:]
    s.log("readiness: ready false with an Unhealthy event, then true; header arrives verbatim")
    done_with(sd, pod)
    return pod


GRPC_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_health_server.py")


def check_grpc_readiness(sd, marker_dir):
    # The job runs il-grpc-probe (beside slurm-sd: GrpcProbePath's default) against a real
    # grpc.health.v1 server, the pod's own container (Debian's python3-grpcio).
    state = os.path.join(marker_dir, "grpc-state.json")
    with open(state, "w") as f:
        f.write('{"": "NOT_SERVING"}')
    port = free_port()
    pod = create(sd, s.slurm_pod("ready-grpc", [host(
        "srv", ["/usr/bin/python3", GRPC_SERVER, "--state-file", state, "--port", str(port)],
        readinessProbe={"grpc": {"port": port}, "periodSeconds": 1, "failureThreshold": 1})]))
    unready = s.wait_for("a NOT_SERVING Unhealthy event", lambda: (lambda st: st if any(
        "NOT_SERVING" in e["message"] for e in events(st, "Unhealthy")) else None)(
        status_of(sd, pod)), 90)
    ev = [e for e in events(unready, "Unhealthy") if "NOT_SERVING" in e["message"]][0]
    assert ev["message"] == 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")', ev
    assert container(unready, "srv")["ready"] is False, unready
    with open(state, "w") as f:
        f.write('{"": "SERVING"}')
    s.wait_for("srv ready", lambda: container(status_of(sd, pod), "srv")["ready"], 20)
    s.log("gRPC readiness: NOT_SERVING -> Unhealthy event, SERVING -> ready (il-grpc-probe in the job)")
    done_with(sd, pod)
    return pod


def check_startup_gating(sd):
    pod = create(sd, s.slurm_pod("startup-gate", [host(
        "app", ["sh", "-c", "sleep 5; touch up-marker; sleep 300"],
        startupProbe={"exec": {"command": ["test", "-e", "up-marker"]}, "periodSeconds": 1,
                      "failureThreshold": 60},
        readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 1})]))
    st = s.wait_for("app running", lambda: (lambda st: st if st and s.state_of(
        container(st, "app"))[0] == "running" else None)(status_of(sd, pod)), 90)
    c = container(st, "app")
    assert c["started"] is False and c["ready"] is False, c
    st = s.wait_for("started", lambda: (lambda st: st if container(st, "app")["started"] else None)(
        status_of(sd, pod)), 30)
    s.wait_for("ready", lambda: container(status_of(sd, pod), "app")["ready"], 10)
    s.log("startup probe gates started and readiness")
    done_with(sd, pod)
    return pod


def liveness_pod(name, marker, policy):
    pod = s.slurm_pod(name, [host(
        "app", ["sh", "-c", "trap 'echo got TERM; exit 143' TERM; while :; do sleep 1; done"],
        livenessProbe={"tcpSocket": {"port": free_port()}, "periodSeconds": 1,
                       "failureThreshold": 2, "initialDelaySeconds": 1},
        lifecycle={"preStop": {"exec": {"command": ["sh", "-c", f"echo prestop >> {marker}"]}}})])
    pod["spec"]["restartPolicy"] = policy
    pod["spec"]["terminationGracePeriodSeconds"] = 5
    return pod


def check_liveness_never(sd, marker_dir):
    marker = os.path.join(marker_dir, "liveness-never")
    pod = create(sd, liveness_pod("liveness-never", marker, "Never"))
    st = s.finished(sd, pod)
    kind, term = s.state_of(container(st, "app"))
    assert term["exitCode"] in (143, 137), term
    assert container(st, "app")["restartCount"] == 0, st
    assert os.path.exists(marker), "preStop did not run before the liveness kill"
    reasons = {e["reason"]: e for e in events(st)}
    assert "Unhealthy" in reasons and reasons["Unhealthy"]["message"].startswith(
        "Liveness probe failed: dial tcp"), st.get("events")
    assert reasons["Killing"]["message"] == "Container app failed liveness probe", reasons
    s.log(f"liveness failure, restartPolicy Never: preStop, killed (exit {term['exitCode']}), "
          f"events {sorted(reasons)}, not restarted")
    return pod


def check_liveness_restart(sd, marker_dir, policy):
    marker = os.path.join(marker_dir, "liveness-" + policy)
    pod = create(sd, liveness_pod("liveness-" + policy.lower(), marker, policy))
    seen = {}

    def backoff():
        st = status_of(sd, pod)
        if not st or not st["containers"]:
            return None
        c = container(st, "app")
        kind, state = s.state_of(c)
        seen.setdefault(kind, c)
        if kind == "waiting" and state.get("reason") == "CrashLoopBackOff":
            return st
        return None
    st = s.wait_for("CrashLoopBackOff", backoff, 90)
    c = container(st, "app")
    assert c["restartCount"] >= 1, c
    assert c["lastState"]["terminated"]["exitCode"] in (143, 137), c
    assert "back-off 10s restarting failed container=app" in s.state_of(c)[1]["message"], c
    # After the 10 s back-off it runs again, with a higher count.
    st = s.wait_for("restarted again", lambda: (lambda st: st if container(st, "app")[
        "restartCount"] >= 2 and s.state_of(container(st, "app"))[0] == "running" else None)(
        status_of(sd, pod)), 30)
    kill = [e for e in events(st, "Killing")][0]
    assert kill["message"] == "Container app failed liveness probe, will be restarted", kill
    assert kill["count"] >= 2, kill
    assert "running" in seen, seen
    with open(marker) as f:
        assert f.read().count("prestop") >= 2
    out = sd.logs(pod, "app")
    assert out.count("got TERM") >= 2, out
    s.log(f"liveness failure, restartPolicy {policy}: restarted (count {c['restartCount']}+), "
          "lastState 143, CrashLoopBackOff 10 s, Killing '..., will be restarted'")
    done_with(sd, pod)
    return pod


def check_post_start(sd):
    good = create(sd, s.slurm_pod("poststart", [host(
        "app", ["sh", "-c", "for i in $(seq 50); do [ -e ps-marker ] && break; sleep 0.2; done; "
                            "echo saw $(cat ps-marker)"],
        lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo hello > ps-marker"]}}})]))
    # A shell with a child: the kill must take the whole tree, or the child keeps the
    # container's log pipes (and the job) alive.
    bad = s.slurm_pod("poststart-fail", [host(
        "app", ["sh", "-c", "sleep 300; echo never"],
        lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo nope; exit 3"]}}})])
    bad["spec"]["restartPolicy"] = "Never"  # (Always would restart it, as the kubelet does)
    create(sd, bad)
    st = s.finished(sd, good)
    assert s.state_of(container(st, "app"))[1]["exitCode"] == 0, st
    out = sd.logs(good, "app")
    assert "saw hello" in out, out
    st = s.finished(sd, bad)
    _, term = s.state_of(container(st, "app"))
    assert term["reason"] == "PostStartHookError" and "nope" in term.get("message", ""), term
    assert events(st, "FailedPostStartHook"), st.get("events")
    s.log("postStart: marker seen by the main process; a failing hook -> PostStartHookError")
    return [good, bad]


def check_pre_stop_on_delete(sd, marker_dir):
    marker = os.path.join(marker_dir, "delete-order")
    pod = s.slurm_pod("prestop", [host(
        "app", ["sh", "-c", f"trap 'echo term >> {marker}; exit 0' TERM; "
                            "while :; do sleep 0.2; done"],
        lifecycle={"preStop": {"exec": {"command": ["sh", "-c",
                                                    f"echo prestop >> {marker}; sleep 1"]}}})])
    pod["spec"]["terminationGracePeriodSeconds"] = 10
    create(sd, pod)
    s.wait_for("app running", lambda: (lambda st: st if st and s.state_of(
        container(st, "app"))[0] == "running" else None)(status_of(sd, pod)), 90)
    t0 = time.time()
    code, body = sd.delete(pod)
    took = time.time() - t0
    assert code == 200, (code, body)
    with open(marker) as f:
        lines = f.read().split()
    assert lines == ["prestop", "term"], lines
    s.log(f"preStop on delete: hook, then SIGTERM (delete took {took:.1f}s)")


def check_termination_messages(sd, env):
    fallback = create(sd, s.slurm_pod("msg-fallback", [
        host("a", ["sh", "-c", "for i in $(seq 100); do echo line $i; done; exit 2"],
             terminationMessagePolicy="FallbackToLogsOnError"),
        host("b", ["sh", "-c", "echo quiet; exit 2"])]))
    pods = [fallback]
    st = s.finished(sd, fallback)
    msg = s.state_of(container(st, "a"))[1].get("message", "")
    assert msg.startswith("line 21\n") and msg.endswith("line 100\n"), msg[:80]
    # File policy, empty file: no log fallback (only the job's own "failed with exit code").
    assert "quiet" not in s.state_of(container(st, "b"))[1].get("message", ""), st
    if env.get("PODMAN") or shutil.which("podman"):
        p = create(sd, s.slurm_pod("msg-file", [
            s.sh("a", "printf 'custom bye' > /tmp/term-msg; exit 3", terminationMessagePath="/tmp/term-msg"),
            s.sh("b", "printf 'default bye' > /dev/termination-log")],
            annotations={"slurm-job.vk.io/container-runtime": "podman"}))
        pods.append(p)
        st = s.finished(sd, p, timeout=120)
        assert s.state_of(container(st, "a"))[1].get("message") == "custom bye", st
        assert s.state_of(container(st, "b"))[1].get("message") == "default bye", st
    s.log("termination messages: FallbackToLogsOnError (80 lines), files (podman)")
    return pods


def check_podman_exec_and_http(sd, env):
    if not (env.get("PODMAN") or shutil.which("podman")):
        s.log("podman not installed: podman probes skipped")
        return []
    port = free_port()
    pod = create(sd, s.slurm_pod("podman-probes", [
        s.sh("web", f"mkdir -p /www && echo ok > /www/index.html && httpd -f -p {port} -h /www",
             lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "sleep 2; touch /tmp/ready"]}}},
             readinessProbe={"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1},
             livenessProbe={"httpGet": {"path": "/", "port": port}, "periodSeconds": 1})],
        annotations={"slurm-job.vk.io/container-runtime": "podman"}))
    s.wait_for("web ready", lambda: (lambda st: st and st["containers"] and s.state_of(
        container(st, "web"))[0] == "running" and container(st, "web")["ready"])(
        status_of(sd, pod)), 120)
    time.sleep(3)  # a few liveness periods: the HTTP probe keeps passing
    st = status_of(sd, pod)
    assert s.state_of(container(st, "web"))[0] == "running", st
    assert not events(st, "Unhealthy") or all(
        e["message"].startswith("Readiness") for e in events(st, "Unhealthy")), st["events"]
    assert not os.path.exists(os.path.join(job_dir(sd, pod), "ready")), "exec ran on the host"
    s.log("podman: postStart + exec readiness inside the container, httpGet liveness")
    done_with(sd, pod)
    return [pod]


def check_three_container_pods(sd):
    pods = []
    for i in range(3):
        pods.append(create(sd, s.slurm_pod(f"three-{i}", [
            host("a", ["sh", "-c", "echo a; sleep 1; exit 0"]),
            host("b", ["sh", "-c", "echo b; sleep 3; exit 1"]),
            host("c", ["sh", "-c", "echo c; sleep 5; exit 0"])])))
    # A memory-hungry neighbour: 400 MiB held for 6 s beside them.
    hog = create(sd, s.slurm_pod("memory-hog", [host(
        "hog", ["python3", "-c", "import time; b = bytearray(400 << 20); b[::4096] = b'x' * len(b[::4096]); "
                                 "time.sleep(6)"])]))
    for p in pods:
        st = s.finished(sd, p)
        codes = {c["name"]: s.state_of(c)[1]["exitCode"] for c in st["containers"]}
        assert codes == {"a": 0, "b": 1, "c": 0}, codes
        ends = {c["name"]: s.state_of(c)[1]["finishedAt"] for c in st["containers"]}
        assert ends["a"] <= ends["b"] <= ends["c"], ends
        for n in "abc":
            assert sd.logs(p, n).strip() == n, (n, sd.logs(p, n))
    s.finished(sd, hog)
    s.log("3 pods x 3 containers beside a 400 MiB neighbour: exits 0/1/0 at different times, "
          "every log readable")
    return pods + [hog]


def check_probes_disabled(binary, env, workdir):
    os.makedirs(os.path.join(workdir, "off"), exist_ok=True)
    sd = s.Sidecar(binary, os.path.join(workdir, "off"), env)  # no EnableProbes: the default
    sd.start()
    pod = None
    try:
        pod = create(sd, s.slurm_pod("probes-off", [host(
            "app", ["sleep", "300"], readinessProbe={"exec": {"command": ["false"]}, "periodSeconds": 1})]))
        s.wait_for("ready despite a failing probe", lambda: (lambda st: st and s.state_of(
            container(st, "app"))[0] == "running" and container(st, "app")["ready"])(
            status_of(sd, pod)), 90)
        time.sleep(2)
        st = status_of(sd, pod)
        assert container(st, "app")["ready"] is True and not events(st), st
        s.log("EnableProbes false: probes ignored, ready while running")
    finally:
        s.cleanup(sd, env, [pod] if pod else [])
        sd.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    env = s.ensure_slurm()
    if env is None:
        print("SKIP: Slurm cannot be started here (scripts/slurm/up failed)")
        return s.SKIP
    workdir = tempfile.mkdtemp(prefix="slurm-sd-probes-")
    markers = os.path.join(workdir, "markers")
    os.makedirs(markers)
    pods, ok, t0 = [], False, time.time()
    sd = None
    try:
        sd = s.Sidecar(binary, workdir, env, policy=PROBES_ON)
        sd.start()
        pods.append(check_readiness(sd))
        pods.append(check_grpc_readiness(sd, markers))
        pods.append(check_startup_gating(sd))
        pods.append(check_liveness_never(sd, markers))
        pods.append(check_liveness_restart(sd, markers, "Always"))
        pods.append(check_liveness_restart(sd, markers, "OnFailure"))
        pods.extend(check_post_start(sd))
        check_pre_stop_on_delete(sd, markers)
        pods.extend(check_termination_messages(sd, env))
        pods.extend(check_podman_exec_and_http(sd, env))
        pods.extend(check_three_container_pods(sd))
        check_probes_disabled(binary, env, workdir)
        ok = True
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        if sd:
            print("---- slurm-sd log ----\n" + sd.tail())
    finally:
        left, containers = [], []
        try:
            if sd and sd.proc and sd.proc.poll() is None:
                left, containers = s.cleanup(sd, env, CREATED)
        finally:
            if sd:
                sd.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        if left or containers:
            print(f"FAIL: left behind jobs {left} containers {containers}")
            ok = False
    s.log(f"{'PASS' if ok else 'FAIL'} in {time.time() - t0:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
