#!/usr/bin/env python3
"""Virtual kubelet benchmark through the whole stack on the local control plane:
kube-apiserver -> bin/vk -> bin/interlink -> bin/mock-sd.

  1. throughput: N pods (default 1,000) created through the API with spec.nodeName set
     (bypassing kube-scheduler, whose own client is limited to 50 QPS), each running 1 s in
     the mock; every pod is deleted as soon as it is Succeeded. pods/s = N / (time from
     the first create to the last pod gone from the API).
  2. status propagation latency: the mock's timeline is exact (Running at t0 + pending,
     terminated at t0 + pending + run, t0 = its /create, from interlink's log line);
     latency = when the watch shows the phase change - when it happened in the backend.
     Baseline in the same run: an ideal node agent (a process that only PATCHes each
     change when it is due, no vk) with the same pods, timeline and client.
  3. scale: M pods (default 10,000) that run forever; once all are Running: vk resident
     memory, vk CPU over 20 s, and /status calls per second seen by interlink.

Usage: vk_bench.py BIN_DIR SOURCE_DIR [--pods N] [--scale-pods M] [--qps Q] [--burst B] [--rounds R]
                   [--quick]   (50 pods, 500 for scale: the CTest smoke run)
Exit 77 when the control plane cannot be started.
"""
import argparse
import http.client
import json
import os
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))  # the harness package
from harness.vk import SKIP, ControlPlane, Stack, wait_until  # noqa: E402

PENDING, RUN = 0.2, 1.0


class Api:
    """Minimal Kubernetes REST client with the admin client certificate (thread-local
    keep-alive connections)."""

    def __init__(self, env):
        host_port = env["IL_K8S_SERVER"].split("://", 1)[1]
        self.host, self.port = host_port.rsplit(":", 1)
        self.ctx = ssl.create_default_context(cafile=env["IL_K8S_CA_CERT"])
        self.ctx.load_cert_chain(env["IL_K8S_ADMIN_CERT"], env["IL_K8S_ADMIN_KEY"])
        self.local = threading.local()

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx, timeout=timeout)

    def call(self, method, path, body=None):
        c = getattr(self.local, "c", None)
        for attempt in range(3):
            if c is None:
                c = self.local.c = self.conn()
            try:
                c.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                return r.status, json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                c.close()
                c = self.local.c = None
                if attempt == 2:
                    raise


    def patch(self, path, body):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = self.conn()
        c.request("PATCH", path, body=json.dumps(body),
                  headers={"Content-Type": "application/strategic-merge-patch+json"})
        r = c.getresponse()
        r.read()
        return r.status


def watch_lines(response):
    """The non-blank lines of a watch response, as they arrive."""
    buf = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield line


def node_agent_watch(env, node):
    """Child process: the watch any node agent keeps on the pods bound to its node (as the
    vk's and the kubelet's), every event read and parsed, nothing else done with it."""
    api = Api(env)
    while True:
        c = api.conn(timeout=3600)
        try:
            c.request("GET", f"/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3D{node}")
            for line in watch_lines(c.getresponse()):
                json.loads(line)
        except (http.client.HTTPException, OSError):
            time.sleep(0.2)
        finally:
            c.close()


def watch_events(env, ns, send):
    """Child process of PodWatch: watches pods in `ns` and sends (type, name, uid, phase,
    time received) for each event. In a process of its own, the timestamps are taken as the
    events arrive, not when the parent's busy client threads let go of the GIL."""
    api = Api(env)
    rv = ""
    while True:
        c = api.conn(timeout=3600)
        try:
            c.request("GET", f"/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}")
            r = c.getresponse()
            send.send(("READY", "", "", None, time.time()))
            for line in watch_lines(r):
                now = time.time()
                ev = json.loads(line)
                if ev["type"] == "ERROR":
                    rv = ""
                    continue
                md = ev["object"]["metadata"]
                rv = md["resourceVersion"]
                send.send((ev["type"], md["name"], md["uid"],
                           ev["object"].get("status", {}).get("phase"), now))
        except (http.client.HTTPException, OSError):
            time.sleep(0.2)
        finally:
            c.close()


class PodWatch(threading.Thread):
    """Watches a namespace; records when each pod was first seen Running, Succeeded, gone.
    The watch runs in a child process (watch_events); this thread applies what it reports."""

    def __init__(self, api, ns, on_succeeded=None, env=None):
        super().__init__(daemon=True)
        self.api, self.ns, self.on_succeeded = api, ns, on_succeeded
        self.env = env
        self.running, self.succeeded, self.deleted, self.uids = {}, {}, {}, {}
        self.lock = threading.Lock()
        self.stop = False
        self.ready = threading.Event()
        self.pid = None

    def run(self):
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=watch_events, args=(self.env, self.ns, send), daemon=True)
        proc.start()
        self.pid = proc.pid
        send.close()
        try:
            while not self.stop:
                if recv.poll(0.2):
                    try:
                        self.handle(*recv.recv())
                    except EOFError:
                        break
        finally:
            proc.terminate()

    def handle(self, kind, name, uid, phase, now):
        if kind == "READY":  # the watch is established
            self.ready.set()
            return
        with self.lock:
            self.uids[name] = uid
            if kind == "DELETED":
                self.deleted.setdefault(name, now)
            elif phase == "Running":
                self.running.setdefault(name, now)
            elif phase == "Succeeded" and name not in self.succeeded:
                # First seen Succeeded: it became visible as Running (or later) now. A node
                # agent may write only the latest status, as the kubelet's status manager
                # does; the Running sample then counts this late, it is not dropped.
                self.running.setdefault(name, now)
                self.succeeded[name] = now
                if self.on_succeeded:
                    self.on_succeeded(name)


