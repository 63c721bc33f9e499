"""Benchmarks against PostgreSQL's own floor; prints a table and rewrites docs/benchmarks.md.

DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.run [--only 1,2,5] [--seconds 30]

Everything runs on a database of its own (hospital_bench, dropped and created again), seeded with
plain SQL where a scenario is not itself about seeding. Each scenario also measures the floor,
PostgreSQL doing exactly the statements the path needs (psql or pgbench), and reports our figure as
a ratio to it. HTTP load comes from wrk (bench/requests.lua) against gunicorn with the production
settings. `make bench` is the way in: it installs bench/requirements.txt and passes ARGS here.
"""

import argparse
import datetime
import io
import json
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import pg, web

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
NOTES = Path(__file__).resolve().parent / "notes.md"
LOGS = ROOT / "var" / "bench"
DOCTORS = "bench_doctor_"  # every doctor of the benchmarks; the first 1,000 carry scenarios 1-3 and 5-7
PATIENTS = "bench_patient_"
FLOOR_POOL = "bench_pool_"  # owners of the slots that pgbench books in scenario 6's floor
HTTP_CLIENTS = 16
RACERS, RACED_SLOTS = 64, 200
BOOKERS_PER_CONNECTION = 8
STATS_CALLS = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8", help="scenarios to run, e.g. 1,2,3 (default: all)")
    parser.add_argument("--seconds", type=int, default=30, help="duration of each HTTP load and its floor")
    parser.add_argument("--reps", type=int, default=3, help="runs of each generation scenario and its floor")
    parser.add_argument("--database", default="hospital_bench", help="the benchmark's own database")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--memory-doctors", type=int, default=10_000, help="doctors in scenario 4")
    parser.add_argument("--profile", action="store_true", help="also save pyinstrument / py-spy profiles to var/bench")
    parser.add_argument("--keep-database", action="store_true", help="leave the database for inspection")
    parser.add_argument("--no-docs", action="store_true", help="print the table, leave docs/benchmarks.md alone")
    return parser.parse_args()


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages: other work on it shows in every figure."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def next_monday(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=7 - today.weekday())


def shorten(sql: str, keep: int = 400) -> str:
    """A long statement (a year of VALUES rows) as its head and tail, for the raw data in the docs."""
    sql = " ".join(sql.split())
    return sql if len(sql) <= keep else f"{sql[: keep - 120]} ... {sql[-100:]}"


def verdict(ok: bool) -> str:
    return "pass" if ok else "**miss**"


