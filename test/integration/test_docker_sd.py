#!/usr/bin/env python3
"""Integration test: bin/docker-sd against a real Docker engine (issue 4).

Starts the engine with scripts/docker/up when none answers (exit 77 = skip only if that fails),
runs the real docker-sd on 127.0.0.1 and checks every point of the issue: argv safety with
hostile input, shared network namespace, names and labels, init ordering and failure, command/
args/workingDir/env, imagePullPolicy, resources, runAsUser/Group, ConfigMap/Secret/projected/
emptyDir/hostPath volumes, batched status with exit codes, OOMKilled and waiting reasons, logs
(tail, since, timestamps, limitBytes, follow), delete with grace period, persistence across a
restart of docker-sd, ping. Leaves no container behind.

Usage: test_docker_sd.py --bin-dir BUILD/bin --source-dir REPO [-k name-substring]
"""
import argparse
import base64
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
import docker_harness as h  # noqa: E402
from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402

ARGS = None
ENV = None
SD = None
WORK = None
UIDS = []
IMAGE = None
CLI = None

HOSTILE = "it's \"quoted\"; echo $HOME `id` $(whoami) $(V) $$ ${X} \\ & | > /tmp/x\nsecond line\ttab"


def pod(name, spec, **kw):
    p = h.make_pod(name, spec, **kw)
    UIDS.append(p["metadata"]["uid"])
    return p


def ctr(name, command=None, args=None, **kw):
    c = {"name": name, "image": IMAGE, "imagePullPolicy": "Never"}
    if command is not None:
        c["command"] = command
    if args is not None:
        c["args"] = args
    c.update(kw)
    return c


def sh(name, script, **kw):
    return ctr(name, command=["sh", "-c", script], **kw)


def finished(st):
    return h.phase(st) in ("Succeeded", "Failed")


