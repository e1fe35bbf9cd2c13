#!/usr/bin/env python3
"""exec and port-forward through the virtual node, against a baseline measured in the same
run (issue 10, docs/benchmarks.md):

  exec round trip:   `kubectl exec pod -- true` (docker-sd) vs `docker exec <container> true`
                     on the same machine; both kubectl clients (1.32 WebSocket, 1.20 SPDY).
  port-forward:      a 50 MiB HTTP download through `kubectl port-forward` (mock-sd, whose
                     pods' ports are on loopback) vs the same download straight from the
                     server over a direct TCP connection.

Prints medians and ratios. Usage: exec_bench.py BIN_DIR SOURCE_DIR [--quick]
Exits 77 when the control plane (or Docker, for the exec part) cannot be started.
"""
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "e2e"))  # the e2e tests it reuses
sys.path.insert(0, os.path.join(HERE, "..", "test"))  # the harness package
import test_backends_e2e as backends  # noqa: E402
import test_streaming_e2e as streaming  # noqa: E402
from harness.vk import SKIP, ControlPlane, free_port, wait_until  # noqa: E402


def timed(argv, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, timeout=120)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{argv} failed: {r.stderr.decode()}")
    return statistics.median(times)


def download(url, n):
    rates = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", url],
                           capture_output=True, text=True, timeout=300)
        dt = time.perf_counter() - t
        if r.returncode != 0:
            raise SystemExit(f"curl {url}: {r.stderr}")
        rates.append(int(r.stdout) / dt / (1 << 20))
    return statistics.median(rates)


def kubectl_argv(which, ns, *args):
    return [streaming.kubectls()[which], "--kubeconfig", streaming.CP.env["KUBECONFIG"], "-n", ns, *args]


def bench_exec(n):
    cls = streaming.Docker
    try:
        cls.setUpClass()
    except Exception as e:  # noqa: BLE001 - skipped like the e2e test
        print(f"exec part skipped: {e}")
        return None
    try:
        ns, pod = cls.stack.namespace, cls.pod_name
        uid = cls.stack.pod(pod)["metadata"]["uid"]
        docker = backends.DOCKER.env.get("DOCKER", "docker")
        cid = subprocess.run([docker, "ps", "-q", "--filter", f"label=io.kubernetes.pod.uid={uid}",
                              "--filter", "label=io.kubernetes.container.name=main"],
                             capture_output=True, text=True).stdout.split()[0]
        base = timed([docker, "exec", cid, "true"], n)
        print(f"exec round trip, docker exec (baseline): {base * 1000:.0f} ms")
        for which in streaming.kubectls():
            t = timed(kubectl_argv(which, ns, "exec", pod, "--", "true"), n)
            print(f"exec round trip, kubectl {which}: {t * 1000:.0f} ms = {t / base:.2f}x docker exec")
    finally:
        cls.tearDownClass()
    return True


def bench_port_forward(n):
    cls = streaming.Mock
    cls.setUpClass()
    try:
        direct = download(f"http://127.0.0.1:{cls.http_port}/big", n)
        print(f"50 MiB download, direct TCP (baseline): {direct:.0f} MiB/s")
        for which in streaming.kubectls():
            local = free_port()
            p = subprocess.Popen(kubectl_argv(which, cls.stack.namespace, "port-forward", cls.pod_name,
                                              f"{local}:{cls.http_port}"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until("port-forward", lambda: socket.create_connection(
                    ("127.0.0.1", local), 1).close() is None, timeout=30)
                rate = download(f"http://127.0.0.1:{local}/big", n)
                print(f"50 MiB download, kubectl {which} port-forward: {rate:.0f} MiB/s = "
                      f"{rate / direct:.3f}x direct")
            finally:
                p.terminate()
                p.wait(timeout=20)
    finally:
        cls.tearDownClass()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    bin_dir, source_dir = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    streaming.BIN_DIR, streaming.SOURCE_DIR = bin_dir, source_dir
    backends.BIN_DIR, backends.SOURCE_DIR = bin_dir, source_dir
    cp = ControlPlane(source_dir)
    if not cp.start():
        return SKIP
    streaming.CP = backends.CP = cp
    try:
        bench_exec(3 if quick else 20)
        bench_port_forward(1 if quick else 5)
    finally:
        backends.DOCKER.close()
        cp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
