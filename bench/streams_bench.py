#!/usr/bin/env python3
"""Streams never starve requests: /healthz and /status latency on each hop while N
follow-mode log streams are open, beside the same figures with no stream open.

Hops: interlink (the interLink API; each stream also holds one stream at the sidecar
behind it) and mock-sd (the sidecar itself, with N streams of its own on top). The
kubelet API of the vk serves its logs with the same stream routes (core/http_server.h).

With --vk the same is measured on the vk's kubelet API (`kubectl logs -f` reaches it
through the API server): the local control plane, vk, interlink and mock-sd run, N
follow streams are opened on /containerLogs with the API server's kubelet client
certificate, and /healthz and /pods are timed (exit 77 when no control plane starts).

Usage: streams_bench.py BIN_DIR SOURCE_DIR [--streams N] [--samples M] [--vk]
Prints p50/p99/max in ms and the ratio to the no-stream baseline; exits 1 when a p99
exceeds 100 ms (the bar of issue 8) or a stream was refused.
"""
import argparse
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))  # the harness package
from harness import integration as h  # noqa: E402


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def measure(url, samples, token, paths=(("/healthz", None), ("/status", [])), ctx=None):
    out = {}
    for path, body in paths:
        lat = []
        conn = h.connect(url, timeout=10, ssl_context=ctx)
        for _ in range(samples):
            t0 = time.perf_counter()
            hdrs = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            conn.request("GET", path, body=json.dumps(body) if body is not None else None, headers=hdrs)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"{url}{path}: HTTP {r.status}")
            lat.append((time.perf_counter() - t0) * 1000)
        conn.close()
        out[path] = lat
    return out


def open_stream(url, token, pod_uid, ready, failures, stop, request=None, ctx=None):
    """One follow-mode log stream held open until `stop` is set."""
    try:
        host, port = url.split("://")[1].rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=30)
        if ctx is not None:
            s = ctx.wrap_socket(s, server_hostname=host)
        if request is None:
            body = json.dumps({"Namespace": "default", "PodUID": pod_uid, "PodName": "bench",
                               "ContainerName": "main", "Opts": {"Follow": True}}).encode()
            request = (b"GET /getLogs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
                       b"\r\nContent-Type: application/json\r\nContent-Length: " +
                       str(len(body)).encode() + b"\r\n\r\n" + body)
        s.sendall(request)
        head = s.recv(4096)
        if not head.startswith(b"HTTP/1.1 200"):
            failures.append(head[:120])
            ready.release()
            return
        ready.release()
        stop.wait()
        s.close()
    except OSError as e:
        failures.append(str(e).encode())
        ready.release()


def report(title, base, loaded, n_failures, first_failure):
    rc = 0
    print(title)
    print(f"{'hop':10} {'path':9} {'p50':>7} {'p99':>7} {'max':>7} | {'idle p50':>8} {'idle p99':>8} | p99 ratio")
    for hop in base:
        for path in base[hop]:
            b, l = base[hop][path], loaded[hop][path]
            p99 = percentile(l, 99)
            ratio = p99 / max(percentile(b, 99), 0.001)
            print(f"{hop:10} {path:9} {percentile(l, 50):7.2f} {p99:7.2f} {max(l):7.2f} | "
                  f"{percentile(b, 50):8.2f} {percentile(b, 99):8.2f} | {ratio:6.2f}x")
            if p99 > 100:
                rc = 1
    print(f"refused or failed streams: {n_failures}")
    if n_failures:
        print("  first:", first_failure)
        rc = 1
    return rc