class Bench:
    def __init__(self, args: argparse.Namespace, server: pg.Server):
        self.args = args
        self.server = server
        self.database = args.database
        self.only = {int(number) for number in args.only.split(",") if number.strip()}
        self.rows: list[dict] = []
        self.before_after: list[tuple[str, str, str]] = []  # measured in this run
        self.details: dict[int, dict] = {}
        self.web: web.Gunicorn | None = None
        self.load_at_start = load_average()

    # --- set-up ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.server.url(self.database),
            DATABASE_CONN_MAX_AGE="600",
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # throwaway: this run only
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SETTINGS_MODULE="hospital.settings",
            LOG_LEVEL="WARNING",
        )
        return env

    def setup(self) -> None:
        for tool in ("psql", "pgbench", "wrk"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} is needed (apt-get install -y postgresql-client wrk)")
        print(f"Creating database {self.database} ...", flush=True)
        self.server.recreate_database(self.database)
        self.env = self.environment()
        os.environ.update(self.env)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("add_groups", stdout=io.StringIO())
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.batch_size = settings.SLOT_GENERATION_BATCH_SIZE
        self.monday = next_monday(datetime.datetime.now(self.zone).date())
        # The generator's clock: Monday 00:00, so that the 14-day horizon holds 10 working days of
        # 24 slots (240 a doctor) and moving it one day adds a Monday (24 more).
        self.now = datetime.datetime.combine(self.monday, datetime.time(0, 0), tzinfo=self.zone)
        self.sql(pg.seed_users_sql(prefix=DOCTORS, first=1, count=1000, role="doctor"))
        self.sql(pg.seed_schedules_sql(prefix=DOCTORS))
        self.sql(pg.seed_users_sql(prefix=PATIENTS, first=1, count=256, role="patient"))
        self.doctor_ids = self.ids(DOCTORS)[:1000]
        self.patient_ids = self.ids(PATIENTS)
        self.sql("VACUUM ANALYZE")
        self.tokens = self.make_tokens(self.patient_ids[:192])
        self.admin_token = self.make_admin()

    def sql(self, sql: str) -> str:
        return self.server.psql(sql, self.database)

    def ids(self, prefix: str) -> list[int]:
        rows = self.sql(f"SELECT id FROM staff_user WHERE username LIKE '{prefix}%' ORDER BY id")
        return [int(value) for value in rows.split()]

    def make_tokens(self, user_ids: list[int]) -> dict[int, str]:
        from knox.models import AuthToken

        from staff.models import User

        return {user.pk: AuthToken.objects.create(user=user)[1] for user in User.objects.filter(pk__in=user_ids)}

    def make_admin(self) -> str:
        from django.contrib.auth.models import Group
        from knox.models import AuthToken

        from staff.models import User
        from staff.roles import Role

        admin = User.objects.create(username="bench_admin", last_name="Admin", first_name="Bench")
        admin.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
        return AuthToken.objects.create(user=admin)[1]

    def reset_timetable(self) -> None:
        self.sql("TRUNCATE appointments_timetable, appointments_appointmentevent")
        self.sql("CHECKPOINT")

    def ensure_slots(self) -> None:
        """The 1,000 doctors' slots of the horizon, for scenarios that did not make them themselves."""
        if int(self.sql("SELECT count(*) FROM appointments_timetable")) == 0:
            self.generate(self.now)

    def generate(self, now: datetime.datetime, *, profile: str | None = None) -> dict:
        """One sweep through the generation service in a fresh process (bench/generation.py)."""
        args = [sys.executable, "-m", "bench.generation", "--now", now.isoformat()]
        if profile:
            args += ["--profile", profile]
        result = subprocess.run(args, cwd=ROOT, env=self.env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"generation failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def fingerprint(self) -> str:
        return self.sql(pg.FINGERPRINT_SQL).strip()

    def record(self, number: int, scenario: str, figure: str, floor: str, ratio: str, target: str, ok: bool) -> None:
        row = {
            "number": number,
            "scenario": scenario,
            "figure": figure,
            "floor": floor,
            "ratio": ratio,
            "target": target,
            "result": verdict(ok),
        }
        self.rows.append(row)
        print(f"  #{number} {scenario}: {figure} | floor {floor} | {ratio} | {target} | {row['result']}", flush=True)

    # --- 1-3: generation --------------------------------------------------------------------

    def floor_sql(self, first_day: int, last_day: int) -> str:
        return pg.generation_floor_sql(
            prefix=DOCTORS, monday=self.monday.isoformat(), first_day=first_day, last_day=last_day, zone=str(self.zone)
        )

    def scenario_1(self) -> None:
        print("1. generation, cold: 1,000 doctors x 14 days", flush=True)
        floors, runs, same = [], [], True
        for _ in range(self.args.reps):
            self.reset_timetable()
            floors.append(self.server.timed([self.floor_sql(0, 13)], self.database)[0] / 1000)
            floor_print = self.fingerprint()
            self.reset_timetable()
            profile = str(LOGS / "generation-cold.txt") if self.args.profile else None
            runs.append(self.generate(self.now, profile=profile))
            same = same and self.fingerprint() == floor_print
        best = min(runs, key=lambda run: run["seconds"])
        floor = min(floors)
        ratio = best["seconds"] / floor
        self.details[1] = {"runs": runs, "floors": floors, "same_rows": same}
        self.record(
            1,
            "generation, cold (1,000 doctors, 14 days)",
            f"{best['seconds']:.2f} s, {best['created']:,} slots, {best['created'] / best['seconds']:,.0f} slots/s",
            f"{floor:.2f} s ({best['created'] / floor:,.0f} slots/s)",
            f"{ratio:.2f}x",
            "<= 3x floor",
            ratio <= 3 and same and best["created"] == 240 * len(self.doctor_ids),
        )

    def scenario_2(self) -> None:
        print("2. generation, warm: the same again, nothing to change", flush=True)
        self.ensure_slots()
        runs = [self.generate(self.now) for _ in range(self.args.reps)]
        best = min(runs, key=lambda run: run["seconds"])
        unchanged = all(run["created"] == run["deleted"] == 0 for run in runs)
        self.details[2] = {"runs": runs}
        self.record(
            2,
            "generation, warm (nothing to change)",
            f"{best['seconds']:.3f} s",
            "-",
            "-",
            "<= 1 s",
            best["seconds"] <= 1 and unchanged,
        )

    def scenario_3(self) -> None:
        print("3. generation, the horizon moves one day forward", flush=True)
        self.ensure_slots()
        new_day = datetime.datetime.combine(self.monday + datetime.timedelta(days=14), datetime.time(0), self.zone)
        forget_new_day = (
            f"DELETE FROM appointments_timetable WHERE start_time >= '{new_day.isoformat()}';\n"
            "VACUUM appointments_timetable;\nCHECKPOINT;\n"
        )
        floors, runs = [], []
        for _ in range(self.args.reps):
            self.sql(forget_new_day)
            floors.append(self.server.timed([self.floor_sql(14, 14)], self.database)[0] / 1000)
            self.sql(forget_new_day)
            runs.append(self.generate(self.now + datetime.timedelta(days=1)))
        self.sql(forget_new_day)
        best = min(runs, key=lambda run: run["seconds"])
        floor = min(floors)
        ratio = best["seconds"] / floor
        self.details[3] = {"runs": runs, "floors": floors}
        self.record(
            3,
            "generation, horizon +1 day",
            f"{best['seconds']:.3f} s for {best['created']:,} new slots",
            f"{floor:.3f} s",
            f"{ratio:.2f}x",
            "<= 1.5x floor",
            ratio <= 1.5 and best["created"] == 24 * len(self.doctor_ids),
        )

    # --- 4: memory --------------------------------------------------------------------------

    def scenario_4(self) -> None:
        total = self.args.memory_doctors
        print(f"4. generation memory: {total:,} doctors x 14 days", flush=True)
        have = len(self.ids(DOCTORS))
        if have < total:
            self.sql(pg.seed_users_sql(prefix=DOCTORS, first=have + 1, count=total - have, role="doctor"))
            self.sql(pg.seed_schedules_sql(prefix=DOCTORS))
            self.sql("VACUUM ANALYZE")
        self.reset_timetable()
        run = self.generate(self.now)
        self.details[4] = {"runs": [run]}
        self.record(
            4,
            f"generation memory ({run['doctors']:,} doctors, 14 days)",
            f"peak RSS {run['peak_rss_mb']:.0f} MB ({run['rss_before_mb']:.0f} MB after start-up); "
            f"{run['created']:,} slots in {run['seconds']:.1f} s",
            "-",
            "-",
            "<= 300 MB",
            run["peak_rss_mb"] <= 300 and run["doctors"] == total,
        )

    # --- 5-7: HTTP --------------------------------------------------------------------------

    def gunicorn(self, profile: str | None = None) -> web.Gunicorn:
        """The shared gunicorn; with --profile, one of its own per scenario, started under py-spy."""
        if profile is not None and self.args.profile:
            self.stop_gunicorn()
        if self.web is None:
            self.web = web.Gunicorn(
                env=self.env,
                python=sys.executable,
                workers=self.args.workers,
                threads=self.args.threads,
                log=LOGS / "gunicorn.log",
                profile=LOGS / f"{profile}.raw" if profile and self.args.profile else None,
            ).__enter__()
        return self.web

    def stop_gunicorn(self) -> None:
        if self.web is not None:
            self.web.__exit__(None, None, None)
            self.web = None

    def load(self, name: str, requests_per_thread: list[list[str]], *, seconds: int, once: bool) -> dict:
        server = self.gunicorn()
        return web.wrk(server.url, requests_per_thread=requests_per_thread, seconds=seconds, once=once)

    def profiled(self, number: int, name: str) -> None:
        """After a scenario run with --profile: stop its gunicorn so py-spy writes, and summarise."""
        if not self.args.profile or self.web is None or self.web.profile is None:
            return
        raw = self.web.profile
        self.stop_gunicorn()
        if raw.exists():
            summary = web.profile_summary(raw)
            self.details.setdefault(number, {})["profile"] = summary
            print(f"  profile of {name} ({raw.relative_to(ROOT)}):")
            for label, share in summary.items():
                if label != "samples":
                    print(f"    {share:6.1%}  {label}")

    def warm_up(self, requests_per_thread: list[list[str]]) -> None:
        """A few seconds of the same load, discarded: workers import lazily and open their connections."""
        self.load("warm-up", requests_per_thread, seconds=3, once=False)

    @staticmethod
    def rate(result: dict, count: int) -> float:
        return count / (result["duration_us"] / 1e6)

    def scenario_5(self) -> None:
        print(f"5. free slots over HTTP: {HTTP_CLIENTS} keep-alive clients, {self.args.seconds} s", flush=True)
        self.ensure_slots()
        from django.db import connection

        from appointments import selectors
        from staff.models import User

        first, last = self.doctor_ids[0], self.doctor_ids[-1]
        assert last - first + 1 == len(self.doctor_ids), "doctor ids must be contiguous for pgbench's random()"
        # The SELECT of selectors.free_slots as Django sends it, with the doctor and the clock as pgbench's.
        sentinel = 987654321
        sql, params = selectors.free_slots(doctor=User(pk=sentinel)).query.sql_with_params()
        with connection.cursor() as cursor:
            statement = cursor.mogrify(sql, params).decode()
        statement = re.sub(r"'[^']*'::timestamptz", "now()", statement.replace(str(sentinel), ":doctor"))
        floor = self.server.pgbench(
            f"\\set doctor random({first}, {last})\n{statement};\n",
            self.database,
            clients=HTTP_CLIENTS,
            seconds=self.args.seconds,
        )
        chooser = random.Random(5)
        tokens = [self.tokens[pk] for pk in self.patient_ids[:HTTP_CLIENTS]]
        lines = [
            [f"GET /api/doctor/slots/get/{chooser.randint(first, last)} {token}" for _ in range(5000)]
            for token in tokens
        ]
        self.gunicorn(profile="free-slots")
        self.warm_up(lines)
        result = self.load("free-slots", lines, seconds=self.args.seconds, once=False)
        self.profiled(5, "free slots")
        statuses = result["statuses"]
        errors = sum(result["errors"].values()) + sum(count for status, count in statuses.items() if status != "200")
        per_second = self.rate(result, statuses.get("200", 0))
        ratio = per_second / floor["tps"]
        p50, p99 = result["p50_us"] / 1000, result["p99_us"] / 1000
        self.details.setdefault(5, {}).update({"wrk": result, "pgbench": floor, "statement": statement})
        self.record(
            5,
            f"free slots over HTTP ({HTTP_CLIENTS} clients)",
            f"{per_second:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors",
            f"{floor['tps']:,.0f} SELECT/s (pgbench, {HTTP_CLIENTS} clients)",
            f"{ratio:.1%}",
            ">= 20% of floor, p99 <= 50 ms, no errors",
            ratio >= 0.2 and p99 <= 50 and errors == 0,
        )

    def scenario_6(self) -> None:
        print(f"6. booking over HTTP: {HTTP_CLIENTS} clients booking distinct free slots, {self.args.seconds} s")
        self.ensure_slots()
        bookers = self.patient_ids[: HTTP_CLIENTS * BOOKERS_PER_CONNECTION]
        slots = self.slot_ids_by_doctor()
        times = len(slots[self.doctor_ids[0]])
        spread = 1000 // len(bookers)
        # Booker j takes, at start time t, the slot of doctor j + 128 (t mod 7): every slot is booked
        # at most once, and one patient's slots never overlap (one per start time).
        lines = []
        for connection_number in range(HTTP_CLIENTS):
            mine = range(connection_number * BOOKERS_PER_CONNECTION, (connection_number + 1) * BOOKERS_PER_CONNECTION)
            lines.append(
                [
                    f"POST /api/doctor/appointment/{slots[self.doctor_ids[j + len(bookers) * (t % spread)]][t]} "
                    + self.tokens[bookers[j]]
                    for t in range(times)
                    for j in mine
                ]
            )
        floor = self.booking_floor()
        self.gunicorn(profile="booking")
        self.warm_up(
            [[f"GET /api/doctor/slots/get/{self.doctor_ids[0]} {self.tokens[bookers[j]]}"] for j in range(HTTP_CLIENTS)]
        )
        result = self.load("booking", lines, seconds=self.args.seconds, once=True)
        self.profiled(6, "booking")
        statuses = result["statuses"]
        booked = statuses.get("201", 0)
        errors = sum(result["errors"].values()) + sum(count for status, count in statuses.items() if status != "201")
        in_database = int(self.sql("SELECT count(*) FROM appointments_timetable WHERE client_id IS NOT NULL"))
        exhausted = result["elapsed"] < self.args.seconds - 1
        per_second = self.rate(result, booked)
        ratio = per_second / floor["tps"]
        self.details.setdefault(6, {}).update(
            {"wrk": result, "pgbench": floor, "in_database": in_database, "exhausted": exhausted}
        )
        self.record(
            6,
            f"booking over HTTP ({HTTP_CLIENTS} clients)",
            f"{per_second:,.0f} bookings/s, p50 {result['p50_us'] / 1000:.1f} ms, "
            f"p99 {result['p99_us'] / 1000:.1f} ms, {errors} errors",
            f"{floor['tps']:,.0f} UPDATE/s (pgbench, {HTTP_CLIENTS} clients)",
            f"{ratio:.1%}",
            ">= 10% of floor, no errors",
            ratio >= 0.1 and errors == 0 and in_database == booked and not exhausted,
        )

    def slot_ids_by_doctor(self) -> dict[int, list[int]]:
        rows = self.sql(
            "SELECT doctor_id, string_agg(id::text, ',' ORDER BY start_time) FROM appointments_timetable "
            "WHERE client_id IS NULL GROUP BY doctor_id"
        )
        slots = {}
        for row in rows.splitlines():
            doctor_id, ids = row.split("|")
            slots[int(doctor_id)] = [int(pk) for pk in ids.split(",")]
        return slots

    def booking_floor(self) -> dict:
        """pgbench running the conditional UPDATE of slot_book, each client on its own free slots."""
        per_client = 12_000
        self.sql(pg.seed_users_sql(prefix=FLOOR_POOL, first=1, count=HTTP_CLIENTS, role="doctor"))
        owners = self.ids(FLOOR_POOL)
        start = datetime.datetime.combine(self.monday + datetime.timedelta(days=400), datetime.time(0), self.zone)
        self.sql(
            "INSERT INTO appointments_timetable (doctor_id, start_time, stop_time, conflict) "
            f"SELECT o.id, '{start.isoformat()}'::timestamptz + i * interval '20 minutes', "
            f"'{start.isoformat()}'::timestamptz + (i + 1) * interval '20 minutes', false "
            f"FROM (SELECT id FROM staff_user WHERE username LIKE '{FLOOR_POOL}%') AS o, "
            f"generate_series(0, {per_client - 1}) AS i ORDER BY o.id, i;\nVACUUM ANALYZE appointments_timetable;"
        )
        base = int(self.sql(f"SELECT min(id) FROM appointments_timetable WHERE doctor_id = {owners[0]}"))
        patients = self.patient_ids[:HTTP_CLIENTS]
        script = (
            "\\set n :n + 1\n"
            "\\set slot :base + :client_id * :per + :n - 1\n"
            "\\set patient :patients + :client_id\n"
            "UPDATE appointments_timetable "
            "SET client_id = :patient, booked_at = now(), conflict = false, status = 'booked' "
            "WHERE id = :slot AND client_id IS NULL AND start_time > now();\n"
        )
        result = self.server.pgbench(
            script,
            self.database,
            clients=HTTP_CLIENTS,
            seconds=self.args.seconds,
            defines={"n": 0, "base": base, "per": per_client, "patients": patients[0]},
        )
        result["booked"] = int(
            self.sql(
                "SELECT count(*) FROM appointments_timetable WHERE client_id IS NOT NULL AND doctor_id IN "
                f"({','.join(map(str, owners))})"
            )
        )
        result["script"] = script
        self.sql(
            f"DELETE FROM appointments_timetable WHERE doctor_id IN ({','.join(map(str, owners))});\n"
            "VACUUM ANALYZE appointments_timetable;"
        )
        return result

    def scenario_7(self) -> None:
        print(f"7. contention: {RACERS} clients racing for each of {RACED_SLOTS} slots", flush=True)
        self.ensure_slots()
        racers = self.patient_ids[128 : 128 + RACERS]
        raced = self.slot_ids_by_doctor()[self.doctor_ids[-1]][:RACED_SLOTS]
        lines = [
            [f"POST /api/doctor/appointment/{slot} {self.tokens[patient]}" for slot in raced] for patient in racers
        ]
        self.gunicorn()
        result = self.load("contention", lines, seconds=300, once=True)
        statuses = result["statuses"]
        listed = ",".join(map(str, raced))
        holders = int(
            self.sql(f"SELECT count(*) FROM appointments_timetable WHERE id IN ({listed}) AND client_id IS NOT NULL")
        )
        events = self.sql(
            "SELECT count(*) || ' ' || coalesce(max(n), 0) FROM (SELECT slot_id, count(*) AS n "
            "FROM appointments_appointmentevent "
            f"WHERE action = 'booked' AND slot_id IN ({listed}) GROUP BY slot_id) AS e"
        ).split()
        winners = statuses.get("201", 0)
        others = sum(count for status, count in statuses.items() if status not in {"201", "409"})
        one_each = holders == RACED_SLOTS and events == [str(RACED_SLOTS), "1"]
        self.details[7] = {"wrk": result, "holders": holders, "events": events}
        self.record(
            7,
            f"contention ({RACERS} clients x {RACED_SLOTS} slots)",
            f"{winners} successes, {statuses.get('409', 0):,} x 409, {others} other; {result['elapsed']:.1f} s",
            "-",
            "-",
            "exactly 200, one winner per slot",
            winners == RACED_SLOTS and one_each and others == 0 and sum(result["errors"].values()) == 0,
        )

    # --- 8: statistics ----------------------------------------------------------------------

    def scenario_8(self) -> None:
        print("8. statistics: 5,000,000 booked slots over a year, 2,000 doctors", flush=True)
        have = len(self.ids(DOCTORS))
        if have < 2000:
            self.sql(pg.seed_users_sql(prefix=DOCTORS, first=have + 1, count=2000 - have, role="doctor"))
        year = self.monday.year
        self.reset_timetable()
        started = time.perf_counter()
        self.sql(
            pg.without_indexes(
                self.server,
                self.database,
                "appointments_timetable",
                pg.booked_year_sql(
                    doctors_prefix=DOCTORS,
                    doctors=2000,
                    per_doctor=2500,
                    year=year,
                    zone=str(self.zone),
                    patients=(self.patient_ids[0], 64),
                ),
            )
        )
        self.sql("VACUUM ANALYZE appointments_timetable")
        seeded = time.perf_counter() - started
        rows = int(self.sql("SELECT count(*) FROM appointments_timetable"))
        windows = [
            ("31 days", datetime.date(year, 7, 1), datetime.date(year, 7, 31)),
            ("whole year", datetime.date(year, 1, 1), datetime.date(year, 12, 31)),
        ]
        server = self.gunicorn()
        self.details[8] = {"rows": rows, "seeded_seconds": seeded, "windows": {}}
        for label, date_from, date_to in windows:
            statements = self.statistics_sql(date_from, date_to)
            self.server.timed(statements, self.database)  # warm-up, as for ours below
            floor_runs = self.server.timed(statements, self.database, repeat=STATS_CALLS)
            # Before: the endpoint grouped rows by their local date (kept for open-ended windows).
            before = self.server.timed([self.group_by_local_date_sql(date_from, date_to)], self.database, repeat=5)
            path = f"/api/doctor/entries/all?date_from={date_from}&date_to={date_to}"
            status, body = web.get(server.url + path, self.admin_token)  # warm-up, and the answer to check
            answer = json.loads(body) if status == 200 else []
            result = self.load("statistics", [[f"GET {path} {self.admin_token}"] * STATS_CALLS], seconds=600, once=True)
            ours = result["p50_us"] / 1000
            floor = pg.median(floor_runs)
            ratio = ours / floor
            counted = sum(day["count"] for day in answer)
            self.before_after.append(
                (
                    f"8, {label}: the statistics statement (psql, median)",
                    f"{pg.median(before):.0f} ms (GROUP BY local date)",
                    f"{floor:.0f} ms (one COUNT per local day)",
                )
            )
            self.details[8]["windows"][label] = {
                "statements": [shorten(statement) for statement in statements],
                "floor_ms": floor_runs,
                "before_group_by_ms": before,
                "wrk": result,
                "days": len(answer),
                "counted": counted,
            }
            limit = 100 if label == "31 days" else None
            ok = ratio <= 1.5 and (limit is None or ours <= limit) and status == 200
            ok = ok and result["statuses"].get("200", 0) == STATS_CALLS
            self.record(
                8,
                f"statistics, {label} ({len(answer)} days, {counted:,} appointments)",
                f"{ours:.1f} ms (median of {STATS_CALLS})",
                f"{floor:.1f} ms (median of {STATS_CALLS}, psql; the GROUP BY it replaced: {pg.median(before):.0f} ms)",
                f"{ratio:.2f}x",
                "<= 1.5x floor" + (f", <= {limit} ms" if limit else ""),
                ok,
            )

    def group_by_local_date_sql(self, date_from: datetime.date, date_to: datetime.date) -> str:
        """The statement appointments_per_day sent before it counted day by day (Django's TruncDate)."""
        start = datetime.datetime.combine(date_from, datetime.time(0), self.zone)
        end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time(0), self.zone)
        return (
            f"SELECT (start_time AT TIME ZONE '{self.zone}')::date AS day, COUNT(*) AS count "
            "FROM appointments_timetable WHERE client_id IS NOT NULL "
            f"AND start_time >= '{start.isoformat()}'::timestamptz AND start_time < '{end.isoformat()}'::timestamptz "
            "GROUP BY 1 ORDER BY 1 ASC"
        )

    def statistics_sql(self, date_from: datetime.date, date_to: datetime.date) -> list[str]:
        """The statements statistics.appointments_per_day sends for an administrator, as text for psql."""
        from django.db import connection

        from appointments import statistics

        captured = []

        def capture(execute, sql, params, many, context):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            statistics.appointments_per_day(date_from=date_from, date_to=date_to, doctor_id=None)
        with connection.cursor() as cursor:
            return [cursor.mogrify(sql, params).decode() for sql, params in captured]

    # --- the report -------------------------------------------------------------------------

    def machine(self) -> dict:
        import django
        import gunicorn
        import psycopg2
        import rest_framework

        cpu = "unknown"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        settings_sql = (
            "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'autovacuum', 'max_connections', "
            "'jit', 'max_parallel_workers_per_gather', 'max_wal_size')"
        )
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        pgbench_version = subprocess.run(["pgbench", "--version"], capture_output=True, text=True, check=False)
        return {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
            "os": platform.platform(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "drf": rest_framework.VERSION,
            "psycopg2": psycopg2.__version__.split()[0],
            "gunicorn": gunicorn.__version__,
            "postgresql": self.sql("SHOW server_version").strip(),
            "pg_settings": self.sql(settings_sql).strip(),
            "wrk": (wrk_version.stdout + wrk_version.stderr).splitlines()[0].split(" Copyright")[0],
            "pgbench": pgbench_version.stdout.strip(),
            "gunicorn_command": self.web.description
            if self.web
            else web.Gunicorn(
                env={}, python=sys.executable, workers=self.args.workers, threads=self.args.threads, log=LOGS / "x"
            ).description,
        }

    def table(self) -> str:
        lines = [
            "| # | scenario | our figure | floor | ours / floor | target | result |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in sorted(self.rows, key=lambda row: row["number"]):
            lines.append(
                f"| {row['number']} | {row['scenario']} | {row['figure']} | {row['floor']} | {row['ratio']} "
                f"| {row['target']} | {row['result']} |"
            )
        return "\n".join(lines)

    def before_after_table(self) -> str:
        if not self.before_after:
            return ""
        lines = ["Measured in this run, before and after the changes described below:", "", "| | before | after |"]
        lines.append("|---|---|---|")
        lines += [f"| {what} | {before} | {after} |" for what, before, after in self.before_after]
        return "\n".join(lines)

    def write_docs(self, started: datetime.datetime, seconds: float) -> None:
        machine = self.machine()
        details = json.dumps(self.details, indent=1, default=str)
        notes = NOTES.read_text() if NOTES.exists() else ""
        command = "make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        if self.only != {1, 2, 3, 4, 5, 6, 7, 8}:
            command += f' ARGS="--only {self.args.only}"'
        text = f"""# Benchmarks

Written by `bench/run.py` on {started:%Y-%m-%d %H:%M %Z} in {seconds / 60:.1f} minutes; do not edit by hand
(the prose below the figures comes from `bench/notes.md`).

Reproduce with:

```
{command}
```

`make bench` installs `bench/requirements.txt`, creates its own database `{self.database}` on the server that
`DATABASE_URL` points at (dropped and created again), migrates it, seeds it and runs every scenario with its
floor. `ARGS="--only 5,6 --seconds 10"` runs a subset; `ARGS=--profile` also saves pyinstrument and py-spy
profiles under `var/bench/`.

## Machine and versions

| | |
|---|---|
| CPU | {machine["cpu"]}, {machine["cores"]} cores |
| memory | {machine["memory"]} |
| OS | {machine["os"]} |
| Python | {machine["python"]} |
| Django / DRF / psycopg2 | {machine["django"]} / {machine["drf"]} / {machine["psycopg2"]} |
| PostgreSQL | {machine["postgresql"]} ({machine["pg_settings"]}) |
| gunicorn | {machine["gunicorn"]}: `{machine["gunicorn_command"]}` |
| settings | DJANGO_DEBUG=0, DJANGO_SECURE_SSL_REDIRECT=0, DJANGO_ALLOWED_HOSTS=127.0.0.1, DATABASE_CONN_MAX_AGE=600 |
| load | {machine["wrk"]} (`bench/requests.lua`), {machine["pgbench"]}, psql `\\timing` |
| generation | SLOT_GENERATION_BATCH_SIZE={self.batch_size}, clock fixed at {self.now.isoformat()} |

Everything ran on this one machine: wrk, gunicorn and PostgreSQL share its cores. Load average (1, 5, 15
minutes) at the start: {self.load_at_start}; at the end: {load_average()} (other jobs on the machine count
too; each scenario's load average before and after is in the raw data).

## Figures

{self.table()}

Generation figures are the best of {self.args.reps} runs, floors likewise, run alternately; every sample is
in the raw data below.

{self.before_after_table()}

{notes}

## Raw data

<details><summary>JSON of every run (samples, wrk and pgbench output, statements)</summary>

```json
{details}
```

</details>
"""
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(text)
        print(f"Wrote {DOCS.relative_to(ROOT)}")

    def close(self) -> None:
        self.stop_gunicorn()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never started: nothing to close
            pass
        if not self.args.keep_database:
            self.server.drop_database(self.database)


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    bench = Bench(args, pg.Server.from_url(url))
    started = datetime.datetime.now().astimezone()
    clock = time.perf_counter()
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        bench.setup()
        for number in (1, 2, 3, 5, 6, 7, 4, 8):  # 4 and 8 replace the slots the others share
            if number in bench.only:
                before = load_average()
                getattr(bench, f"scenario_{number}")()
                bench.details.setdefault(number, {})["load average before, after"] = [before, load_average()]
        print()
        print(bench.table())
        if not args.no_docs:
            bench.write_docs(started, time.perf_counter() - clock)
    finally:
        bench.close()


if __name__ == "__main__":
    main()
