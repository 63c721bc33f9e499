"""HTTP side of the benchmarks: gunicorn with production settings on a free port, and wrk as the load."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "requests.lua"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn from the venv, gthread workers (HTTP keep-alive), the project's production settings."""

    def __init__(
        self, *, env: dict[str, str], python: str, workers: int, threads: int, log: Path, profile: Path | None = None
    ):
        self.env = env
        self.python = python
        self.profile = profile
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.log = log
        self.args = [
            str(Path(python).parent / "gunicorn"),
            "hospital.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "30",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def description(self) -> str:
        return f"gunicorn {' '.join(self.args[1:]).replace(f'127.0.0.1:{self.port}', '127.0.0.1:<free port>')}"

    def __enter__(self) -> "Gunicorn":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("a")
        args = self.args
        if self.profile is not None:
            # py-spy cannot attach to a running process here (no ptrace rights), so it starts gunicorn:
            # --idle keeps the time spent waiting on PostgreSQL in the samples.
            spy = str(Path(self.python).parent / "py-spy")
            args = [spy, "record", "--subprocesses", "--idle", "-r", "50", "-f", "raw", "-o", str(self.profile), "--"]
            args += self.args
        self.process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=handle, stderr=handle)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                urllib.request.urlopen(f"{self.url}/api/doctors/", timeout=2)
            except urllib.error.HTTPError:
                return self  # 401: up and answering
            except OSError:
                time.sleep(0.2)
                continue
            return self
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log}")

    def master_pid(self) -> int:
        """gunicorn's master: our child, or py-spy's child when profiling."""
        assert self.process is not None, "gunicorn was not started"
        if self.profile is None:
            return self.process.pid
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().split()
            except OSError:
                continue
            if fields[3] == str(self.process.pid):
                return int(fields[0])
        return self.process.pid

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.master_pid(), signal.SIGTERM)  # graceful stop of the master and its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wrk(
    url: str,
    *,
    requests_per_thread: list[list[str]],
    seconds: int,
    once: bool,
) -> dict:
    """Run wrk with one connection per thread, each thread sending its own list of requests.

    Lines are "METHOD PATH TOKEN". In `once` mode each thread sends its list once; wrk is stopped
    (SIGINT, which makes it print its results) as soon as every thread is done, and `elapsed` is
    the wall time from the start of wrk to the last thread done.
    """
    threads = len(requests_per_thread)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as directory:
        for number, lines in enumerate(requests_per_thread, start=1):
            Path(directory, f"thread_{number}.txt").write_text("\n".join(lines) + "\n")
        done = Path(directory, "done")
        args = ["wrk", "-t", str(threads), "-c", str(threads), "-d", f"{seconds}s", "--timeout", "10s"]
        args += ["-s", str(LUA), url, "--", directory, "once" if once else "cycle"]
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        elapsed = None
        if once:
            while process.poll() is None:
                if done.exists() and len(done.read_text().split()) >= threads:
                    elapsed = time.perf_counter() - started
                    process.send_signal(signal.SIGINT)
                    break
                time.sleep(0.005)
        output, errors = process.communicate(timeout=seconds + 60)
        elapsed = elapsed or time.perf_counter() - started
    results = [line for line in output.splitlines() if line.startswith("{")]
    if process.returncode not in (0, -signal.SIGINT) or not results:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}\n{errors}")
    result = json.loads(results[-1])
    result["elapsed"] = elapsed
    result["threads"] = threads
    mode = "once" if once else "cycle"
    result["command"] = (
        f"wrk -t {threads} -c {threads} -d {seconds}s --timeout 10s -s bench/requests.lua <url> -- <dir> {mode}"
    )
    return result


# Where a request's time goes, by the frames a py-spy sample contains (inclusive; a sample can count
# in more than one line, e.g. SQL run by the authentication).
PROFILE_BUCKETS = [
    ("authentication (knox: token, user, the user's tokens)", "authenticate (knox/auth.py"),
    ("permission checks (roles)", "check_permissions (rest_framework/views.py"),
    ("selectors.doctor_get", "doctor_get (appointments/selectors.py"),
    ("selectors.free_slots (query and rows)", "free_slots (appointments/selectors.py"),
    ("services.slot_book", "slot_book (appointments/services.py"),
    ("DRF serialisation (ListSerializer / Serializer .data)", "data (rest_framework/serializers.py"),
    ("JSON rendering", "render (rest_framework/renderers.py"),
    ("all SQL: execute and fetch, waiting included", "_execute (django/db/backends/utils.py"),
    ("all SQL: commit", "commit (django/db/backends/base/base.py"),
]


def profile_summary(raw: Path) -> dict[str, float]:
    """Shares of the samples taken inside a request (WSGIHandler.__call__) that include each bucket's frame."""
    total = 0
    counts = dict.fromkeys((label for label, _ in PROFILE_BUCKETS), 0)
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if "__call__ (django/core/handlers/wsgi.py" not in stack:
            continue
        total += int(samples)
        for label, frame in PROFILE_BUCKETS:
            if frame in stack:
                counts[label] += int(samples)
    return {"samples": total, **{label: round(count / total, 3) if total else 0.0 for label, count in counts.items()}}
