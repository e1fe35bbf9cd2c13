#!/usr/bin/env python3
"""Integration test: the real bin/interlink validating OIDC bearer JWTs (OIDC: config block).

Keys are made with the openssl CLI (RSA 2048 and EC P-256), tokens are signed with it too,
and the JWKS comes from a file (re-read when it changes) or from a loopback http URL.
Tries over real HTTP: valid RS256/ES256 tokens, expired, not yet valid, wrong audience,
wrong issuer, unknown kid (then the rotated JWKS), alg none, HS256 keyed with the public
key, a tampered payload, a token in the query string, a disallowed subject, proxy headers
from an untrusted peer, and the static VKTokenFile token alongside OIDC.

Usage: test_oidc.py BIN_DIR SOURCE_DIR
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness import integration as h  # noqa: E402

BIN = SRC = None
ISSUER = "https://idp.test/realms/hpc"
AUDIENCE = "interlink"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


class Key:
    """A private key on disk and its public JWK."""

    def __init__(self, dir_, name, kind):
        self.path = os.path.join(dir_, name + ".pem")
        self.kind = kind
        if kind == "RSA":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.path)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path)
        self.public_pem = openssl("pkey", "-in", self.path, "-pubout")
        self.kid = name

    def jwk(self):
        if self.kind == "RSA":
            mod = openssl("rsa", "-in", self.path, "-noout", "-modulus").decode().strip()
            n = bytes.fromhex(mod.split("=", 1)[1])
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64url(n), "e": b64url((65537).to_bytes(3, "big"))}
        der = openssl("pkey", "-pubin", "-outform", "DER", data=self.public_pem)
        point = der[-65:]  # SubjectPublicKeyInfo ends with the uncompressed point 04||x||y
        assert point[0] == 4
        return {"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                "x": b64url(point[1:33]), "y": b64url(point[33:])}

    def sign(self, data):
        sig = openssl("dgst", "-sha256", "-sign", self.path, data=data)
        if self.kind == "RSA":
            return sig
        return der_to_raw(sig)


def der_to_raw(der):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) -> r||s, 32 bytes each."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        ln = der[i + 1]
        out += der[i + 2:i + 2 + ln].lstrip(b"\x00").rjust(32, b"\x00")
        i += 2 + ln
    return out


def token(key, claims=None, alg=None, kid=None, hs_secret=None, **overrides):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "vk-node-1", "iat": now - 5, "exp": now + 300}
    c.update(claims or {})
    c.update(overrides)
    alg = alg or ("RS256" if key.kind == "RSA" else "ES256")
    header = {"alg": alg, "typ": "JWT", "kid": kid if kid is not None else key.kid}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(c).encode())).encode()
    if alg == "none":
        sig = b""
    elif alg == "HS256":
        sig = hmac.new(hs_secret, signing_input, hashlib.sha256).digest()
    else:
        sig = key.sign(signing_input)
    return signing_input.decode() + "." + b64url(sig)


class JwksServer:
    """A loopback http server for JWKSURL; counts requests."""

    def __init__(self, doc):
        self.doc, self.hits = doc, 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                body = json.dumps(outer.doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/certs"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Stack:
    """mock-sd + interlink whose config has an OIDC block."""

    def __init__(self, keys, jwks_url=None, extra=(), static_token=None):
        self.dir = h.tempdir("il-oidc-")
        self.jwks_path = os.path.join(self.dir, "jwks.json")
        self.write_jwks(keys)
        sd_port, il_port = h.free_port(), h.free_port()
        self.sd_url = f"http://127.0.0.1:{sd_port}"
        self.url = f"http://127.0.0.1:{il_port}"
        lines = [f'DataRootFolder: "{self.dir}/data"', 'SidecarService: "mock"',
                 'SidecarURL: "http://127.0.0.1"', f'SidecarPort: "{sd_port}"',
                 'InterlinkURL: "http://127.0.0.1"', f'InterlinkPort: "{il_port}"',
                 "OIDC:", f"  Issuer: {ISSUER}", f"  Audience: {AUDIENCE}"]
        lines.append(f"  JWKSURL: {jwks_url}" if jwks_url else f"  JWKSFile: {self.jwks_path}")
        lines += list(extra)
        if static_token:
            with open(f"{self.dir}/token", "w") as f:
                f.write(static_token)
            lines.append(f'VKTokenFile: "{self.dir}/token"')
        cfg = h.write_config(self.dir, "\n".join(lines) + "\n")
        env = {"INTERLINKCONFIGPATH": cfg}
        for k in ("INTERLINKURL", "INTERLINKPORT", "SIDECARURL", "SIDECARPORT", "VKTOKENFILE"):
            os.environ.pop(k, None)
        self.sd = h.Daemon([f"{BIN}/mock-sd"], env, "mock-sd", self.dir)
        self.il = h.Daemon([f"{BIN}/interlink"], env, "interlink", self.dir)

    def write_jwks(self, keys):
        tmp = self.jwks_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"keys": [k.jwk() for k in keys]}, f)
        os.replace(tmp, self.jwks_path)

    def __enter__(self):
        self.sd.start().wait_ready(self.sd_url)
        self.il.start().wait_ready(self.url)
        return self

    def __exit__(self, *exc):
        self.il.kill()
        self.sd.kill()
        if exc[0] is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(self.il.tail(), file=sys.stderr)

    def status(self, tok=None, path="/pinglink", headers=None):
        st, _, body = h.call(self.url, "POST", path, token=tok, headers=headers)
        return st, body


class OidcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keydir = h.tempdir("il-oidc-keys-")
        cls.rsa = Key(cls.keydir, "rsa-1", "RSA")
        cls.rsa2 = Key(cls.keydir, "rsa-2", "RSA")
        cls.ec = Key(cls.keydir, "ec-1", "EC")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keydir, ignore_errors=True)

    def assertStatus(self, want, got, what):
        self.assertEqual(got[0], want, f"{what}: {got[1][:300]!r}")

    def test_valid_and_invalid_tokens_over_http(self):
        now = int(time.time())
        with Stack([self.rsa, self.ec]) as s:
            self.assertStatus(200, s.status(token(self.rsa)), "valid RS256")
            self.assertStatus(200, s.status(token(self.ec)), "valid ES256")
            self.assertStatus(401, s.status(None), "no token")
            self.assertStatus(403, s.status(token(self.rsa, exp=now - 120)), "expired")
            self.assertStatus(403, s.status(token(self.rsa, nbf=now + 600)), "not yet valid")
            self.assertStatus(403, s.status(token(self.rsa, aud="other")), "wrong audience")
            self.assertStatus(403, s.status(token(self.rsa, iss="https://evil.test")), "wrong issuer")
            self.assertStatus(403, s.status(token(self.rsa, alg="none")), "alg none")
            self.assertStatus(403, s.status(token(self.rsa, alg="HS256", hs_secret=self.rsa.public_pem)),
                              "HS256 keyed with the public key")
            good = token(self.rsa)
            head, _, sig = good.split(".")
            forged = b64url(json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "root",
                                        "exp": now + 300}).encode())
            self.assertStatus(403, s.status(f"{head}.{forged}.{sig}"), "tampered payload")
            self.assertStatus(403, s.status(token(self.rsa2)), "unknown kid")
            # A token in the query string is refused, even a valid one.
            st, body = s.status(None, path="/pinglink?access_token=" + good)
            self.assertIn(st, (401, 403), body)
            self.assertNotEqual(st, 200)
            # Proxy headers from a peer not in TrustedProxies mean nothing.
            self.assertStatus(401, s.status(None, headers={"X-Forwarded-User": "admin"}),
                              "untrusted proxy header")
            # The rotated key set is picked up as soon as the file changes.
            s.write_jwks([self.rsa, self.rsa2, self.ec])
            self.assertStatus(200, s.status(token(self.rsa2)), "rotated key")
            self.assertStatus(200, s.status(good), "still serving")

    def test_allow_lists_and_static_token_alongside(self):
        extra = ["  AllowedSubjects: [vk-node-1]", "  AllowedGroups: [hpc-admins]"]
        with Stack([self.rsa], extra=extra, static_token="static-secret") as s:
            self.assertStatus(200, s.status(token(self.rsa)), "allowed subject")
            self.assertStatus(200, s.status(token(self.rsa, sub="bob", groups=["x", "hpc-admins"])),
                              "allowed group")
            self.assertStatus(403, s.status(token(self.rsa, sub="mallory")), "disallowed subject")
            self.assertStatus(200, s.status("static-secret"), "VKTokenFile token")
            self.assertStatus(403, s.status("wrong-static"), "wrong static token")

    def test_jwks_from_a_url_is_fetched_sparingly(self):
        srv = JwksServer({"keys": [self.rsa.jwk()]})
        try:
            with Stack([], jwks_url=srv.url) as s:
                self.assertStatus(200, s.status(token(self.rsa)), "valid via JWKSURL")
                for i in range(20):
                    self.assertStatus(403, s.status(token(self.rsa2, kid=f"made-up-{i}")), "bogus kid")
                self.assertLessEqual(srv.hits, 3, "unknown kids must not hammer the IdP")
        finally:
            srv.close()

    def test_trusted_proxy_headers(self):
        extra = ["TrustedProxies: [127.0.0.1]"]
        with Stack([self.rsa], extra=extra) as s:
            st = s.status(None, headers={"X-Forwarded-User": "alice",
                                         "X-Forwarded-Email": "alice@example.org"})
            self.assertStatus(200, st, "header from a trusted proxy")


if __name__ == "__main__":
    BIN, SRC = sys.argv[1], sys.argv[2]
    for b in ("interlink", "mock-sd"):
        if not os.access(f"{BIN}/{b}", os.X_OK):
            print(f"SKIP: {BIN}/{b} is not built")
            sys.exit(h.SKIP)
    if not shutil.which("openssl"):
        print("SKIP: openssl CLI not found")
        sys.exit(h.SKIP)
    unittest.main(argv=[sys.argv[0], "-v"])