class DockerSdTest(unittest.TestCase):
    def run_pod(self, p, data=None, timeout=60):
        code, body = SD.create(data or h.retrieved(p))
        self.assertEqual(code, 200, body)
        return SD.wait(p, finished, timeout, "completion")

    def logs(self, p, container, **opts):
        code, body = SD.logs(p, container, **opts)
        self.assertEqual(code, 200, body)
        return body

    def delete(self, p):
        code, body = SD.delete(p)
        self.assertEqual(code, 200, body)
        self.assertEqual(h.containers_of(CLI, p["metadata"]["uid"]), [])

    # --- basics -------------------------------------------------------------------------
    def test_ping_reports_daemon_health_and_capacity(self):
        code, body = SD.call("/pinglink", b"")
        self.assertEqual(code, 200, body)
        ping = json.loads(body)
        self.assertEqual(ping["status"], "ok")
        self.assertEqual(ping["resources"]["cpu"], str(os.cpu_count()))
        self.assertTrue(ping["resources"]["memory"].endswith("Ki"))

    def test_status_watch_is_woken_by_create_and_the_docker_die_event(self):
        def watch(since, timeout):
            # With the `statuses` feature: each answer carries the named pods' statuses.
            url = "%s/status/watch?since=%s&timeout=%d&statuses=true" % (SD.url, since, timeout)
            with urllib.request.urlopen(url, timeout=timeout + 30) as r:
                return json.loads(r.read())
        code, body = SD.call("/pinglink", b"")
        self.assertEqual(code, 200, body)
        self.assertIn("interlink-cpp.io/status-watch", json.dumps(json.loads(body)))
        cursor = watch("", 0)["cursor"]
        p = pod("watched", {"restartPolicy": "Never",
                            "containers": [ctr("c", command=["sh", "-c", "sleep 3"])]})
        uid = p["metadata"]["uid"]
        code, body = SD.create(h.retrieved(p))
        self.assertEqual(code, 200, body)
        w = watch(cursor, 10)
        self.assertIn(uid, w["uids"])
        # Nothing polls in between: every wake (start, then the exit 3 s later) comes from
        # Docker's event stream; a watch that times out without the pod fails the test.
        deadline = time.monotonic() + 60
        while True:
            w = watch(w["cursor"], 30)
            self.assertIn(uid, w["uids"], "no wake for the pod within 30 s")
            carried = {s["UID"]: s for s in w.get("statuses", [])}
            self.assertIn(uid, carried, "the answer names the pod without its status")
            st = carried[uid]
            if h.state_of(st["containers"][0]) == "terminated":
                break
            self.assertLess(time.monotonic(), deadline)
        # What the answer carried from Docker is what /status says.
        self.assertEqual(st["containers"][0]["state"]["terminated"]["exitCode"], 0)
        self.assertEqual(SD.status([p])[uid]["containers"][0]["state"], st["containers"][0]["state"])
        self.assertEqual(SD.delete(p)[0], 200)

    def test_hostile_command_args_env_and_workdir_arrive_literally(self):
        p = pod("hostile", {"restartPolicy": "Never", "containers": [
            ctr("c", command=["sh", "-c", 'printf "%s|" "$@"; printf "\\n[%s]\\n" "$V"; pwd', "arg0"],
                args=[HOSTILE, "$HOME", ";", "a b", "", "--flag"],
                env=[{"name": "V", "value": HOSTILE}],
                workingDir="/tmp/dir with 'quotes' ;")]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Succeeded", st)
        out = self.logs(p, "c")
        self.assertEqual(out, HOSTILE + "|$HOME|;|a b||--flag|\n[" + HOSTILE + "]\n"
                         "/tmp/dir with 'quotes' ;\n")
        self.delete(p)

    def test_exit_codes_names_labels_and_times(self):
        p = pod("exit-code", {"restartPolicy": "Never", "containers": [sh("main", "echo x; exit 3")]},
                ns="team-a")
        st = self.run_pod(p)
        t = st["containers"][0]["state"]["terminated"]
        self.assertEqual((t["exitCode"], t["reason"]), (3, "Error"))
        self.assertTrue(t["startedAt"].endswith("Z") and t["finishedAt"] >= t["startedAt"])
        self.assertTrue(st["containers"][0]["containerID"].startswith("docker://"))
        uid = p["metadata"]["uid"]
        name = "il-team-a_exit-code_main_" + uid
        self.assertEqual(h.containers_of(CLI, uid), [name])
        labels = json.loads(h.docker(CLI, "inspect", "--format", "{{json .Config.Labels}}", name))
        self.assertEqual(labels["io.kubernetes.pod.uid"], uid)
        self.assertEqual(labels["io.kubernetes.pod.namespace"], "team-a")
        self.assertEqual(labels["io.kubernetes.pod.name"], "exit-code")
        self.assertNotIn("interlink.test", labels)
        self.delete(p)

    def test_same_names_in_two_pods_do_not_collide(self):
        spec = {"restartPolicy": "Never", "containers": [sh("c", "echo $POD_NAME")]}
        a, b = pod("twin", spec), pod("twin", spec)
        for x in (a, b):
            x["spec"]["containers"][0]["env"] = [{"name": "POD_NAME", "value": x["metadata"]["uid"]}]
            self.assertEqual(SD.create(h.retrieved(x))[0], 200)
        for x in (a, b):
            SD.wait(x, finished)
            self.assertEqual(self.logs(x, "c"), x["metadata"]["uid"] + "\n")
        for x in (a, b):
            self.delete(x)

    def test_pod_names_up_to_253_characters_run_and_get_bounded_unique_names(self):
        # Issue 13: every name the API server accepts works; Docker names stay <= 100
        # characters, keep the uid, and two 253-character names differing only at the end
        # get different containers. Labels keep the full names.
        ns = "n" * 63
        pods = []
        for label, name in long_pod_names("d"):
            p = pod(name, {"restartPolicy": "Never", "containers": [
                sh(MAX_LABEL, 'echo "$POD_NAME"'), sh("b", "echo b")]}, ns=ns)
            p["spec"]["containers"][0]["env"] = [{"name": "POD_NAME", "value": name}]
            code, body = SD.create(h.retrieved(p))
            self.assertEqual(code, 200, "%s: %s" % (label, body))
            pods.append((label, p))
        names = set()
        for label, p in pods:
            st = SD.wait(p, finished, 90, "completion of " + label)
            self.assertEqual(h.phase(st), "Succeeded", st)
            self.assertEqual(st["name"], p["metadata"]["name"])
            self.assertEqual(self.logs(p, MAX_LABEL), p["metadata"]["name"] + "\n")
            self.assertEqual(self.logs(p, "b"), "b\n")
            uid = p["metadata"]["uid"]
            mine = h.containers_of(CLI, uid)
            self.assertEqual(len(mine), 3, mine)  # sandbox + two containers
            for n in mine:
                self.assertLessEqual(len(n), 100, n)
                self.assertTrue(n.endswith("_" + uid), n)
                labels = json.loads(h.docker(CLI, "inspect", "--format",
                                             "{{json .Config.Labels}}", n))
                self.assertEqual(labels["io.kubernetes.pod.name"], p["metadata"]["name"])
                self.assertEqual(labels["io.kubernetes.pod.namespace"], ns)
            names.update(mine)
        self.assertEqual(len(names), 3 * len(pods))
        statuses = SD.status([p for _, p in pods])
        self.assertEqual(len(statuses), len(pods))
        for _, p in pods:
            self.delete(p)

    # --- pods with several containers -------------------------------------------------
    def test_containers_share_the_network_namespace(self):
        p = pod("netns", {"restartPolicy": "Never", "containers": [
            sh("server", "echo hello-from-server | nc -l -p 9000"),
            sh("client", "for i in $(seq 1 100); do nc 127.0.0.1 9000 && exit 0; sleep 0.1; done; exit 1")]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(p, "client"), "hello-from-server\n")
        self.delete(p)

    def test_init_containers_run_in_order_before_app_containers(self):
        p = pod("init-order", {"restartPolicy": "Never", "initContainers": [
            sh("first", "sleep 1; echo first >> /w/order", volumeMounts=[{"name": "w", "mountPath": "/w"}]),
            sh("second", "echo second >> /w/order", volumeMounts=[{"name": "w", "mountPath": "/w"}])],
            "containers": [sh("app", "cat /w/order", volumeMounts=[{"name": "w", "mountPath": "/w"}])],
            "volumes": [{"name": "w", "emptyDir": {}}]})
        code, _ = SD.create(h.retrieved(p))
        self.assertEqual(code, 200)
        st = SD.status([p])[p["metadata"]["uid"]]
        self.assertEqual(h.state_of(st["containers"][0]), "waiting")
        self.assertEqual(st["containers"][0]["state"]["waiting"]["reason"], "PodInitializing")
        st = SD.wait(p, finished)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(p, "app"), "first\nsecond\n")
        ends = [c["state"]["terminated"] for c in st["initContainers"]]
        self.assertLessEqual(ends[0]["finishedAt"], ends[1]["startedAt"])
        self.delete(p)

    def test_failing_init_container_fails_the_pod_with_its_exit_code(self):
        p = pod("init-fail", {"restartPolicy": "Never",
                              "initContainers": [sh("boom", "exit 7")],
                              "containers": [sh("app", "echo never")]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Failed")
        self.assertEqual(st["initContainers"][0]["state"]["terminated"]["exitCode"], 7)
        time.sleep(1.5)  # the worker would have started the app by now if it were going to
        st = SD.status([p])[p["metadata"]["uid"]]
        self.assertEqual(h.state_of(st["containers"][0]), "waiting")
        self.assertFalse(any("_app_" in n for n in h.containers_of(CLI, p["metadata"]["uid"])))
        self.delete(p)

    # --- settings of a container ----------------------------------------------------
    def test_run_as_user_group_and_resources(self):
        p = pod("limits", {"restartPolicy": "Never", "securityContext": {"runAsUser": 1234, "runAsGroup": 5678},
                           "containers": [sh("c", "id -u; id -g", resources={
                               "limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "250m"}})]})
        st = self.run_pod(p)
        self.assertEqual(self.logs(p, "c"), "1234\n5678\n")
        name = h.containers_of(CLI, p["metadata"]["uid"])[0]
        hc = json.loads(h.docker(CLI, "inspect", "--format", "{{json .HostConfig}}", name))
        self.assertEqual(hc["NanoCpus"], 500000000)
        self.assertEqual(hc["Memory"], 64 * 1024 * 1024)
        self.assertEqual(hc["CpuShares"], 256)
        self.assertEqual(h.phase(st), "Succeeded")
        self.delete(p)

    def test_oom_killed_is_reported(self):
        p = pod("oom", {"restartPolicy": "Never", "containers": [
            sh("hog", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
               resources={"limits": {"memory": "8Mi"}})]})
        st = self.run_pod(p, timeout=90)
        # The reason may read Error for a moment when dockerd saw the exit before the OOM
        # notice; docker-sd's `oom` event handling settles it (test_docker_sd_probes.py).
        st = SD.wait(p, lambda s: s["containers"][0]["state"]["terminated"]["reason"] ==
                     "OOMKilled", 10, "OOMKilled (first: %s)" % st["containers"][0]["state"])
        t = st["containers"][0]["state"]["terminated"]
        self.assertEqual((t["reason"], t["exitCode"]), ("OOMKilled", 137), st)
        self.delete(p)

    def test_missing_image_is_a_clear_waiting_reason(self):
        p = pod("no-image", {"containers": [dict(ctr("c"), image="interlink-test/does-not-exist:1")]})
        code, body = SD.create(h.retrieved(p))
        self.assertEqual(code, 200, body)
        st = SD.wait(p, lambda s: h.state_of(s["containers"][0]) == "waiting" and
                     s["containers"][0]["state"]["waiting"]["reason"] == "ErrImageNeverPull")
        self.assertIn("does-not-exist", st["containers"][0]["state"]["waiting"]["message"])
        code, body = SD.logs(p, "c")
        self.assertEqual(code, 400, body)
        self.assertIn("waiting to start", body)
        self.delete(p)

    def test_start_error_is_reported(self):
        p = pod("bad-cmd", {"restartPolicy": "Never", "containers": [ctr("c", command=["/no/such/binary"])]})
        st = self.run_pod(p)
        t = st["containers"][0]["state"]["terminated"]
        self.assertEqual(t["reason"], "StartError")
        self.assertNotEqual(t["exitCode"], 0)
        self.delete(p)

    # --- volumes --------------------------------------------------------------------
    def test_configmap_secret_projected_and_emptydir_contents(self):
        cm_text = "line one\nline 'two' \"2\"\n$NOT_EXPANDED;\n"
        secret = "s3cr3t\npass; `word`\n"
        p = pod("volumes", {"restartPolicy": "Never", "containers": [sh("c", " ; ".join([
            "cat /cm/app.conf", "echo ---", "cat /cm-items/sub/renamed", "echo ---", "ls /cm-items",
            "echo ---", "cat /sec/password", "echo ---", "stat -c %a /sec/password /cm/app.conf /cm-items/sub/renamed",
            "echo ---", "cat /proj/ca.crt /proj/podname", "echo ---", "echo shared > /e/x; cat /e/x",
            "echo ---", "cat /single.conf"]), volumeMounts=[
                {"name": "cm", "mountPath": "/cm"}, {"name": "cm-items", "mountPath": "/cm-items"},
                {"name": "sec", "mountPath": "/sec"}, {"name": "proj", "mountPath": "/proj"},
                {"name": "e", "mountPath": "/e"},
                {"name": "cm", "mountPath": "/single.conf", "subPath": "app.conf"}])],
            "volumes": [
                {"name": "cm", "configMap": {"name": "app-config"}},
                {"name": "cm-items", "configMap": {"name": "app-config", "items": [
                    {"key": "other", "path": "sub/renamed", "mode": 0o600}]}},
                {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}},
                {"name": "proj", "projected": {"sources": [
                    {"downwardAPI": {"items": [{"path": "podname", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
                {"name": "e", "emptyDir": {}}]})
        cms = [{"metadata": {"name": "app-config"}, "data": {"app.conf": cm_text, "other": "O\n"}}]
        secs = [{"metadata": {"name": "creds"},
                 "data": {"password": base64.b64encode(secret.encode()).decode()}}]
        proj = [{"metadata": {"name": "proj"}, "data": {"ca.crt": "CERT\n", "podname": "volumes\n"}}]
        st = self.run_pod(p, h.retrieved(p, cms, secs, proj))
        self.assertEqual(h.phase(st), "Succeeded", st)
        want = "\n".join([cm_text.rstrip("\n"), "---", "O", "---", "sub", "---", secret.rstrip("\n"),
                          "---", "400", "644", "600", "---", "CERT", "volumes", "---", "shared",
                          "---", cm_text.rstrip("\n")]) + "\n"
        self.assertEqual(self.logs(p, "c"), want)
        pod_dir = os.path.join(WORK, "data/docker-sd/pods", p["metadata"]["uid"])
        self.assertTrue(os.path.isdir(pod_dir))
        self.delete(p)
        self.assertFalse(os.path.exists(pod_dir))

    def test_hostpath_only_within_the_allow_list(self):
        allowed = os.path.join(WORK, "allowed")
        with open(os.path.join(allowed, "data.txt"), "w") as f:
            f.write("from the host\n")
        ok = pod("hostpath", {"restartPolicy": "Never", "containers": [sh("c", "cat /h/data.txt", volumeMounts=[
            {"name": "h", "mountPath": "/h"}])], "volumes": [{"name": "h", "hostPath": {"path": allowed}}]})
        st = self.run_pod(ok)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(ok, "c"), "from the host\n")
        self.delete(ok)
        bad = pod("hostpath-bad", {"containers": [sh("c", "cat /h/shadow", volumeMounts=[
            {"name": "h", "mountPath": "/h"}])], "volumes": [{"name": "h", "hostPath": {"path": "/etc"}}]})
        code, body = SD.create(h.retrieved(bad))
        self.assertEqual(code, 400, body)
        self.assertIn("HostPathAllowList", body)
        self.assertEqual(h.containers_of(CLI, bad["metadata"]["uid"]), [])
        code, _ = SD.delete(bad)
        self.assertEqual(code, 404)

    # --- isolation (issue 9) ------------------------------------------------------------
    def test_subpath_symlink_planted_by_an_init_container_is_refused(self):
        marker = os.path.join(WORK, "host-marker.txt")
        with open(marker, "w") as f:
            f.write("HOST SECRET\n")
        p = pod("subpath-escape", {"restartPolicy": "Never", "initContainers": [
            sh("plant", "ln -s / /scratch/x && ls -l /scratch", volumeMounts=[
                {"name": "scratch", "mountPath": "/scratch"}])],
            "containers": [sh("app", "cat /host" + marker + "; ls /host", volumeMounts=[
                {"name": "scratch", "mountPath": "/host", "subPath": "x"}])],
            "volumes": [{"name": "scratch", "emptyDir": {}}]})
        code, body = SD.create(h.retrieved(p))
        self.assertEqual(code, 200, body)
        st = SD.wait(p, lambda s: h.state_of(s["containers"][0]) == "waiting" and
                     s["containers"][0]["state"]["waiting"]["reason"] == "CreateContainerConfigError",
                     timeout=60, what="CreateContainerConfigError")
        msg = st["containers"][0]["state"]["waiting"]["message"]
        self.assertIn("symbolic link", msg)
        self.assertIn("/x", msg)
        # The app container never ran, so nothing of the host reached it.
        names = h.containers_of(CLI, p["metadata"]["uid"])
        self.assertFalse(any(n.startswith("il-default_subpath-escape_app_") for n in names), names)
        urllib.request.urlopen(SD.url + "/healthz", timeout=5).read()  # still up
        self.delete(p)

    def test_subpath_swapped_for_a_symlink_while_running_does_not_reach_dockers_own_restarts(self):
        # Docker restarts `app` by itself (--restart=always) and would resolve the subPath again;
        # docker-sd pins the checked directory, so the swap by `swap` has no effect.
        p = pod("subpath-pin", {"restartPolicy": "Always", "terminationGracePeriodSeconds": 1,
            "initContainers": [sh("prep", "mkdir /scratch/x && echo original > /scratch/x/marker",
                                  volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}])],
            "containers": [
                sh("app", "echo run; ls /mnt; [ -e /mnt/marker ] && touch /mnt/started; sleep 2; exit 1",
                   volumeMounts=[
                    {"name": "scratch", "mountPath": "/mnt", "subPath": "x"}]),
                sh("swap", "while [ ! -e /scratch/x/started ]; do sleep 0.1; done; "
                           "mv /scratch/x /scratch/x.orig && ln -s / /scratch/x && ls -ld /scratch/x"
                           " && echo swapped; sleep 600",
                   volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}])],
            "volumes": [{"name": "scratch", "emptyDir": {}}]})
        uid = p["metadata"]["uid"]
        code, body = SD.create(h.retrieved(p))
        self.assertEqual(code, 200, body)
        app = [n for n in h.containers_of(CLI, uid) if n.startswith("il-default_subpath-pin_app_")]
        deadline = time.time() + 90
        while time.time() < deadline:
            app = [n for n in h.containers_of(CLI, uid) if n.startswith("il-default_subpath-pin_app_")]
            if app and int(h.docker(CLI, "inspect", "-f", "{{.RestartCount}}", app[0]).strip() or 0) >= 2:
                break
            time.sleep(0.5)
        else:
            self.fail("app was not restarted twice by Docker: " + SD.log_tail(20))
        self.assertIn("swapped", self.logs(p, "swap"))
        # RestartCount moves before the new run's output reaches the log: wait for the third
        # run's `ls` to be there.
        while True:
            out = h.docker(CLI, "logs", app[0])
            runs = out.split("run\n")[1:]
            if (len(runs) >= 3 and len(runs[-1].split()) >= 2) or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(len(runs), 3, out)
        for r in runs[1:]:  # every run after the swap still sees the pinned original directory
            self.assertEqual(r.split(), ["marker", "started"], out)
        self.assertNotIn("etc", out)
        mounts = open("/proc/self/mountinfo").read()
        self.assertIn(uid, mounts)  # pinned, not the fallback
        urllib.request.urlopen(SD.url + "/healthz", timeout=5).read()  # still up
        self.delete(p)
        self.assertNotIn(uid, open("/proc/self/mountinfo").read())
        self.assertEqual(glob.glob(os.path.join(WORK, "data", "**", uid), recursive=True), [])

    def test_subpath_that_is_a_real_directory_is_created_and_works(self):
        p = pod("subpath-ok", {"restartPolicy": "Never", "initContainers": [
            sh("prep", "mkdir -p /scratch/a && echo hi > /scratch/a/f", volumeMounts=[
                {"name": "scratch", "mountPath": "/scratch"}])],
            "containers": [sh("app", "cat /in/f; ls /new; echo ok", volumeMounts=[
                {"name": "scratch", "mountPath": "/in", "subPath": "a"},
                {"name": "scratch", "mountPath": "/new", "subPath": "made/by/sd"}])],
            "volumes": [{"name": "scratch", "emptyDir": {}}]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(p, "app"), "hi\nok\n")
        self.delete(p)

    def test_hostpath_through_a_symlink_inside_the_allow_list_is_refused(self):
        allowed = os.path.join(WORK, "allowed")
        link = os.path.join(allowed, "escape")
        if not os.path.islink(link):
            os.symlink("/", link)
        for name, vol, mount in [
                ("hp-link", {"path": link}, {"name": "h", "mountPath": "/h"}),
                ("hp-sub", {"path": allowed}, {"name": "h", "mountPath": "/h", "subPath": "escape"})]:
            p = pod(name, {"restartPolicy": "Never", "containers": [
                sh("c", "ls /h/etc", volumeMounts=[mount])],
                "volumes": [{"name": "h", "hostPath": vol}]})
            code, body = SD.create(h.retrieved(p))
            if code == 200:
                st = SD.wait(p, lambda s: h.state_of(s["containers"][0]) == "waiting" and
                             s["containers"][0]["state"]["waiting"]["reason"] ==
                             "CreateContainerConfigError", timeout=60, what="refusal")
                body = st["containers"][0]["state"]["waiting"]["message"]
                self.delete(p)
            self.assertIn("symbolic link", body, name)
            names = h.containers_of(CLI, p["metadata"]["uid"])
            self.assertEqual(names, [], name)

    def test_host_namespaces_are_refused_by_default(self):
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            p = pod("hostns-" + field.lower(), {field: True, "containers": [sh("c", "true")]})
            code, body = SD.create(h.retrieved(p))
            self.assertEqual(code, 400, body)
            self.assertIn("DockerAllowHostNamespaces", body)
            self.assertEqual(h.containers_of(CLI, p["metadata"]["uid"]), [])

    def test_env_and_secrets_travel_in_a_private_file_not_argv_or_state(self):
        secret = "sup3r-s3cret-%d" % os.getpid()
        p = pod("env-file", {"restartPolicy": "Never", "containers": [
            sh("c", 'echo "[$S]"; echo "[$M]"', env=[
                {"name": "S", "value": secret}, {"name": "M", "value": "two\nlines " + secret}])]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(p, "c"), "[%s]\n[two\nlines %s]\n" % (secret, secret))
        pod_dir = os.path.join(WORK, "data/docker-sd/pods", p["metadata"]["uid"])
        env_dir = os.path.join(pod_dir, "env")
        self.assertEqual(os.stat(pod_dir).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(env_dir).st_mode & 0o777, 0o700)
        for f in os.listdir(env_dir):
            self.assertEqual(os.stat(os.path.join(env_dir, f)).st_mode & 0o777, 0o600, f)
        name = h.containers_of(CLI, p["metadata"]["uid"])[0]
        args = json.loads(h.docker(CLI, "inspect", "--format", "{{json .Args}}", name))
        self.assertNotIn(secret, json.dumps(args))
        for root, _, files in os.walk(os.path.join(WORK, "data")):
            for f in files:
                if f.startswith("state.db"):
                    with open(os.path.join(root, f), "rb") as fh:
                        self.assertNotIn(secret.encode(), fh.read(), f)
        self.delete(p)

    def test_pids_limit_and_log_rotation_defaults(self):
        p = pod("limits", {"restartPolicy": "Never", "containers": [sh("c", "true")]})
        st = self.run_pod(p)
        self.assertEqual(h.phase(st), "Succeeded", st)
        name = h.containers_of(CLI, p["metadata"]["uid"])[0]
        host = json.loads(h.docker(CLI, "inspect", "--format", "{{json .HostConfig}}", name))
        self.assertEqual(host["PidsLimit"], 4096)
        self.assertEqual(host["LogConfig"]["Type"], "json-file")
        self.assertEqual(host["LogConfig"]["Config"], {"max-size": "10m", "max-file": "5"})
        self.delete(p)

    # --- logs -----------------------------------------------------------------------
    def test_logs_tail_since_timestamps_limit_and_stderr(self):
        p = pod("logs", {"restartPolicy": "Never", "containers": [
            sh("c", "echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; sleep 0.05; echo four >&2")]})
        self.run_pod(p)
        self.assertEqual(self.logs(p, "c"), "one\ntwo\nthree\nfour\n")
        self.assertEqual(self.logs(p, "c", Tail=2), "three\nfour\n")
        self.assertEqual(self.logs(p, "c", Bytes=6), "one\ntw")
        lines = self.logs(p, "c", Timestamps=True).splitlines()
        self.assertEqual(len(lines), 4)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$")
        self.assertEqual(self.logs(p, "c", SinceSeconds=3600), "one\ntwo\nthree\nfour\n")
        self.assertEqual(self.logs(p, "c", SinceTime="2200-01-01T00:00:00Z"), "")
        self.assertEqual(self.logs(p, "c", SinceTime=lines[2].split(" ")[0]), "three\nfour\n")
        code, _ = SD.logs(p, "nope")
        self.assertEqual(code, 404)
        self.delete(p)

    def test_logs_follow_streams_until_the_container_exits(self):
        p = pod("follow", {"restartPolicy": "Never", "containers": [
            sh("c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.3; done")]})
        self.assertEqual(SD.create(h.retrieved(p))[0], 200)
        SD.wait(p, lambda s: h.state_of(s["containers"][0]) in ("running", "terminated"))
        req = {"Namespace": "default", "PodUID": p["metadata"]["uid"], "PodName": "follow",
               "ContainerName": "c", "Opts": {"Follow": True}}
        r = urllib.request.urlopen(urllib.request.Request(
            SD.url + "/getLogs", data=json.dumps(req).encode(), method="POST"), timeout=30)
        start = time.time()
        first = r.readline()
        first_at = time.time() - start
        rest = r.read()
        total = time.time() - start
        self.assertEqual(first, b"line1\n")
        self.assertEqual(rest, b"line2\nline3\nline4\nline5\n")
        self.assertLess(first_at, 1.0)   # streamed, not collected at the end
        self.assertGreater(total, 0.5)
        self.delete(p)

    def test_logs_follow_stops_when_the_reader_goes_away(self):
        p = pod("follow-gone", {"terminationGracePeriodSeconds": 1, "containers": [sh("c", "while true; do echo tick; sleep 0.1; done")]})
        self.assertEqual(SD.create(h.retrieved(p))[0], 200)
        SD.wait(p, lambda s: h.state_of(s["containers"][0]) == "running")
        req = {"Namespace": "default", "PodUID": p["metadata"]["uid"], "PodName": "follow-gone",
               "ContainerName": "c", "Opts": {"Follow": True}}
        r = urllib.request.urlopen(urllib.request.Request(
            SD.url + "/getLogs", data=json.dumps(req).encode(), method="POST"), timeout=30)
        self.assertEqual(r.readline(), b"tick\n")
        r.close()
        name = h.containers_of(CLI, p["metadata"]["uid"])[0]
        deadline = time.time() + 10
        while time.time() < deadline and self.follow_children(name):
            time.sleep(0.2)
        self.assertEqual(self.follow_children(name), [])
        self.delete(p)

    @staticmethod
    def follow_children(name):
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(SD.proc.pid)],
                             capture_output=True, text=True).stdout
        return [l for l in out.splitlines() if "logs" in l and name in l]

    # --- delete and persistence ------------------------------------------------------
    def test_delete_honours_the_grace_period(self):
        p = pod("grace", {"terminationGracePeriodSeconds": 2, "containers": [
            sh("c", "trap 'echo got TERM' TERM; while true; do sleep 0.1; done")]})
        self.assertEqual(SD.create(h.retrieved(p))[0], 200)
        SD.wait(p, lambda s: h.state_of(s["containers"][0]) == "running")
        time.sleep(0.3)
        start = time.time()
        self.delete(p)
        took = time.time() - start
        self.assertGreater(took, 1.5)
        self.assertLess(took, 15)
        self.assertEqual(SD.status([p]), {})

    def test_restart_of_docker_sd_neither_loses_nor_duplicates(self):
        global SD
        long = pod("survivor", {"terminationGracePeriodSeconds": 1, "containers": [sh("c", "sleep 600")]})
        staged = pod("staged", {"restartPolicy": "Never",
                                "initContainers": [sh("wait", "sleep 3")],
                                "containers": [sh("app", "echo after-restart")]})
        for p in (long, staged):
            code, body = SD.create(h.retrieved(p))
            self.assertEqual(code, 200, body)
        jid = body["PodJID"]
        SD.wait(long, lambda s: h.state_of(s["containers"][0]) == "running")
        before = {p["metadata"]["uid"]: h.containers_of(CLI, p["metadata"]["uid"]) for p in (long, staged)}
        SD.stop(signal.SIGKILL)  # no chance to clean up
        SD.start()
        st = SD.status([long, staged])
        self.assertEqual(h.state_of(st[long["metadata"]["uid"]]["containers"][0]), "running")
        code, again = SD.create(h.retrieved(staged))
        self.assertEqual((code, again["PodJID"]), (200, jid))
        code, _ = SD.create(h.retrieved(long))
        self.assertEqual(code, 200)
        self.assertEqual(h.containers_of(CLI, long["metadata"]["uid"]), before[long["metadata"]["uid"]])
        st = SD.wait(staged, finished, 30)
        self.assertEqual(h.phase(st), "Succeeded", st)
        self.assertEqual(self.logs(staged, "app"), "after-restart\n")
        names = h.containers_of(CLI, staged["metadata"]["uid"])
        self.assertEqual(len(names), 3, names)  # sandbox, init, app: exactly once each
        for p in (long, staged):
            self.delete(p)

    def test_unknown_pods_are_not_found_and_status_omits_them(self):
        p = h.make_pod("ghost", {"containers": [ctr("c")]})
        code, _ = SD.delete(p)
        self.assertEqual(code, 404)
        self.assertEqual(SD.status([p]), {})
        code, _ = SD.logs(p, "c")
        self.assertEqual(code, 404)

    def test_invalid_input_is_rejected_without_side_effects(self):
        for spec in ({"containers": [dict(ctr("c"), image="--privileged")]},
                     {"containers": [dict(ctr("c"), securityContext={"privileged": True})]},
                     {"containers": [ctr("c", volumeMounts=[{"name": "v", "mountPath": "/x", "subPath": "../../etc"}])],
                      "volumes": [{"name": "v", "emptyDir": {}}]}):
            p = pod("invalid", spec)
            code, body = SD.create(h.retrieved(p))
            self.assertEqual(code, 400, body)
            self.assertEqual(h.containers_of(CLI, p["metadata"]["uid"]), [])
        code, _ = SD.call("/create", b"{not json")
        self.assertEqual(code, 400)


def main():
    global ARGS, ENV, SD, WORK, IMAGE, CLI
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("-k", default="")
    ARGS = ap.parse_args()
    ENV = h.ensure_docker(ARGS.source_dir)
    if ENV is None:
        print("SKIP: no Docker engine could be started")
        return h.SKIP
    CLI, IMAGE = ENV["DOCKER"], ENV["IL_TEST_IMAGE"]
    WORK = tempfile.mkdtemp(prefix="il-docker-sd-test-")
    os.makedirs(os.path.join(WORK, "allowed"))
    SD = h.DockerSd(ARGS.bin_dir, WORK, CLI, {"HostPathAllowList": [os.path.join(WORK, "allowed")]})
    SD.start()
    try:
        loader = unittest.TestLoader()
        if ARGS.k:
            loader.testNamePatterns = ["*%s*" % ARGS.k]
        suite = loader.loadTestsFromTestCase(DockerSdTest)
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        if not result.wasSuccessful():
            print("---- docker-sd log (tail) ----\n" + SD.log_tail(60))
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
