"""The Python test harness shared by test/integration, test/e2e and test/chaos.

One implementation of what every harness needs: the skip exit code, free ports, polling
waits and daemons started as child processes with a log file. The modules beside it build
on these:
  harness.integration  HTTP over TCP/TLS/unix sockets, a daemon with a readiness check,
                       pod manifests (for tests of our binaries on loopback);
  harness.vk           control plane + mock-sd + interlink + vk stacks (e2e, chaos);
  harness.k8s_names    longest legal Kubernetes names.

Test scripts run as `python3 test/<dir>/test_x.py`: they put test/ on sys.path first
(CTest also sets PYTHONPATH to it, test/CMakeLists.txt).
"""
import os
import signal
import socket
import subprocess
import time

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests

_ISSUED_PORTS = set()


def free_port():
    """A port nothing listens on, never one this process handed out before: the kernel may
    give the same ephemeral port to two bind(0) calls in a row once the first socket is
    closed, and a stack's sidecar and interlink then fought over it."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ISSUED_PORTS:
            _ISSUED_PORTS.add(port)
            return port


def wait_until(what, fn, timeout=60.0, interval=0.2):
    """Polls fn() until it returns a truthy value; returns it or raises AssertionError."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - transient errors while polling
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def tail_file(path, n=30):
    """The last n lines of a log file ("" when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
    except OSError:
        return ""


class Process:
    """A program started from an argv with extra env, stdout+stderr appended to
    <log_dir>/<name>.log; stopped with a signal, then killed if it lingers."""

    def __init__(self, name, argv, env, log_dir, new_session=False):
        self.name, self.argv, self.env = name, argv, env
        self.new_session = new_session
        self.log_path = os.path.join(log_dir, name + ".log")
        self.proc = None
        self.log = None

    def start(self):
        env = dict(os.environ)
        env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=self.new_session)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def tail(self, n=30):
        return tail_file(self.log_path, n)
