#!/usr/bin/env python3
"""Integration test of the status-watch extension (docs/plugin-protocol.md, "Status watch
extension v1") with the real bin/interlink in front of the real bin/mock-sd:

  (a) a status change arrives through interLink's /status/watch as it happens, long before
      any poll interval would have asked, and with `statuses=true` the answer carries the
      new status itself (no /status call reaches the sidecar);
  (b) an upstream-style plugin without the extension (a minimal one in this file) still
      works behind interLink by polling: nothing advertised, /status/watch is 404;
  (c) idle cost: with a watch pending, the sidecar serves no request in 5 s.

Usage: test_status_watch.py BIN_DIR SOURCE_DIR
"""
import http.server
import json
import os
import shutil
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import integration as h  # noqa: E402

BIN = SRC = None
EXT = "interlink-cpp.io/status-watch"


class Stack:
    """A sidecar (mock-sd, or an external plugin at sd_url) + interlink, with a vk token."""

    def __init__(self, sd_port=None):
        self.dir = h.tempdir("il-watch-")
        self.token = "vk-secret"
        with open(f"{self.dir}/token", "w") as f:
            f.write(self.token + "\n")
        port = sd_port or h.free_port()
        self.sd_url = f"http://127.0.0.1:{port}"
        il_port = h.free_port()
        self.url = f"http://127.0.0.1:{il_port}"
        cfg = h.write_config(self.dir, "\n".join([
            f'DataRootFolder: "{self.dir}/data"', 'SidecarService: "mock"',
            'SidecarURL: "http://127.0.0.1"', f'SidecarPort: "{port}"',
            'InterlinkURL: "http://127.0.0.1"', f'InterlinkPort: "{il_port}"',
            f'VKTokenFile: "{self.dir}/token"']) + "\n")
        env = {"INTERLINKCONFIGPATH": cfg}
        for k in ("INTERLINKURL", "INTERLINKPORT", "SIDECARURL", "SIDECARPORT", "VKTOKENFILE"):
            os.environ.pop(k, None)
        self.sd = None if sd_port else h.Daemon([f"{BIN}/mock-sd"], env, "mock-sd", self.dir)
        self.il = h.Daemon([f"{BIN}/interlink"], env, "interlink", self.dir)

    def __enter__(self):
        if self.sd:
            self.sd.start().wait_ready(self.sd_url)
        self.il.start().wait_ready(self.url)
        return self

    def __exit__(self, *exc):
        self.il.kill()
        if self.sd:
            self.sd.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, method, path, body=None, timeout=60):
        return h.call(self.url, method, path, body, self.token, None, timeout)

    def watch(self, since, timeout, statuses=False):
        extra = "&statuses=true" if statuses else ""
        st, _, body = self.call("GET", f"/status/watch?since={since}&timeout={timeout}{extra}",
                                timeout=timeout + 30)
        assert st == 200, (st, body)
        return json.loads(body)

    def ping(self):
        st, _, body = self.call("POST", "/pinglink")
        assert st == 200, (st, body)
        return json.loads(body)


def sidecar_requests(url, path=None):
    """Requests the sidecar served so far (to `path`, or all), by its /metrics (its own
    scrapes left out)."""
    st, _, body = h.call(url, "GET", "/metrics")
    assert st == 200
    total = 0
    for line in body.decode().splitlines():
        if not line.startswith("interlink_http_requests_total{") or 'path="/metrics"' in line:
            continue
        if path is None or f'path="{path}"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


