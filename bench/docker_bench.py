#!/usr/bin/env python3
"""docker-sd beside plain `docker run`: pods/s and per-pod latency for the same containers.

For each of N pods (one busybox container running CMD):
  docker-sd : POST /create -> Succeeded in /status -> POST /delete (one poller thread makes
              back-to-back batched /status calls for all pods in flight, like the VK)
  docker    : docker run -d -> docker wait -> docker rm      (the same container, same flags
              that matter: --network none, --pull never)
Both run in the same script, on the same engine, at the same concurrency, alternating rounds
so background load hits both alike. Prints p50/p90 latency, pods/s and the ratios.

Usage: docker_bench.py --bin-dir BUILD/bin --source-dir REPO [-n 40] [-c 1] [--cmd true] [--quick]
Exit 77 when no Docker engine can be started.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import shutil
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import docker_harness as h  # noqa: E402


class StatusPoller:
    """One batched /status call for every pod in flight, back to back, as the virtual kubelet
    does (one call per sync, not one per pod)."""

    def __init__(self, sd):
        self.sd, self.cv, self.pods, self.done, self.stop = sd, threading.Condition(), {}, {}, False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            with self.cv:
                while not self.pods and not self.stop:
                    self.cv.wait()
                if self.stop:
                    return
                pods = list(self.pods.values())
            sts = self.sd.status(pods)
            with self.cv:
                for uid, st in sts.items():
                    if h.phase(st) in ("Succeeded", "Failed") and uid in self.pods:
                        del self.pods[uid]
                        self.done[uid] = h.phase(st)
                self.cv.notify_all()

    def wait(self, pod):
        uid = pod["metadata"]["uid"]
        with self.cv:
            self.pods[uid] = pod
            self.cv.notify_all()
            while uid not in self.done:
                self.cv.wait()
            return self.done.pop(uid)

    def close(self):
        with self.cv:
            self.stop = True
            self.cv.notify_all()
        self.thread.join()


def sd_pod(sd, poller, image, cmd):
    p = h.make_pod("bench-" + uuid.uuid4().hex[:8], {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": image, "imagePullPolicy": "Never", "command": ["sh", "-c", cmd]}]},
        uid=str(uuid.uuid4()))
    t0 = time.perf_counter()
    code, body = sd.create(h.retrieved(p))
    if code != 200:
        raise RuntimeError("create: %s" % body)
    ph = poller.wait(p)
    if ph != "Succeeded":
        raise RuntimeError("pod %s" % ph)
    code, body = sd.delete(p)
    if code != 200:
        raise RuntimeError("delete: %s" % body)
    return time.perf_counter() - t0


def raw_pod(cli, image, cmd):
    name = "il-bench-raw-" + uuid.uuid4().hex[:12]
    t0 = time.perf_counter()
    h.docker(cli, "run", "-d", "--name", name, "--network", "none", "--pull", "never",
             "--label", "interlink.test=1", image, "sh", "-c", cmd)
    code = h.docker(cli, "wait", name).strip()
    h.docker(cli, "rm", name)
    if code != "0":
        raise RuntimeError("raw container exited %s" % code)
    return time.perf_counter() - t0


def run(fn, n, conc):
    lat, lock, errors = [], threading.Lock(), []
    left = [n]

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                d = fn()
                with lock:
                    lat.append(d)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(str(e))
                return
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(conc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(errors[0])
    return wall, lat


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("-n", type=int, default=40, help="pods per side and concurrency level")
    ap.add_argument("-c", "--concurrency", default="1,4", help="comma-separated levels")
    ap.add_argument("--cmd", default="true")
    ap.add_argument("--quick", action="store_true", help="3 pods, concurrency 1 (CI)")
    a = ap.parse_args()
    if a.quick:
        a.n, a.concurrency = 3, "1"
    env = h.ensure_docker(a.source_dir)
    if env is None:
        print("SKIP: no Docker engine")
        return h.SKIP
    cli, image = env["DOCKER"], env["IL_TEST_IMAGE"]
    work = tempfile.mkdtemp(prefix="il-docker-bench-")
    sd = h.DockerSd(a.bin_dir, work, cli)
    sd.start()
    poller = StatusPoller(sd)
    try:
        # Warm-up: the page cache, the engine, docker-sd's sandbox image check.
        raw_pod(cli, image, a.cmd)
        sd_pod(sd, poller, image, a.cmd)
        print("docker-sd vs docker run: %d pods per case, container `sh -c %r`, engine %s"
              % (a.n, a.cmd, env.get("IL_DOCKER_SERVER_VERSION", "?")))
        print("| concurrency | path | pods/s | p50 ms | p90 ms | p50 / docker |")
        print("|---:|---|---:|---:|---:|---:|")
        for conc in [int(x) for x in a.concurrency.split(",")]:
            res = {}
            # Alternate halves so load drifts hit both sides.
            for side in ("docker", "docker-sd", "docker", "docker-sd"):
                fn = (lambda: raw_pod(cli, image, a.cmd)) if side == "docker" else \
                     (lambda: sd_pod(sd, poller, image, a.cmd))
                wall, lat = run(fn, max(1, a.n // 2), conc)
                w, l = res.get(side, (0.0, []))
                res[side] = (w + wall, l + lat)
            base = statistics.median(res["docker"][1])
            for side in ("docker", "docker-sd"):
                wall, lat = res[side]
                print("| %d | %s | %.2f | %.0f | %.0f | %.2fx |" % (
                    conc, side, len(lat) / wall, 1000 * statistics.median(lat),
                    1000 * pct(lat, 0.9), statistics.median(lat) / base))
            ratio = (len(res["docker-sd"][1]) / res["docker-sd"][0]) / \
                    (len(res["docker"][1]) / res["docker"][0])
            print("|  | throughput ratio docker-sd / docker | %.2f |  |  |  |" % ratio)
        return 0
    finally:
        poller.close()
        sd.stop()
        leftovers = [x for x in h.docker(cli, "ps", "-aq", "--filter", "name=^il-bench-raw-").split()]
        if leftovers:
            h.docker(cli, "rm", "-f", *leftovers, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
