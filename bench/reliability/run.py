"""Load with faults: locust against gunicorn, Celery and PostgreSQL while a worker, Redis and PostgreSQL fail.

.venv/bin/python -m bench.reliability.run [--seconds 180] [--users 50] [--no-fuzz] [--no-audit] [--no-docs]

What it does, in order (`make reliability` is the way in):
1. the CI fuzz pass (hospital/tests/test_fuzz.py) for its count of cases, and the dependency audit;
2. a database of its own (hospital_reliability, dropped and created again), migrated and seeded:
   an administrator, doctors with schedules and generated slots, patients;
3. gunicorn with the production settings, a Celery worker and beat (the generation sweep every
   SLOT_GENERATION_INTERVAL = 10 s), Redis as broker (db 5) and cache (db 6);
4. headless locust (bench/reliability/locustfile.py): 50 patients, 80% browse free slots, 15% book,
   5% cancel, for 3 minutes, while this script injects the faults: the worker killed with -9 and
   restarted, schedule edits through the API, Redis stopped for 30 s (with logins meanwhile),
   PostgreSQL restarted, an absence added;
5. after a few sweeps, the checks (bench/reliability/verify.py): invariants by SQL, every booking
   acknowledged with 201 still in the database, every doctor's slots matching their schedule;
6. the figures, printed and written to docs/reliability.md.

It touches only processes it starts, plus the shared Redis and PostgreSQL servers that the faults
are about (both are running again when it ends, whatever happens).
"""

import argparse
import datetime
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.reliability import report

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VAR = ROOT / "var" / "reliability"
DOCS = ROOT / "docs" / "reliability.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
LOCUST_VENV = VAR / "locust-venv"
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
FUZZ_DATABASE = "postgres://postgres@127.0.0.1:5432/h_rel"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180, help="duration of the load")
    parser.add_argument("--users", type=int, default=50, help="locust users (patients)")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--doctors", type=int, default=20)
    parser.add_argument("--interval", type=int, default=10, help="SLOT_GENERATION_INTERVAL, seconds")
    parser.add_argument("--redis-down", type=int, default=30, help="seconds Redis stays stopped")
    parser.add_argument("--database", default="hospital_reliability")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (as GUNICORN_WORKERS)")
    parser.add_argument("--no-fuzz", action="store_true", help="skip the fuzz pass")
    parser.add_argument("--no-audit", action="store_true", help="skip the dependency audit")
    parser.add_argument("--no-docs", action="store_true", help="print the figures, leave docs/reliability.md")
    return parser.parse_args()