class Watch(unittest.TestCase):
    def test_a_change_arrives_through_the_watch_as_it_happens(self):
        with Stack() as s:
            ext = s.ping().get("extensions", {}).get(EXT)
            self.assertEqual((ext or {}).get("version"), "v1", s.ping())
            first = s.watch("", 5)
            self.assertTrue(first["reset"], "an empty cursor starts with a full read")
            uid = str(uuid.uuid4())
            p = h.pod("w1", uid, {"mock.interlink.io/pending-seconds": "2",
                                  "mock.interlink.io/run-seconds": "60"})
            st, _, body = s.call("POST", "/create", {"pod": p, "configmaps": [], "secrets": [],
                                                     "projectedvolumesmaps": []})
            self.assertEqual(st, 200, body)
            created_at = time.time()
            c = s.watch(first["cursor"], 30)
            self.assertIn(uid, c["uids"], "the create itself is a change")
            # Pending for 2 s: the watch answers when it starts running, not at its timeout.
            c = s.watch(c["cursor"], 30)
            took = time.time() - created_at
            self.assertEqual(c["uids"], [uid])
            self.assertGreater(took, 1.8)
            print(f"pending 2 s: the watch answered {took:.2f} s after the create")
            self.assertLess(took, 2.6, f"the change took {took:.2f} s to arrive")
            st, _, body = s.call("GET", "/status", [p])
            self.assertEqual(st, 200, body)
            self.assertEqual(h.state_of(json.loads(body)[0]["containers"][0])[0], "running")
            # Bad input: a clear 400, never a hang; and the path is authenticated.
            self.assertNotIn("statuses", c, "a v1 caller gets the v1 answer")
            # The `statuses` feature: the answer itself carries the new status, and
            # nobody asked the sidecar's /status for it.
            self.assertTrue(ext.get("statuses"), ext)
            p2 = h.pod("w2", str(uuid.uuid4()), {"mock.interlink.io/pending-seconds": "1",
                                                  "mock.interlink.io/run-seconds": "60"})
            cursor = s.watch(c["cursor"], 0)["cursor"]
            st, _, body = s.call("POST", "/create", {"pod": p2, "configmaps": [], "secrets": [],
                                                     "projectedvolumesmaps": []})
            self.assertEqual(st, 200, body)
            status_calls = sidecar_requests(s.sd_url, "/status")
            uid2 = p2["metadata"]["uid"]
            deadline = time.time() + 10
            running = None
            while running is None and time.time() < deadline:
                c = s.watch(cursor, 10, statuses=True)
                cursor = c["cursor"]
                self.assertEqual(sorted(x["UID"] for x in c["statuses"]), sorted(c["uids"]))
                for x in c["statuses"]:
                    if x["UID"] == uid2 and h.state_of(x["containers"][0])[0] == "running":
                        running = x
            self.assertIsNotNone(running, "the running status arrived with the watch")
            self.assertEqual(sidecar_requests(s.sd_url, "/status"), status_calls)
            self.assertEqual(s.call("GET", "/status/watch?since=bogus&timeout=1")[0], 400)
            self.assertEqual(s.call("GET", "/status/watch?timeout=forever")[0], 400)
            self.assertEqual(h.call(s.url, "GET", "/status/watch?timeout=0")[0], 401)

    def test_idle_costs_no_sidecar_requests(self):
        with Stack() as s:
            cursor = s.watch("", 5)["cursor"]
            stop = threading.Event()
            answers = []

            def vk_like():  # what the vk does: one long poll after the other
                nonlocal cursor
                while not stop.is_set():
                    try:
                        c = s.watch(cursor, 30)
                    except (OSError, AssertionError):
                        return  # the stack is being torn down
                    answers.append(c)
                    cursor = c["cursor"]

            t = threading.Thread(target=vk_like, daemon=True)
            t.start()
            time.sleep(0.5)
            before = sidecar_requests(s.sd_url)
            time.sleep(5)
            after = sidecar_requests(s.sd_url)
            print(f"idle: {after - before} sidecar requests in 5 s with a watch pending")
            self.assertLessEqual(after - before, 0)
            self.assertEqual(answers, [])
            stop.set()


class UpstreamPlugin(http.server.BaseHTTPRequestHandler):
    """An upstream-style plugin: /status (with [] = ping), /create, /delete; no extensions."""
    pods = {}
    paths = []

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n) or b"null")
        path = self.path.split("?")[0]
        UpstreamPlugin.paths.append(path)
        if path == "/status":
            if not body:
                return self.reply(200, {"status": "ok"})
            out = []
            for p in body:
                u = p["metadata"]["uid"]
                if u in self.pods:
                    out.append({"name": p["metadata"]["name"], "UID": u, "namespace": "default",
                                "JID": "j-" + u, "containers": [{"name": "main", "state": {
                                    "running": {"startedAt": "2024-01-01T00:00:00Z"}}}]})
            return self.reply(200, out)
        if path == "/create":
            for d in body if isinstance(body, list) else [body]:
                self.pods[d["pod"]["metadata"]["uid"]] = d["pod"]
            return self.reply(200, [{"PodUID": d["pod"]["metadata"]["uid"], "PodJID": "j"}
                                    for d in (body if isinstance(body, list) else [body])])
        if path == "/delete":
            self.pods.pop(body["metadata"]["uid"], None)
            return self.reply(200, "deleted")
        self.send_response(404)
        self.send_header("Content-Length", "18")
        self.end_headers()
        self.wfile.write(b"404 page not found")

    do_GET = do_POST = do_DELETE = handle_any


class Upstream(unittest.TestCase):
    def test_a_plugin_without_the_extension_keeps_working_by_polling(self):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), UpstreamPlugin)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            with Stack(sd_port=srv.server_address[1]) as s:
                self.assertNotIn(EXT, s.ping().get("extensions", {}))
                st, _, body = s.call("GET", "/status/watch?since=&timeout=1")
                self.assertEqual(st, 404, body)
                uid = str(uuid.uuid4())
                p = h.pod("up", uid)
                st, _, body = s.call("POST", "/create", {"pod": p, "configmaps": [], "secrets": [],
                                                         "projectedvolumesmaps": []})
                self.assertEqual(st, 200, body)
                st, _, body = s.call("GET", "/status", [p])
                self.assertEqual(st, 200, body)
                self.assertEqual(json.loads(body)[0]["UID"], uid)
        finally:
            srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    BIN, SRC = sys.argv[1], sys.argv[2]
    for b in ("interlink", "mock-sd"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            print(f"skipping: {BIN}/{b} not built")
            sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)
