#!/usr/bin/env python3
"""Integration test: the real bin/interlink in front of the real bin/mock-sd.

Drives create -> status -> logs (incl. follow) -> delete over TCP, unix sockets, TLS
with client certificates and bearer tokens, plus bad input: malformed JSON, huge bodies,
unknown pods, wrong tokens, sidecar down and back.

Usage: test_interlink.py BIN_DIR SOURCE_DIR
"""
import json
import os
import shutil
import ssl
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import integration as h  # noqa: E402
from harness.k8s_names import MAX_LABEL, long_pod_names  # noqa: E402

BIN = SRC = None


def create_body(p):
    return {"pod": p, "configmaps": [], "secrets": [], "projectedvolumesmaps": []}


class Stack:
    """mock-sd + interlink with one shared config, as the seed deploys them."""

    def __init__(self, il_listen="tcp", sd_listen="tcp", token=None, tls=False, sidecar_token=None):
        self.dir = h.tempdir("il-it-")
        self.token, self.tls = token, tls
        lines = [f'DataRootFolder: "{self.dir}/data"', 'SidecarService: "mock"']
        if sd_listen == "unix":
            self.sd_url = f"unix://{self.dir}/plugin.sock"
            lines.append(f'SidecarURL: "{self.sd_url}"')
        else:
            port = h.free_port()
            self.sd_url = f"http://127.0.0.1:{port}"
            lines += ['SidecarURL: "http://127.0.0.1"', f'SidecarPort: "{port}"']
        if il_listen == "unix":
            self.url = f"unix://{self.dir}/interlink.sock"
            lines += [f'InterlinkURL: "{self.url}"', 'InterlinkPort: "0"']
        else:
            port = h.free_port()
            scheme = "https" if tls else "http"
            self.url = f"{scheme}://127.0.0.1:{port}"
            lines += [f'InterlinkURL: "{scheme}://127.0.0.1"', f'InterlinkPort: "{port}"']
        if tls:
            d = os.path.join(SRC, "test/data/tls")
            lines += ["TLS:", "  Enabled: true", f"  CertFile: {d}/server.crt",
                      f"  KeyFile: {d}/server.key", f"  CACertFile: {d}/ca.crt"]
            self.ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
            self.ctx.load_cert_chain(f"{d}/client.crt", f"{d}/client.key")
        else:
            self.ctx = None
        if token:
            with open(f"{self.dir}/token", "w") as f:
                f.write(token + "\n")
            lines.append(f'VKTokenFile: "{self.dir}/token"')
        if sidecar_token:
            with open(f"{self.dir}/sdtoken", "w") as f:
                f.write(sidecar_token)
            lines.append(f'SidecarTokenFile: "{self.dir}/sdtoken"')
        cfg = h.write_config(self.dir, "\n".join(lines) + "\n")
        self.env = {"INTERLINKCONFIGPATH": cfg}
        for k in ("INTERLINKURL", "INTERLINKPORT", "SIDECARURL", "SIDECARPORT", "VKTOKENFILE"):
            os.environ.pop(k, None)
        self.sd = h.Daemon([f"{BIN}/mock-sd"], self.env, "mock-sd", self.dir)
        self.il = h.Daemon([f"{BIN}/interlink"], self.env, "interlink", self.dir)

    def __enter__(self):
        self.sd.start().wait_ready(self.sd_url)
        self.il.start().wait_ready(self.url, ssl_context=self.ctx)
        return self

    def __exit__(self, *exc):
        self.il.kill()
        self.sd.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, method, path, body=None, token="default", headers=None, timeout=30):
        tok = self.token if token == "default" else token
        return h.call(self.url, method, path, body, tok, headers, timeout, self.ctx)

    def status(self, pods):
        st, _, body = self.call("GET", "/status", pods)
        assert st == 200, (st, body)
        return {s["UID"]: s for s in json.loads(body) or []}

    def wait_terminated(self, p, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.status([p]).get(p["metadata"]["uid"])
            if s and s["containers"] and all(h.state_of(c)[0] == "terminated" for c in s["containers"]):
                return s
            time.sleep(0.1)
        raise AssertionError(f"pod never terminated; interlink log:\n{self.il.tail()}\nmock-sd:\n{self.sd.tail()}")


def uid():
    return str(uuid.uuid4())


class Lifecycle(unittest.TestCase):
    def run_lifecycle(self, stack):
        p = h.pod("busyecho", uid(), {"mock.interlink.io/run-seconds": "0.5",
                                      "mock.interlink.io/logs.main": "Hello from container\nsecond line"})
        st, hdrs, body = stack.call("POST", "/create", create_body(p), headers={"InterLink-Http-Session": "CreatePod#7"})
        self.assertEqual(st, 200, body)
        self.assertEqual(hdrs.get("interlink-http-session"), "CreatePod#7")
        created = json.loads(body)
        self.assertEqual(created["PodUID"], p["metadata"]["uid"])
        self.assertTrue(created["PodJID"])
        s = stack.wait_terminated(p)
        term = s["containers"][0]["state"]["terminated"]
        self.assertEqual(term["exitCode"], 0)
        self.assertEqual(s["JID"], created["PodJID"])
        log_req = {"Namespace": "default", "PodUID": p["metadata"]["uid"], "PodName": "busyecho",
                   "ContainerName": "main", "Opts": {"Tail": 1}}
        st, _, body = stack.call("GET", "/getLogs", log_req)
        self.assertEqual(st, 200, body)
        self.assertEqual(body.decode(), "second line\n")
        st, _, body = stack.call("DELETE", "/delete", p)
        self.assertEqual(st, 200, body)
        self.assertEqual(stack.status([p]), {})

    def test_tcp(self):
        with Stack() as s:
            self.run_lifecycle(s)

    def test_unix_sockets_both_hops_with_tokens(self):
        with Stack(il_listen="unix", sd_listen="unix", token="vk-secret", sidecar_token="sd-secret") as s:
            self.run_lifecycle(s)
            self.assertEqual(s.call("POST", "/pinglink", token=None)[0], 401)
            self.assertEqual(s.call("POST", "/pinglink", token="wrong")[0], 403)
            # The sidecar itself refuses callers without its token.
            self.assertEqual(h.call(s.sd_url, "GET", "/status", [])[0], 401)

    def test_tls_with_client_certificates(self):
        with Stack(tls=True, token="t0k") as s:
            self.run_lifecycle(s)
            noclient = ssl.create_default_context(cafile=os.path.join(SRC, "test/data/tls/ca.crt"))
            with self.assertRaises(Exception):
                h.call(s.url, "POST", "/pinglink", token="t0k", ssl_context=noclient)

    def test_failing_container_reports_exit_code_and_init_order(self):
        with Stack() as s:
            p = h.pod("fails", uid(), {"mock.interlink.io/run-seconds": "0.3",
                                        "mock.interlink.io/exit-code.main": "3"},
                      init_containers=[{"name": "init1", "image": "busybox"}])
            self.assertEqual(s.call("POST", "/create", create_body(p))[0], 200)
            st = s.wait_terminated(p)
            self.assertEqual(st["containers"][0]["state"]["terminated"]["exitCode"], 3)
            self.assertEqual(st["initContainers"][0]["state"]["terminated"]["exitCode"], 0)

    def test_follow_streams_until_the_container_ends_and_many_pods_batch(self):
        with Stack() as s:
            p = h.pod("ticker", uid(), {"mock.interlink.io/run-seconds": "1.5",
                                        "mock.interlink.io/log-interval-seconds": "0.2"})
            self.assertEqual(s.call("POST", "/create", create_body(p))[0], 200)
            time.sleep(0.4)
            log_req = {"Namespace": "default", "PodUID": p["metadata"]["uid"], "PodName": "ticker",
                       "ContainerName": "main", "Opts": {"Follow": True, "Timestamps": True}}
            t0 = time.time()
            st, _, body = s.call("GET", "/getLogs", log_req, timeout=20)
            self.assertEqual(st, 200)
            lines = body.decode().splitlines()
            self.assertGreaterEqual(len(lines), 4, lines)
            self.assertGreater(time.time() - t0, 0.5, "follow must wait for new lines")
            self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ")
            pods = [h.pod(f"p{i}", uid(), {"mock.interlink.io/run-forever": "true"}) for i in range(200)]
            for q in pods:
                self.assertEqual(s.call("POST", "/create", create_body(q))[0], 200)
            self.assertEqual(len(s.status(pods)), 200)


    def test_every_pod_name_the_api_server_accepts_goes_through(self):
        # Issue 13: interlink refused a 65-character pod name (a valid DNS-1123 subdomain).
        ns = "n" * 63
        with Stack() as s:
            pods = [h.pod(name, uid(), {"mock.interlink.io/run-seconds": "0.2"}, ns=ns,
                          containers=[{"name": MAX_LABEL, "image": "busybox"}])
                    for _, name in long_pod_names("i")]
            for p in pods:
                st, _, body = s.call("POST", "/create", create_body(p))
                self.assertEqual(st, 200, body)
            for p in pods:
                self.assertEqual(s.wait_terminated(p)["name"], p["metadata"]["name"])
                log_req = {"Namespace": ns, "PodUID": p["metadata"]["uid"],
                           "PodName": p["metadata"]["name"], "ContainerName": MAX_LABEL, "Opts": {}}
                st, _, body = s.call("GET", "/getLogs", log_req)
                self.assertEqual(st, 200, body)
                self.assertTrue(body.decode().endswith("exited with code 0\n"), body)
            self.assertEqual(len(s.status(pods)), len(pods))
            for p in pods:
                st, _, body = s.call("DELETE", "/delete", p)
                self.assertEqual(st, 200, body)
            self.assertEqual(s.status(pods), {})
            p = h.pod("x" * 254, uid())
            st, _, body = s.call("POST", "/create", create_body(p))
            self.assertEqual(st, 400, body)
            self.assertIn(b"DNS-1123 subdomain", body)


class BadInput(unittest.TestCase):
    def test_bad_requests_get_clear_errors_and_nothing_crashes(self):
        with Stack(token="tok") as s:
            for method, path, body, want in [
                ("POST", "/create", "{not json", 400),
                ("POST", "/create", {"pod": {"metadata": {"name": "x", "uid": "$(reboot)"}}}, 400),
                ("POST", "/create", {"nopod": 1}, 400),
                ("DELETE", "/delete", "[", 400),
                ("GET", "/status", {"pods": 5}, 400),
                ("GET", "/getLogs", {"Namespace": "default", "PodUID": uid(), "Opts": {"Tail": 1, "Bytes": 1}}, 400),
                ("GET", "/getLogs", {"Namespace": "default", "PodUID": uid(), "ContainerName": "main"}, 404),
                ("DELETE", "/delete", h.pod("ghost", uid()), 404),
                ("POST", "/create", "x" * (200 << 20), 413),
            ]:
                try:
                    st, _, rb = s.call(method, path, body, timeout=60)
                except (BrokenPipeError, ConnectionResetError):
                    st, rb = 413, b"(connection closed early)"
                self.assertEqual(st, want, f"{method} {path}: {rb[:200]}")
                if st != 413:
                    err = json.loads(rb)
                    self.assertIn("message", err)
            self.assertEqual(s.status([h.pod("ghost", uid())]), {})
            self.assertEqual(s.call("POST", "/pinglink", token="nope")[0], 403)
            self.assertEqual(s.call("POST", "/pinglink")[0], 200, "still serving")

    def test_sidecar_down_and_back(self):
        with Stack() as s:
            s.sd.kill()
            st, _, body = s.call("POST", "/pinglink")
            self.assertEqual(st, 503, body)
            self.assertIn("sidecar", json.loads(body)["message"])
            st, _, _ = s.call("POST", "/create", create_body(h.pod("p", uid())))
            self.assertEqual(st, 503)
            s.sd.start().wait_ready(s.sd_url)
            self.assertEqual(s.call("POST", "/pinglink")[0], 200)
            self.assertEqual(s.call("POST", "/create", create_body(h.pod("p", uid())))[0], 200)


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    for b in ("interlink", "mock-sd"):
        if not os.access(f"{BIN}/{b}", os.X_OK):
            print(f"SKIP: {BIN}/{b} is not built")
            sys.exit(h.SKIP)
    unittest.main(argv=[sys.argv[0], "-v"])
