#!/usr/bin/env python3
"""Integration test: every listener is closed by default (docs/security.md).

Runs the real bin/interlink, bin/mock-sd (the sidecars share their main) and bin/vk:
- with no configuration they listen on 127.0.0.1 only;
- on a non-loopback address without credentials they refuse to start, naming the keys;
- with a token, requests without it get 401 before the body is read, POST /status []
  lists nothing to an anonymous caller, and the escape hatch starts them with a warning;
- interlink authenticates to its sidecar with a token or a TLS client certificate;
- the vk refuses to send its token over plain HTTP to a non-loopback interLink.

Usage: test_listeners.py BIN_DIR SOURCE_DIR
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import integration as h  # noqa: E402

BIN = SRC = None
ENV_KEYS = ("INTERLINKURL", "INTERLINKPORT", "SIDECARURL", "SIDECARPORT", "VKTOKENFILE",
            "SIDECARSERVICE")


def non_loopback_ip():
    """An address of this host that is not loopback, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except OSError:
        return None
    for a in out.split():
        if ":" not in a and not a.startswith("127."):
            return a
    return None


def run_until_exit(argv, env, timeout=10):
    """Runs a binary expected to refuse to start; returns (exit code, output)."""
    e = dict(os.environ)
    for k in ENV_KEYS:
        e.pop(k, None)
    e.update(env)
    p = subprocess.run(argv, env=e, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


class Dir:
    def __init__(self):
        self.path = h.tempdir("il-listen-")

    def config(self, lines):
        return h.write_config(self.path, "\n".join(lines + [f'DataRootFolder: "{self.path}/data"']) + "\n")

    def file(self, name, text):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class ClosedByDefault(unittest.TestCase):
    def setUp(self):
        for k in ENV_KEYS:
            os.environ.pop(k, None)
        self.d = Dir()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        self.d.cleanup()

    def start(self, binary, cfg, url, name=None, ssl_context=None):
        d = h.Daemon([f"{BIN}/{binary}"], {"INTERLINKCONFIGPATH": cfg}, name or binary, self.d.path)
        self.daemons.append(d)
        d.start().wait_ready(url, ssl_context=ssl_context)
        return d

    def test_defaults_listen_on_loopback_only(self):
        il_port, sd_port = h.free_port(), h.free_port()
        cfg = self.d.config([f'InterlinkPort: "{il_port}"', f'SidecarPort: "{sd_port}"',
                             'SidecarService: "mock"'])
        self.start("mock-sd", cfg, f"http://127.0.0.1:{sd_port}")
        self.start("interlink", cfg, f"http://127.0.0.1:{il_port}")
        ip = non_loopback_ip()
        if ip is None:
            print("note: this host has no non-loopback IPv4 address; checked loopback only")
            return
        for port in (il_port, sd_port):
            with self.assertRaises(OSError, msg=f"port {port} answered on {ip}"):
                socket.create_connection((ip, port), timeout=2).close()

    def test_an_open_non_loopback_listener_refuses_to_start(self):
        port = h.free_port()
        cfg = self.d.config(['InterlinkURL: "http://0.0.0.0"', f'InterlinkPort: "{port}"',
                             'SidecarURL: "http://0.0.0.0"', f'SidecarPort: "{h.free_port()}"',
                             'SidecarService: "mock"'])
        for binary, key in (("interlink", "VKTokenFile"), ("mock-sd", "SidecarTokenFile")):
            code, out = run_until_exit([f"{BIN}/{binary}"], {"INTERLINKCONFIGPATH": cfg})
            self.assertNotEqual(code, 0, f"{binary} started on 0.0.0.0 without authentication:\n{out}")
            self.assertIn(key, out)
            self.assertIn("AllowUnauthenticatedListen", out)

    def test_the_escape_hatch_starts_with_a_warning(self):
        port = h.free_port()
        cfg = self.d.config(['InterlinkURL: "http://0.0.0.0"', f'InterlinkPort: "{port}"',
                             "AllowUnauthenticatedListen: true"])
        d = self.start("interlink", cfg, f"http://127.0.0.1:{port}")
        self.assertIn("WITHOUT authentication", d.tail())

    def test_a_token_guards_every_endpoint_but_healthz(self):
        sd_port, il_port = h.free_port(), h.free_port()
        tok = self.d.file("token", "s3cret\n")
        sdtok = self.d.file("sdtoken", "sidecar-s3cret\n")
        cfg = self.d.config(['InterlinkURL: "http://0.0.0.0"', f'InterlinkPort: "{il_port}"',
                             'SidecarURL: "http://0.0.0.0"', f'SidecarPort: "{sd_port}"',
                             'SidecarService: "mock"', f'VKTokenFile: "{tok}"',
                             f'SidecarTokenFile: "{sdtok}"'])
        self.start("mock-sd", cfg, f"http://127.0.0.1:{sd_port}")
        il = f"http://127.0.0.1:{il_port}"
        self.start("interlink", cfg, il)
        pod = h.pod("p", str(uuid.uuid4()), {"mock.interlink.io/run-seconds": "30"})
        create = {"pod": pod, "configmaps": [], "secrets": [], "projectedvolumesmaps": []}
        self.assertEqual(h.call(il, "POST", "/create", create, token="s3cret")[0], 200)
        for path in ("/create", "/delete", "/status", "/getLogs", "/pinglink", "/updateCache", "/metrics"):
            st, _, body = h.call(il, "POST", path, [])
            self.assertEqual(st, 401, f"{path}: {body}")
            self.assertEqual(h.call(il, "POST", path, [], token="wrong")[0], 403, path)
        # The anonymous "list every pod" of upstream: nothing leaks.
        st, _, body = h.call(il, "GET", "/status", [])
        self.assertEqual(st, 401)
        self.assertNotIn(pod["metadata"]["uid"].encode(), body)
        self.assertEqual(h.call(il, "GET", "/status", [pod], token="s3cret")[0], 200)
        st, _, body = h.call(il, "GET", "/status", [], token="s3cret")  # every cached pod
        self.assertEqual(st, 200, body)
        self.assertIn(pod["metadata"]["uid"], [s["UID"] for s in json.loads(body)])
        self.assertEqual(h.call(il, "GET", "/healthz")[0], 200)
        # The sidecar wants interlink's token, not the vk's, and interlink sends it.
        sd = f"http://127.0.0.1:{sd_port}"
        self.assertEqual(h.call(sd, "GET", "/status", [])[0], 401)
        self.assertEqual(h.call(sd, "GET", "/status", [], token="s3cret")[0], 403)
        self.assertEqual(h.call(il, "POST", "/pinglink", token="s3cret")[0], 200)
        self.assertEqual(h.call(il, "DELETE", "/delete", pod, token="s3cret")[0], 200)

    def test_a_refused_caller_never_gets_its_body_read(self):
        port = h.free_port()
        tok = self.d.file("token", "s3cret\n")
        cfg = self.d.config([f'InterlinkPort: "{port}"', f'VKTokenFile: "{tok}"'])
        self.start("interlink", cfg, f"http://127.0.0.1:{port}")
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        t0 = time.time()
        s.sendall(b"POST /create HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        reply = s.recv(4096)
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 401"), reply)
        self.assertLess(time.time() - t0, 3)

    def test_interlink_reaches_its_sidecar_with_a_client_certificate(self):
        tls = os.path.join(SRC, "test/data/tls")
        sd_port, il_port = h.free_port(), h.free_port()
        cfg = self.d.config([
            f'InterlinkPort: "{il_port}"', 'SidecarURL: "https://localhost"', f'SidecarPort: "{sd_port}"',
            'SidecarService: "mock"',
            "SidecarTLS:", "  Enabled: true", f"  CertFile: {tls}/server.crt",
            f"  KeyFile: {tls}/server.key", f"  CACertFile: {tls}/ca.crt",
            "SidecarClientTLS:", f"  CACertFile: {tls}/ca.crt", f"  CertFile: {tls}/client.crt",
            f"  KeyFile: {tls}/client.key"])
        ctx = ssl.create_default_context(cafile=f"{tls}/ca.crt")
        ctx.load_cert_chain(f"{tls}/client.crt", f"{tls}/client.key")
        sd = f"https://127.0.0.1:{sd_port}"
        self.start("mock-sd", cfg, sd, ssl_context=ctx)
        il = f"http://127.0.0.1:{il_port}"
        self.start("interlink", cfg, il)
        st, _, body = h.call(il, "POST", "/pinglink")
        self.assertEqual(st, 200, body)
        # Without a client certificate the sidecar does not even finish the handshake.
        no_cert = ssl.create_default_context(cafile=f"{tls}/ca.crt")
        with self.assertRaises((ssl.SSLError, OSError)):
            h.call(sd, "GET", "/status", [], ssl_context=no_cert)

    def test_the_vk_refuses_plain_http_to_a_remote_interlink(self):
        kubeconfig = self.d.file("kubeconfig", """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
""")
        tok = self.d.file("token", "s3cret\n")
        cfg = self.d.config(['InterlinkURL: "http://10.255.255.1"', 'InterlinkPort: "3000"',
                             f'VKTokenFile: "{tok}"'])
        argv = [f"{BIN}/vk", "--nodename", "vk-test", "--kubeconfig", kubeconfig]
        code, out = run_until_exit(argv, {"INTERLINKCONFIGPATH": cfg}, timeout=20)
        self.assertNotEqual(code, 0, out)
        self.assertIn("plain HTTP", out)
        self.assertIn("AllowPlainHTTP", out)

    def test_the_vk_refuses_a_state_file_others_can_write(self):
        kubeconfig = self.d.file("kubeconfig", """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
""")
        shared = os.path.join(self.d.path, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o777)  # another local user could plant or swap the file
        cfg = self.d.config(['InterlinkURL: "http://127.0.0.1"', f'StateFile: "{shared}/vk.state"'])
        argv = [f"{BIN}/vk", "--nodename", "vk-test", "--kubeconfig", kubeconfig]
        code, out = run_until_exit(argv, {"INTERLINKCONFIGPATH": cfg}, timeout=20)
        self.assertNotEqual(code, 0, out)
        self.assertIn("StateFile", out)
        self.assertIn("writable", out)

if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    for b in ("interlink", "mock-sd", "vk"):
        if not os.access(f"{BIN}/{b}", os.X_OK):
            print(f"SKIP: {BIN}/{b} is not built")
            sys.exit(h.SKIP)
    unittest.main(argv=[sys.argv[0], "-v"])
