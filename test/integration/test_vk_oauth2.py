#!/usr/bin/env python3
"""Integration test: the real bin/vk keeps VKTokenFile fresh with the OAuth2
client-credentials flow (OAuth2: config block) against a local token endpoint.

No Kubernetes API is needed: the refresher runs before the vk registers its node, so the
vk is started against an unreachable API server and stopped once the token is written.

Usage: test_vk_oauth2.py BIN_DIR SOURCE_DIR
"""
import base64
import http.server
import json
import os
import shutil
import signal
import stat
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import integration as h  # noqa: E402

BIN = SRC = None
SECRET = "vk-s3cret"


class TokenEndpoint:
    """A loopback OAuth2 token endpoint that records requests and hands out tokens."""

    def __init__(self, expires_in=3600):
        self.requests, self.expires_in, self.count = [], expires_in, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                outer.count += 1
                reply = json.dumps({"access_token": f"token-{outer.count}", "token_type": "Bearer",
                                    "expires_in": outer.expires_in}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/realms/hpc/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


class VkOAuth2Test(unittest.TestCase):
    def setUp(self):
        self.dir = h.tempdir("il-vk-oauth2-")
        self.token_file = os.path.join(self.dir, "token")
        self.secret_file = os.path.join(self.dir, "secret")
        with open(self.secret_file, "w") as f:
            f.write(SECRET + "\n")
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        with open(kubeconfig, "w") as f:  # an API server nobody answers: the vk waits there
            f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{h.free_port()}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: "x"}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
current-context: c
""")
        self.kubeconfig = kubeconfig
        self.endpoint = TokenEndpoint()
        self.vk = None

    def tearDown(self):
        if self.vk:
            self.vk.kill(signal.SIGKILL)
        self.endpoint.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_vk(self, oauth2_lines):
        cfg = h.write_config(self.dir, "\n".join([
            'InterlinkURL: "http://127.0.0.1"', f'InterlinkPort: "{h.free_port()}"',
            f'VKTokenFile: "{self.token_file}"', "OAuth2:", *oauth2_lines]) + "\n")
        env = {"INTERLINKCONFIGPATH": cfg, "KUBELET_PORT": str(h.free_port())}
        for k in ("INTERLINKURL", "INTERLINKPORT", "VKTOKENFILE", "KUBECONFIG", "CUSTOMKUBECONF"):
            os.environ.pop(k, None)
        self.vk = h.Daemon([f"{BIN}/vk", "--nodename", "vk-oauth2", "--kubeconfig", self.kubeconfig],
                           env, "vk", self.dir).start()

    def test_token_file_is_written_0600_with_client_credentials(self):
        self.start_vk([f"  TokenURL: {self.endpoint.url}", "  ClientID: vk-node-1",
                       f"  ClientSecretFile: {self.secret_file}", "  Scope: interlink"])
        ok = wait_for(lambda: os.path.exists(self.token_file))
        self.assertTrue(ok, self.vk.tail())
        with open(self.token_file) as f:
            self.assertEqual(f.read(), "token-1")
        self.assertEqual(stat.S_IMODE(os.stat(self.token_file).st_mode), 0o600)
        path, headers, body = self.endpoint.requests[0]
        self.assertEqual(path, "/realms/hpc/token")
        self.assertEqual(urllib.parse.parse_qs(body),
                         {"grant_type": ["client_credentials"], "scope": ["interlink"]})
        auth = headers.get("authorization", "")
        self.assertEqual(base64.b64decode(auth.split(" ", 1)[1]).decode(), f"vk-node-1:{SECRET}")
        self.vk.kill(signal.SIGKILL)  # it is still waiting for the API server
        with open(self.vk.log_path, errors="replace") as f:
            self.assertNotIn(SECRET, f.read(), "the client secret must never be logged")

    def test_misconfiguration_stops_the_vk_with_a_clear_message(self):
        self.start_vk(["  TokenURL: http://idp.example/token", "  ClientID: vk-node-1",
                       f"  ClientSecretFile: {self.secret_file}"])
        self.assertTrue(wait_for(lambda: self.vk.proc.poll() is not None), "vk should exit")
        self.assertNotEqual(self.vk.proc.returncode, 0)
        self.assertIn("https://", self.vk.tail())


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    if not os.access(f"{BIN}/vk", os.X_OK):
        print(f"SKIP: {BIN}/vk is not built")
        sys.exit(h.SKIP)
    unittest.main(argv=[sys.argv[0], "-v"])