class Run:
    """The run's state: started processes, the fault timeline, the figures."""

    def __init__(self, args):
        self.args = args
        self.processes: dict[str, subprocess.Popen] = {}
        self.timeline: list[dict] = []
        self.edits: list[dict] = []
        self.probes: list[dict] = []
        self.load_started = None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pg_version = sorted(os.listdir("/etc/postgresql"))[-1]
        self.env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # throwaway
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/5",
            "CACHE_URL": "redis://127.0.0.1:6379/6",
            "SLOT_GENERATION_INTERVAL": str(args.interval),
            # All the patients log in from one address: the per-address throttle would refuse most.
            "LOGIN_THROTTLE_RATE": "1000/min",
            "LOG_LEVEL": "WARNING",
            "DJANGO_STATIC_ROOT": str(VAR / "static"),
            "PYTHON": str(PYTHON),
            "PATH": f"{PYTHON.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "CELERY_CONCURRENCY": "2",
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    # --- helpers ---------------------------------------------------------------------------

    def at(self) -> float:
        return round(time.time() - self.load_started, 1) if self.load_started else 0.0

    def event(self, name: str, detail: str = "") -> None:
        entry = {"t": time.time(), "at": self.at(), "event": name, "detail": detail}
        self.timeline.append(entry)
        print(f"  [{entry['at']:6.1f} s] {name} {detail}", flush=True)

    def manage(self, *arguments, check=True, capture=False):
        return subprocess.run(
            [str(PYTHON), "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            check=check,
            capture_output=capture,
            text=True,
        )

    def start(self, name: str, command: list[str], env=None) -> None:
        log = (VAR / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, name: str, sig=signal.SIGTERM, wait=20) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def api(self, method: str, path: str, body=None, token=None, timeout=30) -> tuple[int, object, float]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            return 0, str(error), time.monotonic() - started
        seconds = time.monotonic() - started
        try:
            return status, json.loads(raw) if raw else None, seconds
        except ValueError:
            return status, raw[:200].decode(errors="replace"), seconds

    # --- the steps -------------------------------------------------------------------------

    def preflight(self) -> None:
        ensure_postgres(self.pg_version)
        ensure_redis()
        VAR.mkdir(parents=True, exist_ok=True)
        for stale in ("requests.jsonl", "gunicorn.log", "worker.log", "beat.log", "locust.log"):
            (VAR / stale).unlink(missing_ok=True)

    def fuzz(self) -> dict:
        print("fuzz pass (hospital/tests/test_fuzz.py) ...", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            [str(PYTHON), "-m", "pytest", "hospital/tests/test_fuzz.py", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": FUZZ_DATABASE},
            capture_output=True,
            text=True,
        )
        lines = result.stdout.splitlines()
        cases = next((line.strip() for line in lines if line.startswith("fuzz:")), "fuzz: ? cases run")
        outcome = next((line.strip("= ") for line in reversed(lines) if " in " in line), "no summary")
        return {
            "cases": cases.removeprefix("fuzz: "),
            "outcome": outcome,
            "seconds": round(time.monotonic() - started),
            "passed": result.returncode == 0,
        }

    def audit(self) -> dict:
        print("dependency audit (scripts/audit-dependencies.sh) ...", flush=True)
        result = subprocess.run(
            ["scripts/audit-dependencies.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        last = (result.stdout.strip().splitlines() or [result.stderr.strip()])[-1]
        return {"exit": result.returncode, "result": last}

    def locust_venv(self) -> Path:
        locust = LOCUST_VENV / "bin" / "locust"
        stamp = LOCUST_VENV / "requirements.txt"
        wanted = (HERE / "requirements.txt").read_text()
        if not locust.exists() or not stamp.exists() or stamp.read_text() != wanted:
            print("installing locust in var/reliability/locust-venv ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(LOCUST_VENV)], check=True)
            subprocess.run(
                [str(LOCUST_VENV / "bin" / "pip"), "install", "--quiet", "-r", str(HERE / "requirements.txt")],
                check=True,
            )
            stamp.write_text(wanted)
        return locust

    def database(self) -> None:
        print(f"database {self.args.database}: create, migrate, seed ...", flush=True)
        name = self.args.database
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql("postgres", f'CREATE DATABASE "{name}"')
        for db in ("5", "6"):
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", db, "flushdb"], check=True, capture_output=True)
        self.manage("migrate", "--noinput", capture=True)
        self.manage("add_groups", capture=True)
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        subprocess.run(
            [str(PYTHON), "-m", "bench.reliability.seed", str(VAR / "world.json"), "--doctors", str(self.args.doctors),
             "--patients", str(self.args.users)],
            cwd=ROOT, env=self.env, check=True,
        )  # fmt: skip
        self.world = json.loads((VAR / "world.json").read_text())

    def services(self) -> None:
        print(f"gunicorn on {self.base}, Celery worker and beat ...", flush=True)
        self.start(
            "gunicorn",
            [str(PYTHON.parent / "gunicorn"), "hospital.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.args.workers), "--timeout", "30", "--keep-alive", "5"],
        )  # fmt: skip
        self.start_worker()
        self.start("beat", ["scripts/entrypoint.sh", "beat"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.api("GET", "/api/me", timeout=5)[0] == 401:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("gunicorn did not answer within 60 s; see var/reliability/gunicorn.log")
        credentials = {"username": self.world["administrator"]["username"], "password": self.world["password"]}
        status, body, _ = self.api("POST", "/api/token", credentials)
        if status != 200:
            raise SystemExit(f"administrator login failed: {status} {body}")
        self.admin_token = body["token"]

    def start_worker(self) -> None:
        self.start("worker", ["scripts/entrypoint.sh", "worker"])

    def edit_schedule(self, doctor_index: int, start: str, end: str, slot_minutes: int, label: str) -> None:
        doctor = self.world["doctors"][doctor_index]
        hours = [{"weekday": day, "start": start, "end": end} for day in range(7)]
        status, _, seconds = self.api(
            "PUT",
            f"/api/doctors/{doctor}/schedule",
            {"slot_minutes": slot_minutes, "horizon_days": 7, "working_hours": hours},
            token=self.admin_token,
        )
        self.edits.append({"t": time.time(), "doctor": doctor, "status": status, "seconds": round(seconds, 2)})
        self.event("schedule edit", f"{label}: doctor {doctor} -> {start}-{end}, {status} in {seconds:.2f} s")

    def add_absence(self) -> None:
        doctor = self.world["doctors"][3]
        zone = ZoneInfo(self.env.get("TIME_ZONE") or "Europe/Moscow")
        day = datetime.datetime.now(zone).date() + datetime.timedelta(days=2)
        start = datetime.datetime.combine(day, datetime.time(12), tzinfo=zone)
        status, _, seconds = self.api(
            "POST",
            f"/api/doctors/{doctor}/absences",
            {"kind": "break", "start": start.isoformat(), "end": (start + datetime.timedelta(hours=2)).isoformat()},
            token=self.admin_token,
        )
        self.edits.append({"t": time.time(), "doctor": doctor, "status": status, "seconds": round(seconds, 2)})
        self.event("absence added", f"doctor {doctor} {day} 12:00-14:00, {status} in {seconds:.2f} s")

    def logins_during_outage(self) -> None:
        results = []
        for _ in range(5):
            status, _, seconds = self.api(
                "POST",
                "/api/token",
                {"username": self.world["administrator"]["username"], "password": self.world["password"]},
            )
            results.append((status, round(seconds, 2)))
        self.probes.append({"what": "logins while Redis is down", "results": results})
        self.event("logins while Redis is down", ", ".join(f"{status} in {seconds} s" for status, seconds in results))

    def load(self, locust: Path) -> None:
        args = self.args
        log = VAR / "requests.jsonl"
        env = {**os.environ, "RELIABILITY_WORLD": str(VAR / "world.json"), "RELIABILITY_LOG": str(log)}
        print(f"load: {args.users} users for {args.seconds} s, faults on the way:", flush=True)
        self.load_started = time.time()
        self.event("load starts", f"{args.users} users, spawn rate {args.spawn_rate}/s")
        self.start(
            "locust",
            [str(locust), "-f", str(HERE / "locustfile.py"), "--headless", "-u", str(args.users), "-r",
             str(args.spawn_rate), "-t", f"{args.seconds}s", "--host", self.base, "--stop-timeout", "10",
             "--csv", str(VAR / "locust"), "--only-summary", "--loglevel", "WARNING"],
            env=env,
        )  # fmt: skip
        self.inject_faults()
        self.processes["locust"].wait(timeout=args.seconds + 120)
        self.processes.pop("locust")
        self.event("load ends")

    def until(self, seconds: float) -> None:
        """Sleep until `seconds` into the load, on the 180-second timeline scaled to --seconds."""
        delay = self.load_started + seconds * self.args.seconds / 180 - time.time()
        if delay > 0:
            time.sleep(delay)

    def inject_faults(self) -> None:
        """The fault timeline, in the order docs/reliability.md lists it."""
        self.until(25)
        self.stop("worker", sig=signal.SIGKILL)
        self.event("worker killed", "SIGKILL to the Celery worker's process group")
        self.until(35)
        self.start_worker()
        self.event("worker restarted")
        self.until(50)
        self.edit_schedule(0, "09:00", "19:00", 30, "with everything up")
        self.until(60)
        self.redis_outage()
        self.until(120)
        self.restart_postgres()
        self.until(135)
        self.edit_schedule(2, "07:00", "15:00", 15, "after the PostgreSQL restart")
        self.until(145)
        self.add_absence()

    def redis_outage(self) -> None:
        """Redis (broker and cache) stopped for --redis-down seconds, with a schedule edit and logins meanwhile."""
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], capture_output=True)
        self.event("Redis stopped", "redis-cli shutdown nosave (broker and cache)")
        redis_stopped = time.time()
        self.until(65)
        self.edit_schedule(1, "10:00", "18:00", 20, "while Redis is down")
        self.until(68)
        self.logins_during_outage()
        time.sleep(max(0.0, redis_stopped + self.args.redis_down - time.time()))
        subprocess.run(REDIS_START, check=True, capture_output=True)
        wait_for(lambda: redis_ping(), 30, "Redis")
        self.event("Redis started", "redis-server with the CI command (empty: --save '')")

    def restart_postgres(self) -> None:
        self.event("PostgreSQL restart begins", f"pg_ctlcluster {self.pg_version} main restart")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.pg_version, "main", "restart"],
            check=True,
            capture_output=True,
        )
        wait_for(lambda: pg_ready(), 60, "PostgreSQL")
        self.event("PostgreSQL ready again")

    def settle_and_verify(self) -> dict:
        # A few sweeps, so that whatever the faults left undone is caught up.
        wait = 3 * self.args.interval + 5
        print(f"waiting {wait} s for the generation sweep to catch up ...", flush=True)
        time.sleep(wait)
        (VAR / "edits.json").write_text(json.dumps(self.edits))
        result = subprocess.run(
            [str(PYTHON), "-m", "bench.reliability.verify", str(VAR / "world.json"), str(VAR / "requests.jsonl"),
             str(VAR / "edits.json")],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return json.loads(result.stdout.strip().splitlines()[-1])

    def shutdown(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        ensure_redis()
        ensure_postgres(self.pg_version)


# --- analysis -------------------------------------------------------------------------------


def windows(run: Run) -> list[tuple[str, float, float]]:
    """Named time ranges of the load: before the faults, during each, after."""
    times = {entry["event"]: entry["t"] for entry in run.timeline}
    start, end = times["load starts"], times["load ends"]
    faults = [
        ("worker down", times["worker killed"], times["worker restarted"]),
        ("Redis down", times["Redis stopped"], times["Redis started"]),
        ("PostgreSQL restarting", times["PostgreSQL restart begins"], times["PostgreSQL ready again"]),
    ]
    result = [("before the first fault", start, faults[0][1])]
    for (name, begin, finish), following in zip(faults, [*faults[1:], ("end", end, end)], strict=True):
        result.append((name, begin, finish))
        result.append((f"after {name.split()[0]} is back", finish, following[1]))
    return result


# The answers that are part of the contract; anything else is a failure.
EXPECTED = {"log in": {200}, "browse free slots": {200}, "book": {201, 400, 404, 409}, "cancel": {200}}


def analyse(run: Run) -> dict:
    entries = [json.loads(line) for line in (VAR / "requests.jsonl").read_text().splitlines()]
    failures: dict[str, int] = {}
    for entry in entries:
        if entry["status"] not in EXPECTED.get(entry["name"], {200}):
            kind = f"{entry['name']}: " + (f"HTTP {entry['status']}" if entry["status"] else entry["error"])
            failures[kind] = failures.get(kind, 0) + 1
    by_window = [window_counts(entries, name, begin, finish) for name, begin, finish in windows(run)]
    statuses: dict[str, dict[int, int]] = {}
    for entry in entries:
        statuses.setdefault(entry["name"], {})
        statuses[entry["name"]][entry["status"]] = statuses[entry["name"]].get(entry["status"], 0) + 1
    span = max(entry["t"] for entry in entries) - min(entry["t"] for entry in entries)
    restart = next(w for w in by_window if w["window"] == "PostgreSQL restarting")
    return {
        "5xx outside the PostgreSQL restart": sum(1 for entry in entries if entry["status"] >= 500) - restart["5xx"],
        "requests": len(entries),
        "rate": round(len(entries) / span, 1) if span else 0,
        "5xx": sum(1 for entry in entries if entry["status"] >= 500),
        "failures": dict(sorted(failures.items(), key=lambda item: -item[1])),
        "windows": by_window,
        "durations": durations(entries),
        "statuses": {name: dict(sorted(codes.items())) for name, codes in statuses.items()},
    }


def window_counts(entries: list[dict], name: str, begin: float, finish: float) -> dict:
    """The requests sent in one window of the load, and how many of them failed in which way."""
    inside = [entry for entry in entries if begin <= entry["t"] < finish]
    return {
        "window": name,
        "seconds": round(finish - begin, 1),
        "requests": len(inside),
        "5xx": sum(1 for entry in inside if entry["status"] >= 500),
        "no answer": sum(1 for entry in inside if entry["status"] == 0),
        "other failures": sum(
            1
            for entry in inside
            if 0 < entry["status"] < 500 and entry["status"] not in EXPECTED.get(entry["name"], {200})
        ),
    }


def durations(entries: list[dict]) -> dict[str, dict[str, int]]:
    """Per kind of request that got an answer: count, median, p95, p99 and max milliseconds."""
    result = {}
    for name in ("browse free slots", "book", "cancel", "log in"):
        values = sorted(entry["ms"] for entry in entries if entry["name"] == name and entry["status"])
        if values:
            result[name] = {
                "count": len(values),
                "median": round(statistics.median(values)),
                "p95": round(values[int(0.95 * (len(values) - 1))]),
                "p99": round(values[int(0.99 * (len(values) - 1))]),
                "max": round(values[-1]),
            }
    return result


# --- services -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True,
        capture_output=True,
    )


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def redis_ping() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, text=True)
    return result.stdout.strip() == "PONG"


def wait_for(ready, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come back within {seconds} s")
        time.sleep(0.2)


def ensure_postgres(version: str) -> None:
    if not pg_ready():
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
        wait_for(pg_ready, 60, "PostgreSQL")


def ensure_redis() -> None:
    if not redis_ping():
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(REDIS_START, check=False, capture_output=True)
        wait_for(redis_ping, 30, "Redis")


def main() -> None:
    args = parse_args()
    run = Run(args)
    run.preflight()
    fuzz = None if args.no_fuzz else run.fuzz()
    audit = None if args.no_audit else run.audit()
    locust = run.locust_venv()
    try:
        run.database()
        run.services()
        run.load(locust)
        checks = run.settle_and_verify()
    finally:
        run.shutdown()
    figures = analyse(run)
    text = report.render(run, figures, checks, fuzz, audit)
    print()
    print(text)
    if not args.no_docs:
        DOCS.write_text(text)
        print(f"written to {DOCS.relative_to(ROOT)}")
    (VAR / "figures.json").write_text(json.dumps({"figures": figures, "checks": checks, "fuzz": fuzz}, indent=2))


if __name__ == "__main__":
    main()
