"""What the scenarios share: the benchmark's database and its seed, the generator run, gunicorn and wrk.

Everything runs on a database of its own (hospital_bench by default, dropped and created again),
seeded with plain SQL where a scenario is not itself about seeding.
"""

import argparse
import datetime
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import machine, pg, web

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "var" / "bench"
DOCTORS = "bench_doctor_"  # every doctor of the benchmarks; the first 1,000 carry the generation and HTTP scenarios
PATIENTS = "bench_patient_"
HTTP_CLIENTS = 16
TOOLS = ("psql", "pgbench", "wrk")


def next_monday(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=7 - today.weekday())


class Context:
    """The run's shared state: the database, the seeded ids and tokens, the generator's clock, one gunicorn."""

    def __init__(self, args: argparse.Namespace, server: pg.Server):
        self.args = args
        self.server = server
        self.database = args.database
        self.web: web.Gunicorn | None = None
        self.load_at_start = machine.load_average()

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
        for tool in TOOLS:
            if not shutil.which(tool):
                raise SystemExit(f"{tool} is needed (apt-get install -y postgresql-client wrk)")
        print(f"Creating database {self.database} ...", flush=True)
        self.server.recreate_database(self.database)
        self.env = self.environment()
        os.environ.update(self.env)
        self.start_django()
        self.seed()

    def start_django(self) -> None:
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

    def seed(self) -> None:
        """1,000 doctors with schedules, 256 patients; knox tokens for 192 of them and an administrator."""
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

    def seed_doctors(self, total: int, *, schedules: bool) -> None:
        """Doctors up to `total` (those already there kept), with schedules if asked."""
        have = len(self.ids(DOCTORS))
        if have < total:
            self.sql(pg.seed_users_sql(prefix=DOCTORS, first=have + 1, count=total - have, role="doctor"))
            if schedules:
                self.sql(pg.seed_schedules_sql(prefix=DOCTORS))
                self.sql("VACUUM ANALYZE")

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

    # --- slots ----------------------------------------------------------------------------

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

    def generation_floor_sql(self, first_day: int, last_day: int) -> str:
        """PostgreSQL making the rows the generator makes for days first..last of the horizon, in one INSERT."""
        return pg.generation_floor_sql(
            prefix=DOCTORS, monday=self.monday.isoformat(), first_day=first_day, last_day=last_day, zone=str(self.zone)
        )

    def fingerprint(self) -> str:
        return self.sql(pg.FINGERPRINT_SQL).strip()

    def slot_ids_by_doctor(self) -> dict[int, list[int]]:
        """Each doctor's free slots' ids, in the order of their start times."""
        rows = self.sql(
            "SELECT doctor_id, string_agg(id::text, ',' ORDER BY start_time) FROM appointments_timetable "
            "WHERE client_id IS NULL GROUP BY doctor_id"
        )
        slots = {}
        for row in rows.splitlines():
            doctor_id, ids = row.split("|")
            slots[int(doctor_id)] = [int(pk) for pk in ids.split(",")]
        return slots

    # --- HTTP -----------------------------------------------------------------------------

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

    def gunicorn_command(self) -> str:
        """The command line of the gunicorn the HTTP scenarios run (or would run), for the report."""
        if self.web is not None:
            return self.web.description
        return web.Gunicorn(
            env={}, python=sys.executable, workers=self.args.workers, threads=self.args.threads, log=LOGS / "x"
        ).description

    def stop_gunicorn(self) -> None:
        if self.web is not None:
            self.web.__exit__(None, None, None)
            self.web = None

    def load(self, requests_per_thread: list[list[str]], *, seconds: int, once: bool) -> dict:
        """wrk against the shared gunicorn: each thread sends its list of requests (once, or round and round)."""
        server = self.gunicorn()
        return web.wrk(server.url, requests_per_thread=requests_per_thread, seconds=seconds, once=once)

    def warm_up(self, requests_per_thread: list[list[str]]) -> None:
        """A few seconds of the same load, discarded: workers import lazily and open their connections."""
        self.load(requests_per_thread, seconds=3, once=False)

    def profiled(self, name: str) -> dict[str, float] | None:
        """After a scenario run with --profile: stop its gunicorn so py-spy writes, and summarise."""
        if not self.args.profile or self.web is None or self.web.profile is None:
            return None
        raw = self.web.profile
        self.stop_gunicorn()
        if not raw.exists():
            return None
        summary = web.profile_summary(raw)
        print(f"  profile of {name} ({raw.relative_to(ROOT)}):")
        for label, share in summary.items():
            if label != "samples":
                print(f"    {share:6.1%}  {label}")
        return summary

    # --- the end --------------------------------------------------------------------------

    def close(self) -> None:
        self.stop_gunicorn()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never started: nothing to close
            pass
        if not self.args.keep_database:
            self.server.drop_database(self.database)


def rate(result: dict, count: int) -> float:
    """Per second over wrk's measured duration."""
    return count / (result["duration_us"] / 1e6)