def interlink_creates(stack):
    """uid -> time interlink logged its /create (the mock's t0), and uid -> count."""
    import datetime
    import re
    pat = re.compile(r"^(\S+) info \[interlink\] \[CreatePod#\d+\] created \S+ uid=(\S+)")
    starts, counts = {}, {}
    with open(stack.daemons["interlink"].log_path, errors="replace") as f:
        for line in f:
            m = pat.match(line)
            if m:
                t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
                starts.setdefault(m.group(2), t)
                counts[m.group(2)] = counts.get(m.group(2), 0) + 1
    return starts, counts


def pod(ns, node, name, annotations):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "tolerations": [{"key": "virtual-node.interlink/no-schedule", "operator": "Exists"}],
                     "containers": [{"name": "main", "image": "busybox"}]}}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def api_baseline(cp, n, workers):
    """The API server's own create+delete rate in this run: n pods bound to a node that has
    no kubelet, created and then deleted with grace 0 by a client with as many threads as
    the throughput run's client (and the vk's pod workers). pods/s = n / (first create -> last delete answered)."""
    api = Api(cp.env)
    ns = "default"
    tag = os.urandom(3).hex()
    names = [f"base-{tag}-{i}" for i in range(n)]
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(lambda nm: api.call("POST", f"/api/v1/namespaces/{ns}/pods",
                                                  pod(ns, "no-such-node-" + tag, nm, {}))[0], names))
        assert all(c == 201 for c in codes), set(codes)
        codes = list(pool.map(lambda nm: api.call("DELETE", f"/api/v1/namespaces/{ns}/pods/{nm}",
                                                  {"gracePeriodSeconds": 0})[0], names))
    elapsed = time.time() - t0
    print(f"\n== API server baseline: {n} pods created + deleted (no kubelet; {workers} threads) in {elapsed:.1f} s: "
          f"{n / elapsed:.1f} pods/s ==")
    return n / elapsed


def api_kubelet_baseline(cp, n, workers):
    """The API server's rate for the requests any node agent must make for this workload, with
    no node agent at all: per pod the create, the status PATCHes to Running and to
    Succeeded, the Started event (a kubelet posts it too) and the delete, from as many client
    threads as the vk has pod workers, with a watch on the node's pods open meanwhile. pods/s = n / (first create -> last delete answered). The vk cannot beat
    this; its ratio to it is its own overhead."""
    api = Api(cp.env)
    ns = "default"
    tag = os.urandom(3).hex()
    names = [f"kbase-{tag}-{i}" for i in range(n)]

    status = api_kubelet_status

    def lifecycle(nm):
        path = f"/api/v1/namespaces/{ns}/pods/{nm}"
        codes = [api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod(ns, "no-such-node-" + tag, nm, {}))[0]]
        t = time.time()
        codes.append(api.patch(path + "/status", status("Running", {"running": {"startedAt": "2026-01-01T00:00:00Z"}})))
        patch_lat.append(time.time() - t)
        codes.append(api.call("POST", f"/api/v1/namespaces/{ns}/events", {
            "metadata": {"generateName": nm + "."}, "involvedObject": {"kind": "Pod", "namespace": ns, "name": nm},
            "reason": "Started", "message": "Started container main", "type": "Normal",
            "source": {"component": "kubelet"}})[0])
        t = time.time()
        codes.append(api.patch(path + "/status", status("Succeeded", {"terminated": {"exitCode": 0}})))
        patch_lat.append(time.time() - t)
        codes.append(api.call("DELETE", path, {"gracePeriodSeconds": 0})[0])
        return codes

    # The watches of the vk's run: the node agent's own on its node's pods, and this
    # client's on the namespace (the instrument). Each costs the API server about 1 ms of
    # CPU per pod on this machine; no node agent can do without the first.
    import multiprocessing
    agent_watch = multiprocessing.get_context("spawn").Process(
        target=node_agent_watch, args=(cp.env, "no-such-node-" + tag), daemon=True)
    agent_watch.start()
    watch = PodWatch(api, ns, env=cp.env)
    watch.start()
    watch.ready.wait(30)
    time.sleep(0.5)
    patch_lat = []  # list.append is atomic
    client = {"bench client": os.getpid(), "bench watch": watch.pid, "node agent's watch": agent_watch.pid}
    cpu0 = cpu_by_process(None, client)
    t0 = time.time()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lifecycle, names))
        elapsed = time.time() - t0
        cpu1 = cpu_by_process(None, client)
    finally:
        watch.stop = True
        agent_watch.terminate()
    bad = [c for r in results for c in r if c not in (200, 201)]
    assert not bad, set(bad)
    print(f"== API server, the requests a node agent must make (create, 2 status PATCHes, 1 event, "
          f"delete, and a watch on its node's pods; no kubelet; {workers} threads; this client's namespace "
          f"watch as in the vk's run): {n} pods in {elapsed:.1f} s: {n / elapsed:.1f} pods/s; "
          f"status PATCH latency p50 {pct(patch_lat, 50) * 1000:.0f} ms, p99 {pct(patch_lat, 99) * 1000:.0f} ms; "
          "CPU ms per pod: " + ", ".join(f"{k} {(cpu1[k] - cpu0[k]) * 1000 / n:.1f}" for k in sorted(cpu1) if k in cpu0)
          + " ==")
    return n / elapsed