def main_vk(a):
    import ssl
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))  # the harness package
    from harness.vk import SKIP, ControlPlane, Stack, wait_until  # noqa: E402
    cp = ControlPlane(os.path.abspath(a.src))
    if not cp.start():
        return SKIP
    stack = Stack(cp, a.bin, proxy=False, vk_log_level="warn").start()
    try:
        pod = stack.pod_spec("bench", {"mock.interlink.io/run-seconds": "3600",
                                       "mock.interlink.io/logs.main": "hello"})
        cp.apply(pod)
        wait_until("the pod to run", lambda: (stack.pod("bench") or {}).get("status", {}).get("phase") == "Running",
                   timeout=60)
        pki = os.path.join(os.environ.get("IL_K8S_DIR", "/tmp/interlink-k8s"), "pki")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the vk's serving certificate is not the point here
        ctx.load_cert_chain(f"{pki}/apiserver-kubelet-client.crt", f"{pki}/apiserver-kubelet-client.key")
        url = f"https://127.0.0.1:{stack.kubelet_port}"
        paths = (("/healthz", None), ("/pods", None))
        base = {"vk": measure(url, a.samples, "", paths, ctx)}
        req = (f"GET /containerLogs/{stack.namespace}/bench/main?follow=true HTTP/1.1\r\n"
               f"Host: x\r\n\r\n").encode()
        stop, ready, failures, threads = threading.Event(), threading.Semaphore(0), [], []
        for _ in range(a.streams):
            t = threading.Thread(target=open_stream, args=(url, "", "", ready, failures, stop, req, ctx))
            t.start()
            threads.append(t)
        for _ in threads:
            ready.acquire(timeout=60)
        loaded = {"vk": measure(url, a.samples, "", paths, ctx)}
        rc = report(f"streams_bench --vk: {a.streams} follow streams on the kubelet API (each also open at "
                    f"interlink and mock-sd); {a.samples} samples per figure; ms",
                    base, loaded, len(failures), failures[0] if failures else None)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        return rc
    finally:
        stack.close()
        cp.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("src")
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--vk", action="store_true")
    a = ap.parse_args()
    if a.vk:
        return main_vk(a)
    d = h.tempdir("il-streams-")
    tok = os.path.join(d, "token")
    with open(tok, "w") as f:
        f.write("bench-token\n")
    sd_port, il_port = h.free_port(), h.free_port()
    cfg = h.write_config(d, "\n".join([
        f'DataRootFolder: "{d}/data"', 'SidecarService: "mock"', f'SidecarPort: "{sd_port}"',
        f'InterlinkPort: "{il_port}"', f'VKTokenFile: "{tok}"', f'SidecarTokenFile: "{tok}"',
        "WorkerThreads: 8", "LogLevel: warn"]) + "\n")
    env = {"INTERLINKCONFIGPATH": cfg}
    for k in ("INTERLINKURL", "INTERLINKPORT", "SIDECARURL", "SIDECARPORT", "VKTOKENFILE"):
        os.environ.pop(k, None)
    sd = h.Daemon([f"{a.bin}/mock-sd"], env, "mock-sd", d).start()
    il = h.Daemon([f"{a.bin}/interlink"], env, "interlink", d).start()
    rc = 0
    try:
        sd_url, il_url = f"http://127.0.0.1:{sd_port}", f"http://127.0.0.1:{il_port}"
        sd.wait_ready(sd_url)
        il.wait_ready(il_url)
        pod = h.pod("bench", str(uuid.uuid4()), {"mock.interlink.io/run-seconds": "3600",
                                                  "mock.interlink.io/logs.main": "hello"})
        st, _, body = h.call(il_url, "POST", "/create",
                             {"pod": pod, "configmaps": [], "secrets": [], "projectedvolumesmaps": []},
                             token="bench-token")
        assert st == 200, body
        uid = pod["metadata"]["uid"]
        base = {"interlink": measure(il_url, a.samples, "bench-token"),
                "mock-sd": measure(sd_url, a.samples, "bench-token")}
        stop, ready, failures, threads = threading.Event(), threading.Semaphore(0), [], []
        for url in (il_url, sd_url):  # N on interlink (N more at the sidecar), N on the sidecar
            for _ in range(a.streams):
                t = threading.Thread(target=open_stream, args=(url, "bench-token", uid, ready, failures, stop))
                t.start()
                threads.append(t)
        for _ in threads:
            ready.acquire(timeout=60)
        loaded = {"interlink": measure(il_url, a.samples, "bench-token"),
                  "mock-sd": measure(sd_url, a.samples, "bench-token")}
        rc = report(f"streams_bench: {a.streams} follow streams on interlink (+{a.streams} behind it at the "
                    f"sidecar) and {a.streams} more on mock-sd; {a.samples} samples per figure; ms",
                    base, loaded, len(failures), failures[0] if failures else None)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        il.kill()
        sd.kill()
        shutil.rmtree(d, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
