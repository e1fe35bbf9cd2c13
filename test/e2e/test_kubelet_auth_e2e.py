#!/usr/bin/env python3
"""End-to-end test of the vk's kubelet API authentication and authorization on the local
Kubernetes v1.20.2 control plane (scripts/k8s/up), with the real bin/interlink and
bin/mock-sd behind the vk.

What the kubelet does, and so what is checked (reference kubelet-streaming.md §6):
  - `kubectl logs` through the API server works: the API server presents its kubelet
    client certificate (CN kube-apiserver-kubelet-client, O system:masters);
  - a client certificate from the same CA for another identity, without RBAC: 403;
  - /containerLogs maps to nodes/proxy: a service-account token bound to nodes/proxy reads
    the logs; one bound only to nodes/log gets 403 there (and passes on /logs/, which
    maps to nodes/log); one without any binding gets 403;
  - no credentials: 401; a token the API server does not know: 401;
  - /healthz answers without credentials;
  - with exactly the RBAC of kustomizations/service-account.yaml the vk can make these
    reviews, and without its system:auth-delegator binding it cannot (500 / 401).

Usage: test_kubelet_auth_e2e.py BIN_DIR SOURCE_DIR [unittest args]
Exits 77 (skip) when the control plane cannot be started.
"""
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # test/: the harness package
from harness.vk import SKIP, ControlPlane, Stack, wait_until  # noqa: E402

BIN_DIR = SOURCE_DIR = None
CP = None


def sign_client_cert(out_dir, cn, org=None):
    """A client certificate signed by the control plane's CA (the one the apiserver's
    kubelet client certificate comes from); returns (cert, key) paths."""
    key, csr, crt = (os.path.join(out_dir, cn + ext) for ext in (".key", ".csr", ".crt"))
    ext = os.path.join(out_dir, cn + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    subj = (f"/O={org}" if org else "") + f"/CN={cn}"
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-subj", subj, "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", CP.env["IL_K8S_CA_CERT"],
                    "-CAkey", CP.env["IL_K8S_CA_KEY"], "-set_serial",
                    "0x" + uuid.uuid4().hex, "-days", "1", "-sha256", "-extfile", ext,
                    "-out", crt], check=True, capture_output=True)
    return crt, key


def service_account_token(namespace, name):
    """A token for ServiceAccount namespace/name (TokenRequest API, one hour)."""
    req = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
           "spec": {"expirationSeconds": 3600}}
    out = CP.kubectl("create", "--raw",
                     f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                     "-f", "-", input=json.dumps(req)).stdout
    return json.loads(out)["status"]["token"]