def ideal_agent(env, ns, n, workers, inbox, done):
    """Child process of api_status_baseline: a node agent that does nothing but its status
    writes. Each pod's backend changes at the same times as the mock's (Running PENDING s
    after its create, Succeeded RUN s later); `workers` threads PATCH each change when it is
    due, and one thread posts the Started events (as the vk's EventRecorder does)."""
    import heapq
    import queue
    api = Api(env)
    status = api_kubelet_status
    due, cv = [], threading.Condition()
    events = queue.Queue()
    left = [2 * n]
    took = []  # PATCH round trips

    def feed():
        for _ in range(n):
            name, t_created = inbox.get()
            with cv:
                heapq.heappush(due, (t_created + PENDING, name, "Running"))
                heapq.heappush(due, (t_created + PENDING + RUN, name, "Succeeded"))
                cv.notify_all()

    def work():
        while True:
            with cv:
                while True:
                    if left[0] == 0:
                        return
                    now = time.time()
                    if due and due[0][0] <= now:
                        _, name, phase = heapq.heappop(due)
                        left[0] -= 1
                        break
                    cv.wait(min(0.05, due[0][0] - now) if due else 0.05)
            path = f"/api/v1/namespaces/{ns}/pods/{name}/status"
            t = time.time()
            if phase == "Running":
                api.patch(path, status("Running", {"running": {"startedAt": "2026-01-01T00:00:00Z"}}))
                events.put(name)
            else:
                api.patch(path, status("Succeeded", {"terminated": {"exitCode": 0}}))
            took.append(time.time() - t)
            with cv:
                cv.notify_all()

    def post_events():
        for _ in range(n):
            nm = events.get()
            api.call("POST", f"/api/v1/namespaces/{ns}/events", {
                "metadata": {"generateName": nm + "."}, "involvedObject": {"kind": "Pod", "namespace": ns, "name": nm},
                "reason": "Started", "message": "Started container main", "type": "Normal",
                "source": {"component": "kubelet"}})

    threads = [threading.Thread(target=feed), threading.Thread(target=post_events)]
    threads += [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.put(took)


def api_kubelet_status(phase, state):
    """A pod status as a kubelet writes it (all four conditions, IPs, start time, a full
    container status), so the baselines' PATCHes cost the API server what the vk's do."""
    t = "2026-01-01T00:00:00Z"
    ready = "True" if phase == "Running" else "False"
    cond = [{"type": c, "status": s, "lastProbeTime": None, "lastTransitionTime": t}
            for c, s in (("Initialized", "True"), ("Ready", ready), ("ContainersReady", ready),
                         ("PodScheduled", "True"))]
    return {"status": {"phase": phase, "conditions": cond, "hostIP": "127.0.0.1",
                       "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}], "startTime": t,
                       "qosClass": "BestEffort",
                       "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "busybox@sha256:0",
                                              "containerID": "mock://0123456789abcdef", "ready": phase == "Running",
                                              "restartCount": 0, "started": phase == "Running", "state": state,
                                              "lastState": {}}]}}


def burn(share, stop_at):
    """Child process: uses `share` of one core (busy 10*share ms of every 10 ms) until stop_at."""
    while time.time() < stop_at:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.01 * share:
            pass
        time.sleep(0.01 * (1 - share))


