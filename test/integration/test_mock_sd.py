#!/usr/bin/env python3
"""Integration test of bin/mock-sd: starts the real binary on loopback and drives it
through HTTP with upstream interLink's request shapes.

  create -> status until Succeeded -> logs (plain, tail, follow) -> delete,
  pod names of 63 to 253 characters (issue 13),
  a failing container's exit code, create-error and bad annotations, and a kill -9 +
  restart mid-run after which the pod's JID and timeline are still there.

Usage: test_mock_sd.py /path/to/bin/mock-sd      (Python 3 standard library only)
"""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402

PREFIX = "mock.interlink.io/"


class Sidecar:
    """A mock-sd process on a free loopback port, with its own config and data dir."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.config = os.path.join(workdir, "InterLinkConfig.yaml")
        with open(self.config, "w") as f:
            f.write("SidecarService: mock\n")
            f.write("DataRootFolder: %s\n" % os.path.join(workdir, "data"))
            f.write("MockCapacityCPU: \"12\"\n")
        self.proc = None
        self.starts = 0

    def start(self):
        env = dict(os.environ)
        env["INTERLINKCONFIGPATH"] = self.config
        env["SIDECARPORT"] = str(self.port)
        self.starts += 1
        log = open(os.path.join(self.workdir, "mock-sd.%d.log" % self.starts), "wb")
        self.proc = subprocess.Popen([self.binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("mock-sd exited with %d; see %s" % (self.proc.returncode, log.name))
            try:
                status, _ = self.call("GET", "/healthz", None, timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("mock-sd did not answer /healthz in 15 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(self, method, path, body, timeout=10):
        c = self.conn(timeout)
        try:
            data = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if data is not None else {}
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()


from harness import free_port  # noqa: E402,F401  (one implementation)


def make_pod(uid, name, annotations=None, containers=("main",), init=()):
    def spec(names):
        return [{"name": n, "image": "busybox:1.36"} for n in names]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default", "uid": uid,
                        "annotations": {PREFIX + k: v for k, v in (annotations or {}).items()}},
           "spec": {"containers": spec(containers)}}
    if init:
        pod["spec"]["initContainers"] = spec(init)
    return pod


def log_struct(pod, container, **opts):
    return {"Namespace": "default", "PodUID": pod["metadata"]["uid"],
            "PodName": pod["metadata"]["name"], "ContainerName": container, "Opts": opts}


def status_of(sd, pod):
    code, body = sd.call("GET", "/status", [pod])
    expect(code == 200, "status: %d %s" % (code, body))
    items = json.loads(body)
    return items[0] if items else None


def state(container_status):
    ((k, v),) = container_status["state"].items()
    return k, v


def wait_for(sd, pod, pred, what, timeout=15):
    deadline = time.time() + timeout
    st = None
    while time.time() < deadline:
        st = status_of(sd, pod)
        if st and pred(st):
            return st
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s; last status %s" % (what, json.dumps(st)))


def all_terminated(st):
    return all(state(c)[0] == "terminated" for c in st["containers"])


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---------------------------------------------------------------- the checks

def check_ping(sd):
    code, body = sd.call("GET", "/status", [])
    expect(code == 200, "ping via /status []: %d %s" % (code, body))
    p = json.loads(body)
    expect(p["status"] == "ok" and p["resources"]["cpu"] == "12", body)
    expect(p["resources"]["memory"] == "256Gi" and p["resources"]["pods"] == "10000", body)


def check_lifecycle(sd):
    pod = make_pod("uid-life", "life", {"pending-seconds": "0.1", "run-seconds": "0.5",
                                        "logs.main": "hello\nworld"}, init=("setup",))
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(code == 200, "create: %d %s" % (code, body))
    created = json.loads(body)
    expect(created["PodUID"] == "uid-life" and created["PodJID"].startswith("mock-"), body)
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(json.loads(body)["PodJID"] == created["PodJID"], "create is idempotent: " + body)
    first = status_of(sd, pod)
    expect(state(first["containers"][0])[1].get("reason") in ("ContainerCreating", "PodInitializing"),
           "app container waits first: %s" % json.dumps(first))
    st = wait_for(sd, pod, all_terminated, "pod life to succeed")
    expect(st["JID"] == created["PodJID"] and st["name"] == "life", json.dumps(st))
    _, term = state(st["containers"][0])
    expect(term["exitCode"] == 0 and term["reason"] == "Completed", json.dumps(st))
    expect(state(st["initContainers"][0])[0] == "terminated", json.dumps(st))
    code, body = sd.call("GET", "/getLogs", log_struct(pod, "main"))
    expect(code == 200 and body == "hello\nworld\n", "logs: %d %r" % (code, body))
    code, body = sd.call("GET", "/getLogs", log_struct(pod, "main", Tail=1, Timestamps=True))
    expect(code == 200 and body.endswith("Z world\n") and body.count("\n") == 1, repr(body))
    code, body = sd.call("GET", "/getLogs", log_struct(pod, "setup"))
    expect(body == "setup started\nsetup exited with code 0\n", repr(body))
    code, body = sd.call("GET", "/getLogs", log_struct(pod, "nope"))
    expect(code == 404 and "container nope not found in pod default/life" in body, body)
    code, body = sd.call("POST", "/delete", pod)
    expect(code == 200, "delete: %d %s" % (code, body))
    expect(status_of(sd, pod) is None, "deleted pod is gone from status")
    code, body = sd.call("POST", "/delete", pod)
    expect(code == 404, "second delete: %d %s" % (code, body))
    code, _ = sd.call("GET", "/getLogs", log_struct(pod, "main"))
    expect(code == 404, "logs of a deleted pod: %d" % code)


def check_failure(sd):
    pod = make_pod("uid-fail", "fail", {"pending-seconds": "0", "run-seconds": "0.3",
                                        "exit-code.bad": "3"}, containers=("good", "bad"))
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(code == 200, body)
    st = wait_for(sd, pod, all_terminated, "pod fail to finish")
    by_name = {c["name"]: state(c)[1] for c in st["containers"]}
    expect(by_name["good"]["exitCode"] == 0, json.dumps(st))
    expect(by_name["bad"]["exitCode"] == 3 and by_name["bad"]["reason"] == "Error", json.dumps(st))
    code, body = sd.call("GET", "/getLogs", log_struct(pod, "bad"))
    expect(body.endswith("bad exited with code 3\n"), repr(body))
    expect(sd.call("POST", "/delete", pod)[0] == 200, "delete fail")


def check_rejections(sd):
    pod = make_pod("uid-err", "err", {"create-error": "simulated quota exceeded"})
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(code in (409, 412) and "simulated quota exceeded" in body, "%d %s" % (code, body))
    expect(status_of(sd, pod) is None, "nothing stored for a failed create")
    pod = make_pod("uid-bad", "bad", {"run-seconds": "soon"})
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(code == 400 and PREFIX + "run-seconds" in body, "%d %s" % (code, body))


def check_follow(sd):
    pod = make_pod("uid-follow", "follow", {"pending-seconds": "0", "run-seconds": "1.5",
                                            "log-interval-seconds": "0.3"})
    expect(sd.call("POST", "/create", {"pod": pod, "container": []})[0] == 200, "create follow")
    c = sd.conn(timeout=15)
    t0 = time.time()
    c.request("GET", "/getLogs", body=json.dumps(log_struct(pod, "main", Follow=True)),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    expect(r.status == 200, "follow status %d" % r.status)
    lines = []
    while True:
        line = r.readline()
        if not line:
            break
        lines.append((time.time() - t0, line.decode().rstrip("\n")))
    c.close()
    texts = [t for _, t in lines]
    expect(texts[0] == "main started" and texts[-1] == "main exited with code 0", repr(texts))
    expect("tick 1" in texts and "tick 4" in texts and "tick 5" not in texts, repr(texts))
    expect(lines[0][0] < 0.8, "first line streamed before the end: %r" % lines)
    expect(lines[-1][0] >= 1.2, "stream lasted until the container ended: %r" % lines)
    expect(sd.call("POST", "/delete", pod)[0] == 200, "delete follow")


def check_restart(sd):
    pod = make_pod("uid-restart", "restart", {"pending-seconds": "0", "run-seconds": "2.5"})
    code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
    expect(code == 200, body)
    jid = json.loads(body)["PodJID"]
    st = wait_for(sd, pod, lambda s: state(s["containers"][0])[0] == "running", "running")
    started = state(st["containers"][0])[1]["startedAt"]
    sd.kill9()
    sd.start()
    st = status_of(sd, pod)
    expect(st is not None and st["JID"] == jid, "pod survived kill -9: %s" % json.dumps(st))
    k, v = state(st["containers"][0])
    expect(k in ("running", "terminated") and v["startedAt"] == started,
           "timeline kept: %s" % json.dumps(st))
    st = wait_for(sd, pod, all_terminated, "restarted pod to finish")
    expect(state(st["containers"][0])[1]["exitCode"] == 0, json.dumps(st))
    other = make_pod("uid-after", "after")
    code, body = sd.call("POST", "/create", {"pod": other, "container": []})
    expect(json.loads(body)["PodJID"] != jid, "JIDs are not reused after restart: " + body)
    for p in (pod, other):
        expect(sd.call("POST", "/delete", p)[0] == 200, "delete after restart")


def check_long_names(sd):
    """Issue 13: every pod name the API server accepts (63, 64, 65, 200, 253 characters, and
    two 253-character names differing only at the end) is created, reported, logged and
    deleted; a 63-character container name too."""
    pods = []
    for label, name in long_pod_names("m"):
        pod = make_pod("uid-long-" + label, name, {"pending-seconds": "0", "run-seconds": "0.2"},
                       containers=(MAX_LABEL,))
        code, body = sd.call("POST", "/create", {"pod": pod, "container": []})
        expect(code == 200, "create %s: %d %s" % (label, code, body))
        pods.append((label, pod, json.loads(body)["PodJID"]))
    expect(len({jid for _, _, jid in pods}) == len(pods), "distinct JIDs: %r" % pods)
    for label, pod, jid in pods:
        st = wait_for(sd, pod, all_terminated, "long pod %s to finish" % label)
        expect(st["name"] == pod["metadata"]["name"] and st["JID"] == jid, json.dumps(st))
        code, body = sd.call("GET", "/getLogs", log_struct(pod, MAX_LABEL))
        expect(code == 200 and body.endswith("exited with code 0\n"), "%s: %r" % (label, body))
    code, body = sd.call("GET", "/status", [p for _, p, _ in pods])
    expect(code == 200 and len(json.loads(body)) == len(pods), "batched status: " + body[:300])
    for label, pod, _ in pods:
        code, body = sd.call("POST", "/delete", pod)
        expect(code == 200, "delete %s: %d %s" % (label, code, body))
        expect(status_of(sd, pod) is None, "%s gone" % label)
    too_long = make_pod("uid-254", "x" * 254)
    code, body = sd.call("POST", "/create", {"pod": too_long, "container": []})
    expect(code == 400 and "DNS-1123 subdomain" in body, "254 chars: %d %s" % (code, body))


def main():
    if len(sys.argv) != 2:
        print("usage: %s /path/to/mock-sd" % sys.argv[0])
        return 2
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        print("FAIL: %s is not an executable" % binary)
        return 1
    workdir = tempfile.mkdtemp(prefix="mock-sd-it-")
    sd = Sidecar(binary, workdir)
    passed, failed = 0, 0
    try:
        sd.start()
        for check in (check_ping, check_lifecycle, check_failure, check_rejections,
                      check_follow, check_restart, check_long_names):
            try:
                check(sd)
                passed += 1
                print("PASS %s" % check.__name__)
            except Exception:  # noqa: BLE001 - report and go on
                failed += 1
                print("FAIL %s" % check.__name__)
                traceback.print_exc()
                if sd.proc.poll() is not None:
                    sd.start()
    except Exception:  # noqa: BLE001
        failed += 1
        traceback.print_exc()
    finally:
        sd.stop()
        if failed:
            for name in sorted(os.listdir(workdir)):
                if name.endswith(".log"):
                    print("--- %s" % name)
                    with open(os.path.join(workdir, name), errors="replace") as f:
                        print(f.read()[-4000:])
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
