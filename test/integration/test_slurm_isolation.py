#!/usr/bin/env python3
"""Isolation tests of bin/slurm-sd against a real one-node Slurm (issue 9).

Usage: test_slurm_isolation.py PATH/TO/slurm-sd

Each attack a pod author could try, and the secure outcome:
  - a container replaces its log by a symlink to a root-only file: `logs` does not print it;
  - a log replaced by a symlink to /dev/zero, or by a FIFO: `logs` answers at once, slurm-sd's
    memory stays small;
  - a FIFO in place of a container's .status file: status calls are not blocked;
  - locked #SBATCH options (--account, --uid, --output, abbreviations, bundles), raw-shell
    annotations and hostPath outside the allow-list: refused with a clear reason, no job;
  - a 40,000-letter image name: a clear answer, slurm-sd stays up;
  - start-up refuses a data root owned by another user or world-writable, and a state
    database inside DataRootFolder;
  - with NamespaceUsers (two users the test creates and removes), each namespace's job runs
    as its user in a 0700 job directory, and one tenant cannot read the other's files.
Exit 77 when Slurm cannot be started. Leaves no job or process behind.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_slurm_sd as s  # noqa: E402

SECRET = "ROOT-ONLY-SECRET-%d" % os.getpid()


def alive(sd):
    urllib.request.urlopen(sd.url + "/healthz", timeout=5).read()
    assert sd.proc.poll() is None, "slurm-sd died"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_log_symlink_to_root_only_file(sd, secret_path):
    pod = s.slurm_pod("log-to-secret", [s.sh(
        "c", f"echo visible; rm -f run-c.out run-c.err; ln -s {secret_path} run-c.out; "
             f"ln -s {secret_path} run-c.err")])
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    s.finished(sd, pod)
    for opts in ({}, {"Tail": 5}, {"Bytes": 100}):
        out = sd.logs(pod, "c", **opts)
        assert SECRET not in out, f"logs {opts} printed the root-only file: {out!r}"
    alive(sd)
    s.log("log replaced by a symlink to a root-only file: not printed")
    return pod


def check_log_dev_zero_and_fifo(sd):
    pod = s.slurm_pod("log-to-zero", [s.sh(
        "c", "rm -f run-c.out run-c.err; ln -s /dev/zero run-c.out; mkfifo run-c.err")])
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    s.finished(sd, pod)
    before = rss_kib(sd.proc.pid)
    t0 = time.time()
    out = sd.logs(pod, "c")
    out_tail = sd.logs(pod, "c", Tail=10)
    took = time.time() - t0
    after = rss_kib(sd.proc.pid)
    assert took < 10, f"logs took {took:.1f}s"
    assert len(out) < 1000 and len(out_tail) < 1000, (len(out), len(out_tail))
    assert after - before < 200 * 1024, f"slurm-sd grew from {before} to {after} KiB"
    alive(sd)
    s.log(f"log as /dev/zero symlink / FIFO: answered in {took:.2f}s, RSS {before}->{after} KiB")
    return pod


def check_status_fifo(sd):
    # The init container leaves a FIFO where the app container's .status file will go; until
    # the app ends (and replaces it), every status call reads that name.
    pod = s.slurm_pod("status-fifo", [s.sh("app", "sleep 8; echo done")],
                      init=[s.sh("plant", "mkfifo run-app.status")])
    code, body = sd.create(pod)
    assert code == 200, (code, body)
    uid = pod["metadata"]["uid"]
    seen_fifo = False
    deadline = time.time() + 60
    while time.time() < deadline:
        t0 = time.time()
        result = {}
        th = threading.Thread(target=lambda: result.update(st=sd.status([pod]).get(uid)))
        th.daemon = True
        th.start()
        th.join(15)
        assert not th.is_alive(), "a status call blocked on the FIFO"
        assert time.time() - t0 < 10, "status call too slow"
        st = result.get("st")
        job_dir = os.path.join(sd.data, f"slurm-it-{uid}")
        path = os.path.join(job_dir, "run-app.status")
        seen_fifo = seen_fifo or (os.path.exists(path) and not os.path.isfile(path))
        if st and st["containers"] and s.state_of(st["containers"][0])[0] == "terminated":
            break
        time.sleep(0.5)
    assert seen_fifo, "the FIFO was never in place (test did not exercise the attack)"
    st = s.finished(sd, pod)
    assert s.state_of(st["containers"][0])[1]["exitCode"] == 0, st
    alive(sd)
    s.log("FIFO in place of a .status file: status calls stayed prompt")
    return pod


def check_policy_refusals(sd, env):
    cases = [
        ({"slurm-job.vk.io/flags": "--account=someone-else"}, None, "can never come from a pod"),
        ({"slurm-job.vk.io/flags": "--uid=0"}, None, "can never come from a pod"),
        ({"slurm-job.vk.io/flags": "--time=5 --output=/etc/x"}, None, "can never come from a pod"),
        ({"slurm-job.vk.io/flags": "--acc=x"}, None, "can never come from a pod"),
        ({"slurm-job.vk.io/flags": "-kq high"}, None, "can never come from a pod"),
        ({"slurm-job.knoc.io/flags": "-p other"}, None, "can never come from a pod"),
        ({"slurm-job.vk.io/pre-exec": "cat /etc/shadow"}, None, "HonouredAnnotations"),
        ({"interlink.eu/wstunnel-client-commands": "id"}, None, "HonouredAnnotations"),
        ({}, [{"name": "h", "hostPath": {"path": "/etc"}}], "HostPathAllowList"),
    ]
    for ann, vols, want in cases:
        c = s.sh("c", "true")
        if vols:
            c["volumeMounts"] = [{"name": "h", "mountPath": "/h"}]
        pod = s.slurm_pod("refused", [c], annotations=ann, volumes=vols)
        code, body = sd.create(pod)
        assert code == 400, (ann, vols, code, body)
        assert want in body, (ann, body)
        r = subprocess.run([env.get("SQUEUE", "squeue"), "--noheader", "--name=il-" +
                            pod["metadata"]["uid"]], capture_output=True, text=True)
        assert r.stdout.strip() == "", f"a job was submitted for {ann}: {r.stdout}"
    huge = s.slurm_pod("huge-image", [dict(s.sh("c", "true"), image="a" * 40000)],
                       annotations={"slurm-job.vk.io/container-runtime": "podman"})
    code, body = sd.create(huge)
    assert code in (200, 400, 409, 412), (code, body[:200])
    alive(sd)
    s.log(f"policy: {len(cases)} refusals with reasons, no job; 40,000-letter image -> {code}")
    return [huge] if code == 200 else []


def start_fails(binary, env, workdir, data, state, want):
    own = tempfile.mkdtemp(dir=workdir)
    sd = s.Sidecar(binary, own, env, data=data, state=state)
    try:
        sd.start()
    except RuntimeError as e:
        assert want in str(e), f"want {want!r} in: {e}"
        return
    finally:
        sd.stop()
    raise AssertionError(f"slurm-sd started with {data} / {state}; want refusal: {want}")


def check_startup_refusals(binary, env, workdir):
    other = os.path.join(workdir, "others")
    os.makedirs(other)
    os.chown(other, 65534, 65534)
    start_fails(binary, env, workdir, other, None, "owned by uid 65534")
    open_dir = os.path.join(workdir, "open")
    os.makedirs(open_dir)
    os.chmod(open_dir, 0o777)
    start_fails(binary, env, workdir, open_dir, None, "world-writable")
    data = os.path.join(workdir, "data-ok")
    start_fails(binary, env, workdir, data, os.path.join(data, "state.db"),
                "must not be inside DataRootFolder")
    s.log("start-up: foreign/world-writable data roots and a state DB inside them refused")


TENANTS = ["il-iso-a", "il-iso-b"]


def make_users():
    made = []
    for u in TENANTS:
        if subprocess.run(["id", u], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin", u], check=True)
            made.append(u)
    return made


def tenant_pod(ns, name, script):
    pod = s.slurm_pod(name, [s.sh("c", script)])
    pod["metadata"]["namespace"] = ns
    return pod


def check_tenants(binary, env, workdir):
    """NamespaceUsers: each namespace's jobs run as its own user; one cannot read the other."""
    import pwd
    os.chmod(workdir, 0o711)
    tdir = tempfile.mkdtemp(dir=workdir)
    os.chmod(tdir, 0o711)
    sd = s.Sidecar(binary, tdir, env,
                   policy="NamespaceUsers: {team-a: il-iso-a, team-b: il-iso-b}\n")
    pods = []
    try:
        sd.start()
        a = tenant_pod("team-a", "tenant-a",
                       "id -un; echo TENANT-A-SECRET > secret.txt; ls -ld .; sleep 8")
        a_dir = os.path.join(sd.data, "team-a-" + a["metadata"]["uid"])
        b = tenant_pod("team-b", "tenant-b",
                       f"id -un; sleep 3; cat {a_dir}/secret.txt; ls {a_dir}; echo done")
        for p in (a, b):
            code, body = sd.create(p)
            assert code == 200, (code, body)
            pods.append(p)
        c = tenant_pod("team-c", "tenant-c", "true")
        code, body = sd.create(c)
        assert code == 400 and "NamespaceUsers" in body, (code, body)
        st = os.stat(a_dir)
        assert st.st_uid == pwd.getpwnam("il-iso-a").pw_uid, st
        assert st.st_mode & 0o777 == 0o700, oct(st.st_mode)
        s.finished(sd, a, timeout=120)
        s.finished(sd, b, timeout=120)
        out_a, out_b = sd.logs(a, "c"), sd.logs(b, "c")
        assert out_a.startswith("il-iso-a\n"), out_a
        assert out_b.startswith("il-iso-b\n"), out_b
        assert "TENANT-A-SECRET" not in out_b, out_b
        assert "Permission denied" in out_b, out_b
        s.log("NamespaceUsers: jobs ran as il-iso-a / il-iso-b, job dir 0700, B could not read A")
    finally:
        try:
            if sd.proc and sd.proc.poll() is None:
                s.cleanup(sd, env, pods)
        finally:
            sd.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    env = s.ensure_slurm()
    if env is None:
        print("SKIP: Slurm cannot be started here (scripts/slurm/up failed)")
        return s.SKIP
    workdir = tempfile.mkdtemp(prefix="slurm-sd-iso-")
    secret_path = os.path.join(workdir, "root-only.txt")
    with open(secret_path, "w") as f:
        f.write(SECRET + "\n")
    os.chmod(secret_path, 0o600)
    pods, ok, t0 = [], False, time.time()
    sd = None
    made_users = []
    try:
        if os.geteuid() == 0:
            check_startup_refusals(binary, env, workdir)
            made_users = make_users()
            check_tenants(binary, env, workdir)
        sd = s.Sidecar(binary, workdir, env, policy="")  # the default policy
        sd.start()
        pods.extend(check_policy_refusals(sd, env))
        pods.append(check_log_symlink_to_root_only_file(sd, secret_path))
        pods.append(check_log_dev_zero_and_fifo(sd))
        pods.append(check_status_fifo(sd))
        ok = True
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        if sd:
            print("---- slurm-sd log ----\n" + sd.tail())
    finally:
        left, containers = [], []
        try:
            if sd and sd.proc and sd.proc.poll() is None:
                left, containers = s.cleanup(sd, env, pods)
        finally:
            if sd:
                sd.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            for u in made_users:
                subprocess.run(["userdel", u], capture_output=True)
        if left or containers:
            print(f"FAIL: left behind jobs {left} containers {containers}")
            ok = False
    s.log(f"{'PASS' if ok else 'FAIL'} in {time.time() - t0:.0f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