def api_status_baseline(cp, n, workers, load=0.0):
    """Status propagation with an ideal node agent and no vk: the same burst of n pods, the
    same backend timeline and the same client (creates, a watch in a child process, a delete
    as soon as a pod is Succeeded), but the status writes come from ideal_agent, a process
    that makes only the node agent's minimum requests exactly when each change is due. Its
    p99 is what the API server on this machine allows any node agent; the vk's excess over
    it is the vk's (and interlink's and the mock's) share."""
    import multiprocessing
    api = Api(cp.env)
    ns = "default"
    tag = os.urandom(3).hex()
    names = [f"sbase-{tag}-{i}" for i in range(n)]
    pool = ThreadPoolExecutor(max_workers=workers)
    delete_pool = ThreadPoolExecutor(max_workers=workers)  # as in the vk's run
    ctx = multiprocessing.get_context("spawn")
    # The watch every node agent keeps on its node's pods (the vk's and the kubelet's): it
    # costs the API server about 1 ms of CPU per pod here, as in the node-agent baseline.
    agent_watch = ctx.Process(target=node_agent_watch, args=(cp.env, "no-such-node-" + tag), daemon=True)
    agent_watch.start()
    watch = PodWatch(api, ns, env=cp.env, on_succeeded=lambda nm: delete_pool.submit(
        api.call, "DELETE", f"/api/v1/namespaces/{ns}/pods/{nm}"))
    watch.start()
    watch.ready.wait(30)
    time.sleep(0.5)
    inbox, done = ctx.Queue(), ctx.Queue()
    agent = ctx.Process(target=ideal_agent, args=(cp.env, ns, n, workers, inbox, done), daemon=True)
    agent.start()
    burners = [ctx.Process(target=burn, args=(min(1.0, load - i), time.time() + 60), daemon=True)
               for i in range(int(-(-load // 1)))]  # `load` cores in all, one process per core
    for b in burners:
        b.start()
    created = {}

    def create(nm):
        code = api.call("POST", f"/api/v1/namespaces/{ns}/pods", pod(ns, "no-such-node-" + tag, nm, {}))[0]
        created[nm] = time.time()
        inbox.put((nm, created[nm]))
        return code

    try:
        t0 = time.time()
        codes = list(pool.map(create, names))
        assert all(c == 201 for c in codes), set(codes)
        wait_until("all baseline pods to be done and deleted",
                   lambda: sum(1 for nm in names if nm in watch.deleted) >= n, timeout=max(120, n / 5), interval=0.5)
        elapsed = max(watch.deleted[nm] for nm in names) - t0
        took = done.get(timeout=30)
    finally:
        watch.stop = True
        agent.terminate()
        agent_watch.terminate()
        for b in burners:
            b.terminate()
        pool.shutdown(wait=False)
        delete_pool.shutdown(wait=False)
    lat = [watch.running[nm] - (created[nm] + PENDING) for nm in names if nm in watch.running]
    lat += [watch.succeeded[nm] - (created[nm] + PENDING + RUN) for nm in names if nm in watch.succeeded]
    print(f"== API server with a status-only node agent (no vk; {workers} status writers that PATCH each change "
          f"when it is due, one event poster, a watch on its node's pods{f'; {load:.2f} of a core burnt beside it' if load else ''}): {n} pods in {elapsed:.1f} s: {n / elapsed:.1f} pods/s; "
          f"status propagation p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms "
          f"({len(lat)} samples); PATCH round trip p50 {pct(took, 50) * 1000:.0f} ms, "
          f"p99 {pct(took, 99) * 1000:.0f} ms ==")
    return pct(lat, 99)


def api_request_counts(cp):
    """apiserver_request_total by (verb, resource, subresource, code), WATCH and LIST left out."""
    import re
    api = Api(cp.env)
    c = api.conn()
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    counts = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        m = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if m.get("verb") in ("WATCH", "LIST"):
            continue
        key = (m.get("verb"), m.get("resource"), m.get("subresource"), m.get("code"))
        counts[key] = counts.get(key, 0) + float(value)
    return counts


def throughput(cp, bin_dir, n, qps, burst, workers, interval_ms, baseline=None, status_watch=True, vk_workers=None,
               kubelet_baseline=None, status_baseline=None, watch_min_interval_ms=None):
    stack = Stack(cp, bin_dir, node="vk-bench-t-" + os.urandom(3).hex(), ping_interval=10, proxy=False,
                  config={"ClientQPS": str(qps), "ClientBurst": str(burst),
                          "StatusSafetyIntervalMs": "15000" if status_watch else "0",
                          "StatusSyncIntervalMs": str(interval_ms), "MockCapacityPods": '"100000"',
                          "Resources": '{CPU: "1000", Memory: "4Ti", Pods: "100000"}',
                          **({"StatusWatchMinIntervalMs": str(watch_min_interval_ms)}
                             if watch_min_interval_ms is not None else {})},
                  vk_args=["--pod-sync-workers", str(vk_workers or workers)],
                  vk_log_level=os.environ.get("VK_BENCH_LOG_LEVEL", "info")).start()
    api = Api(cp.env)
    ns = stack.namespace
    pool = ThreadPoolExecutor(max_workers=workers)  # as many as the baselines use
    # Deletes have threads of their own: a pod that finished early is deleted then, not
    # after this client's last create (as a Job controller would), and their wait for a
    # thread is printed.
    delete_pool = ThreadPoolExecutor(max_workers=workers)
    try:
        wait_until("node Ready", lambda: cp.get("node", stack.node), timeout=60)

        del_times = []  # (queued, sent, answered) of this client's DELETEs; list.append is atomic

        def timed_delete(name, queued):
            sent = time.time()
            api.call("DELETE", f"/api/v1/namespaces/{ns}/pods/{name}")
            del_times.append((queued, sent, time.time()))

        def delete(name):
            delete_pool.submit(timed_delete, name, time.time())

        watch = PodWatch(api, ns, on_succeeded=delete, env=cp.env)
        watch.start()
        watch.ready.wait(30)
        time.sleep(0.5)
        ann = {"mock.interlink.io/pending-seconds": str(PENDING), "mock.interlink.io/run-seconds": str(RUN)}
        counts0 = api_request_counts(cp)
        client = {"bench client": os.getpid(), "bench watch": watch.pid}
        cpu0, busy0 = cpu_by_process(stack, client), machine_busy()
        perfs = []
        if os.environ.get("VK_BENCH_PERF_BURST"):  # diagnosis: perf profiles of the daemons in the burst
            import subprocess
            for name, d in stack.daemons.items():
                perfs.append(subprocess.Popen(
                    ["perf", "record", "--call-graph", "dwarf,16384", "-F", "999", "-o",
                     f"{os.environ['VK_BENCH_PERF_BURST']}.{name}", "-p", str(d.proc.pid), "--",
                     "sleep", "6"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        t0 = time.time()
        futures = [pool.submit(api.call, "POST", f"/api/v1/namespaces/{ns}/pods",
                               pod(ns, stack.node, f"p-{i}", ann)) for i in range(n)]
        codes = [f.result()[0] for f in futures]
        created = time.time()
        assert all(c == 201 for c in codes), set(codes)
        wait_until("all pods to be done and deleted", lambda: len(watch.deleted) >= n,
                   timeout=max(120, n / 5), interval=0.5)
        elapsed = max(watch.deleted.values()) - t0
        cpu1, busy1 = cpu_by_process(stack, client), machine_busy()
        for p in perfs:
            p.wait()
        watch.stop = True
        time.sleep(1)  # the last events and backend deletes
        counts1 = api_request_counts(cp)
        per_pod = {k: (v - counts0.get(k, 0)) / n for k, v in counts1.items() if v - counts0.get(k, 0) >= n / 10}
        # Latency: backend transition time (from the mock's exact timeline: t0 is interlink's
        # log line for the /create the mock answered) -> the watch event.
        starts, creates_per_uid = interlink_creates(stack)
        run_lat, done_lat = [], []
        for name, uid in watch.uids.items():
            if uid not in starts:
                continue
            if name in watch.running:
                run_lat.append(watch.running[name] - (starts[uid] + PENDING))
            if name in watch.succeeded:
                done_lat.append(watch.succeeded[name] - (starts[uid] + PENDING + RUN))
        both = run_lat + done_lat
        # Where the run's time goes: when each stage reached p50 and its last pod, in
        # seconds after the first create. The mock adds PENDING + RUN between the backend
        # /create and Succeeded; everything else is the API server, the vk and interlink.
        uid_of = watch.uids
        stages = [("creates accepted", [created - t0]),
                  ("backend /create", [starts[u] - t0 for u in uid_of.values() if u in starts]),
                  ("Running seen", [v - t0 for v in watch.running.values()]),
                  ("Succeeded seen", [v - t0 for v in watch.succeeded.values()]),
                  ("gone", [v - t0 for v in watch.deleted.values()])]
        timeline = "; ".join(f"{label} p50 {pct(xs, 50):.1f} / last {max(xs):.1f}" for label, xs in stages if xs)
        print(f"\n== throughput: {n} pods created -> Running -> Succeeded -> deleted ==")
        print(f"timeline, s after the first create: {timeline} (the mock takes {PENDING + RUN:.1f} s "
              f"from /create to Succeeded)")
        if del_times:
            waits = [s - q for q, s, _ in del_times]
            trips = [a - s for _, s, a in del_times]
            print(f"this client's DELETEs: waiting for a client thread p50 {pct(waits, 50) * 1000:.0f} / p99 "
                  f"{pct(waits, 99) * 1000:.0f} ms, round trip p50 {pct(trips, 50) * 1000:.0f} / p99 "
                  f"{pct(trips, 99) * 1000:.0f} ms")
        print(f"client QPS {qps}, burst {burst}; status sync every {interval_ms} ms"
              f"{' (status watch on: full sync every 15 s)' if status_watch else ' (status watch off)'}; "
              f"{vk_workers or workers} pod workers")
        print(f"creates accepted by the API in {created - t0:.1f} s")
        rate_verdict = "met" if n / elapsed >= 100 else "NOT met"
        if rate_verdict != "met" and kubelet_baseline and kubelet_baseline < 100:
            rate_verdict += (f"; out of reach here: the API server's own rate for the requests a node agent "
                             f"must make is {kubelet_baseline:.1f} pods/s in this run")
        # The CPU budget: 100 pods/s leaves cores * 10 ms of CPU per pod for everything on
        # the machine. What the control plane and this benchmark's client took of it is
        # beyond the vk; what is left is all any node agent here could use.
        used = {k: (cpu1[k] - cpu0[k]) * 1000 / n for k in cpu1 if k in cpu0}
        control = sum(v for k, v in used.items() if k.startswith(("kube-", "etcd")))
        instrument = sum(v for k, v in used.items() if k.startswith("bench "))
        agent = sum(v for k, v in used.items() if k in ("vk", "interlink", "mock-sd"))
        budget = (os.cpu_count() or 1) * 10.0
        if rate_verdict == "NOT met" and control + instrument >= budget:
            rate_verdict += (f"; out of reach here: the control plane and this client alone took "
                             f"{control + instrument:.1f} ms of CPU per pod, the machine's whole budget at "
                             f"100 pods/s is {budget:.0f}")
        print(f"all {n} pods done and gone in {elapsed:.1f} s: {n / elapsed:.1f} pods/s"
              + (f" = {n / elapsed / baseline:.2f}x the API server's own create+delete rate"
                 if baseline else "") + f" (target >= 100 pods/s: {rate_verdict})")
        if kubelet_baseline:
            print(f"  = {n / elapsed / kubelet_baseline:.2f}x the API server's rate for the requests a node "
                  f"agent must make ({kubelet_baseline:.1f} pods/s)")
        print("CPU seconds during the run (ms per pod): " + ", ".join(
            f"{k} {cpu1[k] - cpu0[k]:.1f} ({(cpu1[k] - cpu0[k]) * 1000 / n:.1f})" for k in sorted(cpu1, key=lambda k: cpu0.get(k, 0) - cpu1[k])
            if k in cpu0) + f"; the machine's {os.cpu_count()} cores were "
            f"{(busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1]) * 100:.0f}% busy")
        print(f"CPU budget at 100 pods/s: {budget:.0f} ms per pod on {os.cpu_count()} cores; the control plane "
              f"took {control:.1f}, this benchmark's client {instrument:.1f}, leaving "
              f"{budget - control - instrument:.1f} for the node agent; the vk + interlink + mock-sd took "
              f"{agent:.1f}")
        print("API requests per pod (this client's create and delete included): " + ", ".join(
            f"{v:.2f} {verb} {res}{'/' + sub if sub else ''} {code}"
            for (verb, res, sub, code), v in sorted(per_pod.items())))
        il_req = interlink_requests(stack)
        print("interlink requests per pod (vk -> interlink): " + ", ".join(
            f"{v / n:.2f} {path}" for path, v in sorted(il_req.items(), key=lambda kv: -kv[1])
            if path != "/metrics"))
        print(f"status propagation (backend change -> visible in the API), {len(both)} samples: "
              f"p50 {pct(both, 50) * 1000:.0f} ms, p99 {pct(both, 99) * 1000:.0f} ms, "
              f"max {max(both) * 1000:.0f} ms")
        verdict = "met" if pct(both, 99) <= 0.5 else "NOT met"
        if verdict != "met" and status_baseline and status_baseline > 0.5:
            verdict += "; out of reach here: no node agent gets under it from this API server"
        print(f"  target p99 <= 500 ms: {verdict}"
              + (f"; the status-only agent's p99 in this run: {status_baseline * 1000:.0f} ms, the vk's "
                 f"{pct(both, 99) / status_baseline:.2f}x it" if status_baseline else ""))
        print(f"  Running:   p50 {pct(run_lat, 50) * 1000:.0f} ms  p99 {pct(run_lat, 99) * 1000:.0f} ms")
        print(f"  Succeeded: p50 {pct(done_lat, 50) * 1000:.0f} ms  p99 {pct(done_lat, 99) * 1000:.0f} ms")
        if os.environ.get("VK_BENCH_LOG_LEVEL") in ("debug", "trace"):
            # Where the latency goes: backend change -> the vk's PATCH answered (its debug
            # line "pod NS/NAME status: PHASE"), then -> the client's watch event.
            import datetime
            import re
            pat = re.compile(r"^(\S+) debug \[vk\.pods\] pod ([^/ ]+)/(\S+) status: (\w+) "
                             r"\(report (-?\d+) ms ago, PATCH (\d+) ms\)")
            sent_pat = re.compile(r"^(\S+) debug \[vk\.pods\] pod ([^/ ]+)/\S+ sent to the backend")
            patched, parts, series, sent = {}, {}, [], []
            with open(stack.daemons["vk"].log_path, errors="replace") as f:
                for line in f:
                    m = pat.match(line)
                    if m and m.group(2) == ns:
                        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
                        patched.setdefault((m.group(3), m.group(4)), t)
                        parts.setdefault((m.group(3), m.group(4)), (int(m.group(5)) / 1000, int(m.group(6)) / 1000))
                        if int(m.group(5)) >= 0:
                            series.append((t, int(m.group(5)) - int(m.group(6)), int(m.group(6))))
                    m = sent_pat.match(line)
                    if m and m.group(2) == ns:
                        sent.append(datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp())
            to_vk, to_watch, learn, wait, patch = [], [], [], [], []
            for name, uid in watch.uids.items():
                if uid not in starts:
                    continue
                for phase, backend_t, seen in (("Running", starts[uid] + PENDING, watch.running.get(name)),
                                              ("Succeeded", starts[uid] + PENDING + RUN, watch.succeeded.get(name))):
                    if (name, phase) in patched and seen:
                        to_vk.append(patched[(name, phase)] - backend_t)
                        to_watch.append(seen - patched[(name, phase)])
                        ago, took = parts[(name, phase)]
                        if ago >= 0:
                            learn.append(patched[(name, phase)] - ago - backend_t)
                            wait.append(ago - took)
                            patch.append(took)
            print(f"  backend change -> vk PATCH answered: p50 {pct(to_vk, 50) * 1000:.0f} ms, "
                  f"p99 {pct(to_vk, 99) * 1000:.0f} ms; PATCH answered -> client watch event: "
                  f"p50 {pct(to_watch, 50) * 1000:.0f} ms, p99 {pct(to_watch, 99) * 1000:.0f} ms "
                  f"({len(to_vk)} samples)")
            print("    of which: backend change -> the vk has the report p50/p99 "
                  f"{pct(learn, 50) * 1000:.0f}/{pct(learn, 99) * 1000:.0f} ms; report -> PATCH sent (work queue) "
                  f"{pct(wait, 50) * 1000:.0f}/{pct(wait, 99) * 1000:.0f} ms; PATCH round trip "
                  f"{pct(patch, 50) * 1000:.0f}/{pct(patch, 99) * 1000:.0f} ms")
            # When the queue waits: the vk's creates and status PATCHes per 250 ms after its
            # first create, with the PATCHes' queue wait and round trip (ms, p50/max).
            if sent and series:
                t0, slots = min(sent), {}
                for t in sent:
                    slots.setdefault(int((t - t0) / 0.25), ([], []))[0].append(t)
                for t, w, took in series:
                    slots.setdefault(int((t - t0) / 0.25), ([], []))[1].append((w, took))
                print("    per 250 ms after the first /create (creates, PATCHes, queue wait p50/max, "
                      "PATCH p50/max): " + "; ".join(
                          f"{k * 0.25:.2f} s {len(c)}, {len(pt)}"
                          + (f", {pct([x[0] for x in pt], 50):.0f}/{max(x[0] for x in pt)}, "
                             f"{pct([x[1] for x in pt], 50):.0f}/{max(x[1] for x in pt)}" if pt else "")
                          for k, (c, pt) in sorted(slots.items()) if k >= 0))
        dup = [u for u in watch.uids.values() if creates_per_uid.get(u) != 1]
        print(f"backend /create per pod: exactly 1 for all ({len(dup)} exceptions)")
        return pct(both, 99)
    finally:
        pool.shutdown(wait=False)
        delete_pool.shutdown(wait=False)
        if os.environ.get("VK_BENCH_KEEP_LOG"):
            import shutil
            shutil.copy(stack.daemons["vk"].log_path, os.environ["VK_BENCH_KEEP_LOG"])
        stack.close()


def machine_busy():
    """(busy, total) CPU time of the whole machine so far, from /proc/stat, in ticks."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks[:8]) - idle, sum(ticks[:8])


def cpu_by_process(stack, extra=None):
    """CPU seconds used so far by the stack's daemons, the control plane's processes and
    `extra` (name -> pid)."""
    pids = {name: d.proc.pid for name, d in stack.daemons.items()} if stack else {}
    pids.update({k: v for k, v in (extra or {}).items() if v})
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in ("kube-apiserver", "etcd", "kube-controller", "kube-scheduler"):
                pids[comm] = int(p)
    out = {}
    for name, pid in pids.items():
        try:
            out[name] = proc_stat(pid)[0]
        except (OSError, StopIteration):
            pass
    return out


def settle(quiet=0.15, timeout=60):
    """Waits until the control plane (kube-apiserver, etcd, the controller manager) uses less
    than `quiet` of a core over one second: the previous phase's deletions, namespace
    cleanup and garbage collection would otherwise slow the next phase's API calls."""
    pids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() in ("kube-apiserver", "etcd", "kube-controller"):
                        pids[int(p)] = 0.0
            except OSError:
                continue
    t0 = time.time()
    while time.time() - t0 < timeout:
        before = {pid: proc_stat(pid)[0] for pid in pids}
        time.sleep(1)
        used = sum(proc_stat(pid)[0] - c for pid, c in before.items())
        if used < quiet:
            if time.time() - t0 > 3:
                print(f"(waited {time.time() - t0:.0f} s for the control plane to settle)")
            return time.time() - t0
    print(f"(the control plane did not settle below {quiet} cores in {timeout} s)")
    return time.time() - t0


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return cpu, rss / 1024.0


def interlink_requests(stack):
    """interlink's requests served so far, by path (its /metrics)."""
    c = http.client.HTTPConnection("127.0.0.1", stack.interlink_port, timeout=10)
    with open(stack.token) as f:
        token = f.read().strip()
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
    text = c.getresponse().read().decode()
    c.close()
    out = {}
    for line in text.splitlines():
        if line.startswith("interlink_http_requests_total{"):
            path = line.split('path="', 1)[1].split('"', 1)[0]
            out[path] = out.get(path, 0) + float(line.rsplit(" ", 1)[1])
    return out


def status_calls(stack, path="/status"):
    return interlink_requests(stack).get(path, 0)


def scale(cp, bin_dir, m, qps, burst, workers, interval_ms):
    stack = Stack(cp, bin_dir, node="vk-bench-s-" + os.urandom(3).hex(), ping_interval=10, proxy=False,
                  config={"ClientQPS": str(qps), "ClientBurst": str(burst),
                          "StatusSyncIntervalMs": str(interval_ms), "MockCapacityPods": '"100000"',
                          "MockStateFile": '":memory:"',
                          "Resources": '{CPU: "1000", Memory: "4Ti", Pods: "100000"}'},
                  vk_args=["--pod-sync-workers", str(workers)], vk_log_level="info").start()
    api = Api(cp.env)
    ns = stack.namespace
    pid = stack.daemons["vk"].proc.pid
    try:
        wait_until("node Ready", lambda: cp.get("node", stack.node), timeout=60)
        _, rss0 = proc_stat(pid)
        watch = PodWatch(api, ns, env=cp.env)
        watch.start()
        watch.ready.wait(30)
        ann = {"mock.interlink.io/run-forever": "true", "mock.interlink.io/pending-seconds": "0"}
        t0 = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: api.call("POST", f"/api/v1/namespaces/{ns}/pods",
                                             pod(ns, stack.node, f"s-{i}", ann)), range(m)))
        wait_until(f"{m} pods Running", lambda: len(watch.running) >= m, timeout=max(300, m / 10),
                   interval=1)
        t_running = time.time() - t0
        time.sleep(5)
        cpu0, _ = proc_stat(pid)
        calls0, w0 = status_calls(stack), time.time()
        watches0 = status_calls(stack, "/status/watch")
        if os.environ.get("VK_BENCH_PERF"):  # diagnosis: perf profile of the idle vk
            import subprocess
            subprocess.run(["perf", "record", "--call-graph", "dwarf,16384", "-F", "200", "-o",
                            os.environ["VK_BENCH_PERF"], "-p", str(pid), "--", "sleep", "20"],
                           capture_output=True)
        else:
            time.sleep(20)
        cpu1, rss = proc_stat(pid)
        calls1, w1 = status_calls(stack), time.time()
        watches1 = status_calls(stack, "/status/watch")
        print(f"\n== scale: {m} running pods on one virtual node ==")
        print(f"{m} pods created and Running in {t_running:.1f} s (client QPS {qps}, burst {burst})")
        print(f"vk resident memory: {rss:.1f} MB with {m} pods ({rss0:.1f} MB with none)")
        print(f"vk CPU while {m} pods run: {100 * (cpu1 - cpu0) / (w1 - w0):.1f}% of a core "
              f"(status sync every {interval_ms} ms)")
        print(f"/status calls seen by interlink: {(calls1 - calls0) / (w1 - w0):.2f} per second; "
              f"/status/watch answers: {(watches1 - watches0) / (w1 - w0):.2f} per second")
        print(f"target vk < 150 MB: {'met' if rss < 150 else 'NOT met'}")
        watch.stop = True
        t1 = time.time()
        # One DELETE per pod: a collection delete of 10,000 pods outlives the API server's
        # request timeout and stops half way.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: api.call("DELETE", f"/api/v1/namespaces/{ns}/pods/s-{i}"), range(m)))
        wait_until("all pods gone", lambda: not (api.call("GET", f"/api/v1/namespaces/{ns}/pods?limit=1")[1]
                                                 or {}).get("items"), timeout=max(300, m / 10), interval=2)
        print(f"all {m} pods deleted (backend stop + final delete) in {time.time() - t1:.1f} s")
    finally:
        stack.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("source_dir")
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--scale-pods", type=int, default=10000)
    ap.add_argument("--qps", type=float, default=500)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--vk-workers", type=int, default=0,
                    help="the vk's --pod-sync-workers in the throughput run (default: --workers)")
    ap.add_argument("--interval-ms", type=int, default=500)
    ap.add_argument("--agent-load", type=float, default=0.0,
                    help="cores to keep busy beside the status-only agent (e.g. what the vk, interlink "
                         "and mock-sd use during the burst), to see what that CPU costs the API server")
    ap.add_argument("--rounds", type=int, default=1,
                    help="status-only agent and vk runs, alternating, each after the control plane "
                         "settled; prints every round's p99s and the median ratio")
    ap.add_argument("--watch-min-interval-ms", type=int, default=None,
                    help="the vk's StatusWatchMinIntervalMs (default: the vk's own, 25)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-watch", action="store_true",
                    help="StatusSafetyIntervalMs 0: the vk polls /status as before the status watch")
    a = ap.parse_args()
    if a.quick:
        a.pods, a.scale_pods = 50, 500
    for b in ("vk", "interlink", "mock-sd"):
        if not os.access(os.path.join(a.bin_dir, b), os.X_OK):
            print(f"SKIP: {a.bin_dir}/{b} is not built")
            return SKIP
    cp = ControlPlane(a.source_dir)
    if not cp.start():
        print("SKIP: the Kubernetes control plane cannot be started")
        return SKIP
    try:
        if a.pods > 0:
            base = api_baseline(cp, a.pods, a.workers)
            kbase = api_kubelet_baseline(cp, a.pods, a.workers)
            rounds = []
            for r in range(a.rounds):
                if a.rounds > 1:
                    print(f"\n===== round {r + 1} of {a.rounds} =====")
                settle()
                sbase = api_status_baseline(cp, a.pods, a.workers, a.agent_load)
                settle()
                vk_p99 = throughput(cp, a.bin_dir, a.pods, a.qps, a.burst, a.workers, a.interval_ms, base,
                                    status_watch=not a.no_watch, kubelet_baseline=kbase, status_baseline=sbase,
                                    vk_workers=a.vk_workers or None,
                                    watch_min_interval_ms=a.watch_min_interval_ms)
                rounds.append((sbase, vk_p99))
            if a.rounds > 1:
                ratios = sorted(v / s for s, v in rounds)
                print(f"\n== {a.rounds} rounds, status propagation p99 (agent / vk, ms): "
                      + ", ".join(f"{s * 1000:.0f} / {v * 1000:.0f}" for s, v in rounds)
                      + f"; vk / agent median {ratios[len(ratios) // 2]:.2f}x "
                      f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}x); vk p99 <= 500 ms in "
                      f"{sum(1 for _, v in rounds if v <= 0.5)} of {a.rounds} ==")
        if a.scale_pods > 0:
            scale(cp, a.bin_dir, a.scale_pods, a.qps, a.burst, a.workers, a.interval_ms)
    finally:
        cp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