def kubelet_get(stack, path, token=None, cert=None):
    """GET on a stack's kubelet API, checking its serving certificate against the CA."""
    ctx = ssl.create_default_context(cafile=CP.env["IL_K8S_CA_CERT"])
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    conn = http.client.HTTPSConnection("127.0.0.1", stack.kubelet_port, context=ctx, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def node_ready(stack):
    conditions = (CP.get("node", stack.node) or {}).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


class KubeletAuth(unittest.TestCase):
    stack = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kubelet-auth-e2e-")
        cls.stack = Stack(CP, BIN_DIR).start()
        s = cls.stack
        try:
            wait_until("node Ready", lambda: node_ready(s), timeout=60)
            CP.apply(s.pod_spec("logs", {"mock.interlink.io/run-seconds": "600",
                                         "mock.interlink.io/logs.main": "first\nsecond"}))
            wait_until("pod logs Running", lambda: (s.pod("logs") or {}).get("status", {})
                       .get("phase") == "Running", timeout=60)
            cls.tokens = {name: cls.service_account_token(name, subresource)
                          for name, subresource in (("proxy-reader", "proxy"),
                                                    ("log-reader", "log"),
                                                    ("no-binding", None))}
        except BaseException:
            print(s.logs())
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        node = cls.stack.node if cls.stack else None
        if cls.stack:
            cls.stack.close()
            cls.stack = None
        if node:
            for sub in ("proxy", "log"):
                CP.kubectl("delete", "clusterrolebinding", f"{node}-{sub}", check=False)
                CP.kubectl("delete", "clusterrole", f"{node}-{sub}", check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def service_account_token(cls, name, subresource):
        """A ServiceAccount in the stack's namespace, bound (if `subresource`) to get on
        nodes/<subresource> of this node only, and a token for it."""
        s = cls.stack
        CP.kubectl("create", "serviceaccount", name, "-n", s.namespace)
        if subresource:
            role = f"{s.node}-{subresource}"
            CP.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                      "metadata": {"name": role},
                      "rules": [{"apiGroups": [""], "resources": [f"nodes/{subresource}"],
                                 "resourceNames": [s.node], "verbs": ["get"]}]})
            CP.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                      "metadata": {"name": role},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role},
                      "subjects": [{"kind": "ServiceAccount", "name": name,
                                    "namespace": s.namespace}]})
        return service_account_token(s.namespace, name)

    def kubelet_get(self, path, token=None, cert=None):
        return kubelet_get(self.stack, path, token, cert)

    def logs_path(self):
        return f"/containerLogs/{self.stack.namespace}/logs/main"

    def test_kubectl_logs_through_the_api_server(self):
        out = CP.kubectl("logs", "logs", "-n", self.stack.namespace).stdout
        self.assertTrue(out.startswith("first\n"), out)

    def test_certificate_of_another_identity_without_rbac_is_403(self):
        cert = sign_client_cert(self.tmp, "e2e-stranger-" + uuid.uuid4().hex[:6], "e2e-nobody")
        status, body = self.kubelet_get(self.logs_path(), cert=cert)
        self.assertEqual(status, 403, body)
        self.assertIn("verb=get, resource=nodes, subresource=proxy", body)

    def test_apiserver_client_certificate_reads_logs_directly(self):
        pki = os.path.join(CP.env["IL_K8S_DIR"], "pki")
        cert = (os.path.join(pki, "apiserver-kubelet-client.crt"),
                os.path.join(pki, "apiserver-kubelet-client.key"))
        status, body = self.kubelet_get(self.logs_path(), cert=cert)
        self.assertEqual(status, 200, body)
        self.assertTrue(body.startswith("first\n"), body)

    def test_token_bound_to_nodes_proxy_reads_container_logs(self):
        status, body = self.kubelet_get(self.logs_path(), token=self.tokens["proxy-reader"])
        self.assertEqual(status, 200, body)
        self.assertTrue(body.startswith("first\n"), body)

    def test_token_bound_to_nodes_log_only_is_403_on_container_logs(self):
        # As on a kubelet: /containerLogs is nodes/proxy, only /logs/ is nodes/log.
        status, body = self.kubelet_get(self.logs_path(), token=self.tokens["log-reader"])
        self.assertEqual(status, 403, body)
        self.assertIn("subresource=proxy", body)
        status, body = self.kubelet_get("/logs/", token=self.tokens["log-reader"])
        self.assertNotIn(status, (401, 403), body)  # authorized (the vk serves no node logs)
        status, body = self.kubelet_get("/logs/", token=self.tokens["no-binding"])
        self.assertEqual(status, 403, body)
        self.assertIn("subresource=log", body)

    def test_token_without_binding_is_403(self):
        status, body = self.kubelet_get(self.logs_path(), token=self.tokens["no-binding"])
        self.assertEqual(status, 403, body)
        sa = f"system:serviceaccount:{self.stack.namespace}:no-binding"
        self.assertEqual(body, f"Forbidden (user={sa}, verb=get, resource=nodes, "
                               "subresource=proxy)")
        status, _ = self.kubelet_get("/pods", token=self.tokens["no-binding"])
        self.assertEqual(status, 403)

    def test_anonymous_curl_is_401_and_healthz_is_open(self):
        base = f"https://127.0.0.1:{self.stack.kubelet_port}"
        r = subprocess.run(["curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{http_code}",
                            base + self.logs_path()], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, "401", r.stderr)
        r = subprocess.run(["curl", "-sS", "-k", "-H", "Authorization: Bearer not-a-token",
                            "-o", "/dev/null", "-w", "%{http_code}", base + "/pods"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, "401", r.stderr)
        r = subprocess.run(["curl", "-sS", "-k", base + "/healthz"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.stdout, "ok", r.stderr)


class RbacStack(Stack):
    """A stack whose vk runs as a ServiceAccount with exactly the RBAC of
    kustomizations/service-account.yaml (renamed for this node), instead of the admin
    kubeconfig; without the system:auth-delegator binding if `auth_delegator` is false."""

    def __init__(self, cp, bin_dir, auth_delegator=True):
        super().__init__(cp, bin_dir)
        self.auth_delegator = auth_delegator
        self.vk_kubeconfig = os.path.join(self.dir, "vk.kubeconfig")
        self.cluster_objects = []

    def vk_argv(self):
        argv = super().vk_argv()
        argv[argv.index("--kubeconfig") + 1] = self.vk_kubeconfig
        return argv

    def start_vk(self):
        with open(os.path.join(self.cp.source_dir, "kustomizations/service-account.yaml")) as f:
            text = f.read().replace("namespace: vk\n", f"namespace: {self.namespace}\n")
        for name in ("knoc-rolebinding", "knoc-auth-delegator", "knoc-role"):
            text = text.replace(f"name: {name}\n", f"name: {self.node}-{name}\n")
            kind = "clusterrole" if name == "knoc-role" else "clusterrolebinding"
            self.cluster_objects.append((kind, f"{self.node}-{name}"))
        docs = text.split("\n---\n")
        if not self.auth_delegator:
            docs = [d for d in docs if "name: system:auth-delegator" not in d]
        self.cp.kubectl("apply", "-n", self.namespace, "-f", "-", input="\n---\n".join(docs))
        token = service_account_token(self.namespace, "knoc")
        with open(CP.env["IL_K8S_CA_CERT"], "rb") as f:
            ca = base64.b64encode(f.read()).decode()
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": "vk",
            "clusters": [{"name": "c", "cluster": {"server": CP.env["IL_K8S_SERVER"],
                                                   "certificate-authority-data": ca}}],
            "users": [{"name": "knoc", "user": {"token": token}}],
            "contexts": [{"name": "vk", "context": {"cluster": "c", "user": "knoc"}}]}
        with open(self.vk_kubeconfig, "w") as f:
            json.dump(kubeconfig, f)
        super().start_vk()

    def close(self):
        super().close()
        for kind, name in self.cluster_objects:
            self.cp.kubectl("delete", kind, name, "--ignore-not-found", check=False)


class KustomizationRbac(unittest.TestCase):
    """The RBAC kustomizations/ gives the vk is enough for the kubelet API's reviews, and
    the auth-delegator binding in it is what makes them work."""

    def start(self, auth_delegator):
        stack = RbacStack(CP, BIN_DIR, auth_delegator=auth_delegator).start()
        self.addCleanup(stack.close)
        try:
            wait_until("node Ready", lambda: node_ready(stack), timeout=60)
            CP.apply(stack.pod_spec("logs", {"mock.interlink.io/run-seconds": "600",
                                             "mock.interlink.io/logs.main": "first"}))
            wait_until("pod Running", lambda: (stack.pod("logs") or {}).get("status", {})
                       .get("phase") == "Running", timeout=60)
        except BaseException:
            print(stack.logs())
            raise
        return stack

    def test_vk_with_the_kustomization_rbac_authorizes_like_a_kubelet(self):
        s = self.start(auth_delegator=True)
        out = CP.kubectl("logs", "logs", "-n", s.namespace).stdout
        self.assertTrue(out.startswith("first"), out)
        CP.kubectl("create", "serviceaccount", "nobody", "-n", s.namespace)
        status, body = kubelet_get(s, f"/containerLogs/{s.namespace}/logs/main",
                                   token=service_account_token(s.namespace, "nobody"))
        self.assertEqual(status, 403, body)

    def test_without_auth_delegator_the_reviews_fail(self):
        s = self.start(auth_delegator=False)
        # The SubjectAccessReview is refused to the vk: 500, as a kubelet answers.
        r = CP.kubectl("logs", "logs", "-n", s.namespace, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Authorization error", r.stderr)
        # The TokenReview is refused to the vk: 401.
        CP.kubectl("create", "serviceaccount", "nobody", "-n", s.namespace)
        status, body = kubelet_get(s, f"/containerLogs/{s.namespace}/logs/main",
                                   token=service_account_token(s.namespace, "nobody"))
        self.assertEqual(status, 401, body)


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
    for tool in ("openssl", "curl"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found")
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
