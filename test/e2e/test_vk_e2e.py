#!/usr/bin/env python3
"""End-to-end tests of bin/vk on the local Kubernetes v1.20.2 control plane, with the real
bin/interlink in front of bin/mock-sd.

Usage: test_vk_e2e.py BIN_DIR SOURCE_DIR [unittest args, e.g. Basic or Faults]
Exits 77 (skip) when the control plane cannot be started.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, Stack, wait_until  # noqa: E402

from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402

BIN_DIR = SOURCE_DIR = None
CP = None


def phase(stack, name):
    p = stack.pod(name)
    return p and p.get("status", {}).get("phase")


def container_state(stack, name, idx=0, key="containerStatuses"):
    p = stack.pod(name)
    cs = (p or {}).get("status", {}).get(key) or []
    return cs[idx].get("state", {}) if len(cs) > idx else {}


def condition(obj, ctype):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == ctype:
            return c
    return {}


class StackTest(unittest.TestCase):
    stack = None
    stack_config = {}  # InterLinkConfig.yaml keys on top of the harness's

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(CP, BIN_DIR, config=cls.stack_config).start()
        try:
            wait_until("node Ready", lambda: condition(CP.get("node", cls.stack.node) or {}, "Ready")
                       .get("status") == "True", timeout=60)
        except AssertionError:
            print(cls.stack.logs())
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.stack:
            cls.stack.close()

    def run(self, result=None):
        # Print the daemons' logs when a test fails: they are gone afterwards.
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            print(self.stack.logs())
        return out

    def wait_phase(self, name, want, timeout=60):
        return wait_until(f"pod {name} {want}", lambda: phase(self.stack, name) == want, timeout)


class Basic(StackTest):
    # The harness configures Resources {CPU: 32, Memory: 64Gi, Pods: 200}; mock-sd's ping
    # reports more cpu than that, less memory, and zero pods (an unset Go field upstream).
    stack_config = {"MockCapacityCPU": '"48"', "MockCapacityMemory": '"16Gi"', "MockCapacityPods": '"0"'}

    def test_node_ready_with_fresh_lease(self):
        s = self.stack
        node = CP.get("node", s.node)
        labels = node["metadata"]["labels"]
        self.assertEqual(labels["type"], "virtual-kubelet")
        self.assertEqual(labels["kubernetes.io/role"], "agent")
        self.assertEqual(labels["kubernetes.io/hostname"], s.node)
        taints = {t["key"]: t for t in node["spec"]["taints"]}
        self.assertEqual(taints["virtual-node.interlink/no-schedule"]["effect"], "NoSchedule")
        self.assertEqual(taints["virtual-kubelet.io/provider"]["value"], "interlink")
        self.assertEqual(condition(node, "InterlinkConnectivity")["status"], "True")
        # Capacity from the ping reply, but never above what the admin configured, and a
        # zero never replaces a good value (upstream's #558).
        wait_until("the ping's capacity",
                   lambda: CP.get("node", s.node)["status"]["capacity"]["memory"] == "16Gi", timeout=30)
        node = CP.get("node", s.node)
        capacity = node["status"]["capacity"]
        self.assertEqual(capacity["cpu"], "32")  # 48 reported, 32 configured
        self.assertEqual(capacity["memory"], "16Gi")  # below the bound: as reported
        self.assertEqual(capacity["pods"], "200")  # 0 reported: ignored
        self.assertEqual(node["status"]["allocatable"], capacity)
        with open(s.daemons["vk"].log_path, errors="replace") as f:
            self.assertIn("ping: ignoring pods", f.read())
        self.assertEqual(node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"], s.kubelet_port)
        lease = CP.get("lease", s.node, "-n", "kube-node-lease")
        self.assertEqual(lease["spec"]["holderIdentity"], s.node)
        self.assertEqual(lease["metadata"]["ownerReferences"][0]["uid"], node["metadata"]["uid"])
        renew = time.mktime(time.strptime(lease["spec"]["renewTime"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertLess(abs(time.time() - renew), 20)

    def test_scheduled_pod_runs_then_succeeds(self):
        s = self.stack
        CP.apply(s.pod_spec("ok", {"mock.interlink.io/run-seconds": "3",
                                   "mock.interlink.io/pending-seconds": "0.5"}))
        self.wait_phase("ok", "Running")
        p = s.pod("ok")
        self.assertEqual(p["spec"]["nodeName"], s.node)  # placed by kube-scheduler
        self.assertEqual(condition(p, "Ready")["status"], "True")
        self.assertTrue(p["metadata"]["annotations"].get("JobID", "").startswith("mock-"))
        self.wait_phase("ok", "Succeeded")
        term = container_state(s, "ok")["terminated"]
        self.assertEqual(term["exitCode"], 0)
        self.assertEqual(term["reason"], "Completed")

    def test_slow_backend_shows_container_creating_with_its_job_id(self):
        # The vk holds a new pod's first status while the backend says only "being created"
        # (one PATCH fewer on fast backends), but for at most 2 x StatusSyncIntervalMs + 100 ms:
        # a pod the backend keeps pending must still show ContainerCreating and its JobID.
        s = self.stack
        CP.apply(s.pod_spec("slow", {"mock.interlink.io/pending-seconds": "12",
                                     "mock.interlink.io/run-seconds": "1"}))
        wait_until("slow ContainerCreating",
                   lambda: (container_state(s, "slow") or {}).get("waiting", {}).get("reason")
                   == "ContainerCreating", timeout=10)
        p = s.pod("slow")
        self.assertEqual(p["status"]["phase"], "Pending")
        self.assertTrue(p["metadata"]["annotations"].get("JobID", "").startswith("mock-"))
        self.wait_phase("slow", "Succeeded", timeout=60)

    def test_failing_container_fails_with_its_exit_code(self):
        s = self.stack
        CP.apply(s.pod_spec("fail", {"mock.interlink.io/run-seconds": "1",
                                     "mock.interlink.io/exit-code": "3"}))
        self.wait_phase("fail", "Failed")
        term = container_state(s, "fail")["terminated"]
        self.assertEqual(term["exitCode"], 3)
        self.assertEqual(term["reason"], "Error")

    def test_backend_rejection_is_provider_failed(self):
        s = self.stack
        CP.apply(s.pod_spec("rejected", {"mock.interlink.io/create-error": "quota exceeded"}))
        self.wait_phase("rejected", "Failed")
        st = s.pod("rejected")["status"]
        self.assertEqual(st["reason"], "ProviderFailed")
        self.assertIn("quota exceeded", st["message"])

    def test_logs_and_follow(self):
        s = self.stack
        CP.apply(s.pod_spec("logs", {"mock.interlink.io/run-seconds": "4",
                                     "mock.interlink.io/logs.main": "first\nsecond",
                                     "mock.interlink.io/log-interval-seconds": "0.5"}))
        self.wait_phase("logs", "Running")
        follow = subprocess.Popen([CP.env["KUBECTL"], "--kubeconfig", CP.env["KUBECONFIG"], "logs",
                                   "-f", "logs", "-n", s.namespace],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = follow.communicate(timeout=30)  # ends when the container ends
        except subprocess.TimeoutExpired:
            follow.kill()
            out, err = follow.communicate()
            self.fail("kubectl logs -f did not end with the container: " + out + err)
        self.assertEqual(follow.returncode, 0, err)
        self.assertIn("first", out)
        self.assertIn("tick 3", out)
        self.wait_phase("logs", "Succeeded")
        out = CP.kubectl("logs", "logs", "-n", s.namespace).stdout
        self.assertTrue(out.startswith("first\n"), out)
        tail = CP.kubectl("logs", "logs", "-n", s.namespace, "--tail=1").stdout
        self.assertEqual(len(tail.strip().splitlines()), 1, tail)
        stamped = CP.kubectl("logs", "logs", "-n", s.namespace, "--timestamps", "--limit-bytes=10").stdout
        self.assertEqual(len(stamped), 10, stamped)

    def test_init_containers_show_init_counts(self):
        s = self.stack
        CP.apply(s.pod_spec("init", {"mock.interlink.io/init-run-seconds": "2",
                                     "mock.interlink.io/run-seconds": "1"},
                            init=[{"name": "i1", "image": "busybox"}, {"name": "i2", "image": "busybox"}]))
        seen = set()

        def status_column():
            r = CP.kubectl("get", "pod", "init", "-n", s.namespace, "--no-headers", check=False)
            if r.returncode == 0:
                seen.add(r.stdout.split()[2])
            return "Completed" in seen

        wait_until("the init pod to complete", status_column, timeout=60, interval=0.3)
        self.assertTrue({"Init:0/2", "Init:1/2"} & seen, seen)
        self.assertEqual(phase(s, "init"), "Succeeded")
        inits = s.pod("init")["status"]["initContainerStatuses"]
        self.assertEqual([c["state"]["terminated"]["exitCode"] for c in inits], [0, 0])

    def test_configmap_secret_and_env_reach_the_sidecar(self):
        s = self.stack
        ns = s.namespace
        CP.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns},
                  "data": {"greeting": "héllo wörld", "app.conf": "a=1\nb=2\n"}})
        CP.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec", "namespace": ns},
                  "stringData": {"password": "p@ss w=rd;$HOME"}})
        containers = [{
            "name": "main", "image": "busybox",
            "command": ["echo", "$(GREETING)|$(PASS)|$(PLAIN)|$(CFG_greeting)"],
            "env": [{"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "greeting"}}},
                    {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
                    {"name": "PLAIN", "value": "plain value"},
                    {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k",
                                                                      "optional": True}}}],
            "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            "volumeMounts": [{"name": "c", "mountPath": "/etc/c"}, {"name": "s", "mountPath": "/etc/s"}]}]
        CP.apply(s.pod_spec("values", {"mock.interlink.io/run-seconds": "1"}, containers=containers,
                            volumes=[{"name": "c", "configMap": {"name": "cfg"}},
                                     {"name": "s", "secret": {"secretName": "sec"}}]))
        self.wait_phase("values", "Succeeded")
        out = CP.kubectl("logs", "values", "-n", ns).stdout
        self.assertEqual(out, "héllo wörld|p@ss w=rd;$HOME|plain value|héllo wörld\n")
        uid = s.pod("values")["metadata"]["uid"]
        creates = s.proxy.creates(uid)
        self.assertEqual(len(creates), 1)
        data = creates[0][1]
        env = {e["name"]: e.get("value") for e in data["pod"]["spec"]["containers"][0]["env"]}
        self.assertEqual(env["PASS"], "p@ss w=rd;$HOME")
        self.assertEqual(env["CFG_app.conf"], "a=1\nb=2\n")
        self.assertNotIn("OPT", env)
        container = data["container"][0]
        self.assertEqual(container["configMaps"][0]["data"]["app.conf"], "a=1\nb=2\n")
        self.assertEqual(base64.b64decode(container["secrets"][0]["data"]["password"]).decode(),
                         "p@ss w=rd;$HOME")

    def test_missing_configmap_waits_with_an_event(self):
        s = self.stack
        containers = [{"name": "main", "image": "busybox",
                       "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "later", "key": "k"}}}]}]
        CP.apply(s.pod_spec("waits", {"mock.interlink.io/run-seconds": "1"}, containers=containers))
        wait_until("CreateContainerConfigError", lambda: container_state(s, "waits").get("waiting", {})
                   .get("reason") == "CreateContainerConfigError", timeout=30)
        events = CP.get("events", "-n", s.namespace, "--field-selector", "involvedObject.name=waits")
        self.assertTrue(any("later" in e["message"] for e in events["items"]), events)
        CP.apply({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "later", "namespace": s.namespace}, "data": {"k": "v"}})
        self.wait_phase("waits", "Succeeded", timeout=90)

    def test_delete_removes_the_backend_job(self):
        s = self.stack
        CP.apply(s.pod_spec("forever", {"mock.interlink.io/run-forever": "true"}))
        self.wait_phase("forever", "Running")
        uid = s.pod("forever")["metadata"]["uid"]
        self.assertEqual(len(s.mock_status(uid)), 1)
        CP.kubectl("delete", "pod", "forever", "-n", s.namespace, "--wait=true", timeout=60)
        self.assertIsNone(s.pod("forever"))
        self.assertEqual(len(s.proxy.deletes(uid)), 1)
        self.assertEqual(s.mock_status(uid), [])

    def test_pods_named_up_to_253_characters_run_log_and_delete(self):
        # Issue 13: every name the API server accepts runs (a 65-character one used to end
        # ProviderFailed), its Events are accepted (their names are bounded subdomains), and
        # kubectl logs and delete work.
        s = self.stack
        names = [n for _, n in long_pod_names("e")]
        for n in names:
            CP.apply(s.pod_spec(n, {"mock.interlink.io/run-seconds": "1"},
                                containers=[{"name": MAX_LABEL, "image": "busybox"}]))
        for n in names:
            self.wait_phase(n, "Succeeded")
            out = CP.kubectl("logs", n, "-n", s.namespace).stdout
            self.assertTrue(out.endswith("exited with code 0\n"), out)
        uids = {s.pod(n)["metadata"]["uid"] for n in names}
        self.assertEqual(len(uids), len(names))

        def started_events():
            evs = json.loads(CP.kubectl("get", "events", "-n", s.namespace, "-o", "json").stdout)
            return {e["involvedObject"]["name"] for e in evs["items"]
                    if e["reason"] == "Started" and e["involvedObject"]["name"] in names}
        wait_until("Started events of every long pod", lambda: started_events() == set(names), 30)
        for n in names:
            CP.kubectl("delete", "pod", n, "-n", s.namespace, "--wait=true", timeout=60)
            self.assertIsNone(s.pod(n))
        for u in uids:
            self.assertEqual(s.mock_status(u), [])


class Faults(StackTest):
    def test_vk_kill9_restart_no_duplicates_and_statuses_converge(self):
        s = self.stack
        for i in range(4):
            CP.apply(s.pod_spec(f"long-{i}", {"mock.interlink.io/run-forever": "true"}))
        CP.apply(s.pod_spec("short", {"mock.interlink.io/run-seconds": "6"}))
        CP.apply(s.pod_spec("doomed", {"mock.interlink.io/run-forever": "true"}))
        for name in ["long-0", "long-1", "long-2", "long-3", "short", "doomed"]:
            self.wait_phase(name, "Running")
        uids = {p["metadata"]["name"]: p["metadata"]["uid"]
                for p in CP.get("pods", "-n", s.namespace)["items"]}
        s.daemons["vk"].stop(signal.SIGKILL)
        # While the VK is down: a pod is force-deleted, and "short" finishes in the backend.
        CP.kubectl("delete", "pod", "doomed", "-n", s.namespace, "--grace-period=0", "--force")
        time.sleep(7)
        self.assertEqual(phase(s, "short"), "Running")  # nobody wrote it yet
        s.start_vk()
        self.wait_phase("short", "Succeeded", timeout=30)
        wait_until("the force-deleted pod to leave the backend",
                   lambda: s.mock_status(uids["doomed"]) == [], timeout=30)
        for i in range(4):
            self.assertEqual(phase(s, f"long-{i}"), "Running")
        for name, uid in uids.items():
            self.assertEqual(len(s.proxy.creates(uid)), 1, f"{name} was created {len(s.proxy.creates(uid))} times")
        # A pod created after the restart works as usual.
        CP.apply(s.pod_spec("after", {"mock.interlink.io/run-seconds": "1"}))
        self.wait_phase("after", "Succeeded")

    def test_interlink_down_makes_the_node_not_ready(self):
        s = self.stack

        def ready():
            return condition(CP.get("node", s.node) or {}, "Ready")

        s.daemons["interlink"].stop()
        c = wait_until("node NotReady", lambda: ready() if ready().get("status") == "False" else None,
                       timeout=30)
        self.assertEqual(c["reason"], "InterlinkUnreachable")
        node = CP.get("node", s.node)
        self.assertEqual(condition(node, "InterlinkConnectivity")["status"], "False")
        s.start_interlink()
        wait_until("node Ready again", lambda: ready().get("status") == "True", timeout=30)

    def test_sidecar_down_makes_the_node_not_ready(self):
        s = self.stack
        s.daemons["mock-sd"].stop()
        c = wait_until("node NotReady", lambda: (lambda r: r if r.get("status") == "False" else None)(
            condition(CP.get("node", s.node) or {}, "Ready")), timeout=30)
        self.assertEqual(c["reason"], "SidecarUnreachable")
        s.daemons["mock-sd"].start()
        wait_until("node Ready again", lambda: condition(CP.get("node", s.node) or {}, "Ready")
                   .get("status") == "True", timeout=30)


def main():
    global BIN_DIR, SOURCE_DIR, CP
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    BIN_DIR, SOURCE_DIR = sys.argv[1], sys.argv[2]
    for b in ("vk", "interlink", "mock-sd"):
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
        return 0 if prog.result.wasSuccessful() else 1
    finally:
        CP.close()


if __name__ == "__main__":
    sys.exit(main())
