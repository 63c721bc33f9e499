"""PostgreSQL side of the benchmarks: the server from DATABASE_URL, psql and pgbench runs, fast seeds."""

import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

TIMING = re.compile(r"^Time: ([0-9.]+) ms", re.MULTILINE)
PGBENCH_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
PGBENCH_LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
PGBENCH_DONE = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
PGBENCH_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Server:
    """Where DATABASE_URL points, minus the database name: the benchmarks bring their own."""

    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> "Server":
        parts = urlsplit(url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise SystemExit(f"DATABASE_URL must point at PostgreSQL, not {parts.scheme or 'nothing'}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )

    def url(self, database: str) -> str:
        credentials = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{credentials}@{self.host}:{self.port}/{database}"

    def env(self, database: str) -> dict[str, str]:
        """libpq's variables, so that psql and pgbench reach the same server as Django."""
        env = dict(os.environ)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user, PGDATABASE=database)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def psql(self, sql: str, database: str, *, tuples: bool = True) -> str:
        """Run SQL (one or more statements) through psql; return its output."""
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        if tuples:
            args += ["-A", "-t"]
        result = subprocess.run(args, input=sql, env=self.env(database), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}\n--- SQL ---\n{sql[:2000]}")
        return result.stdout

    def value(self, sql: str, database: str) -> str:
        return self.psql(sql, database).strip()

    def timed(self, statements: list[str], database: str, *, repeat: int = 1) -> list[float]:
        """Milliseconds psql reports (\\timing) for each of `repeat` runs of the statements, summed per run.

        Rows go to /dev/null, so what is timed is the server's work plus the transfer, as for any client.
        """
        one_run = "".join(f"{statement.strip().rstrip(';')} \\g /dev/null\n" for statement in statements)
        output = self.psql("\\timing on\n" + one_run * repeat, database, tuples=False)
        times = [float(ms) for ms in TIMING.findall(output)]
        if len(times) != repeat * len(statements):
            raise RuntimeError(f"expected {repeat * len(statements)} timings from psql, got {len(times)}")
        return [sum(times[run * len(statements) : (run + 1) * len(statements)]) for run in range(repeat)]

    def recreate_database(self, database: str) -> None:
        quoted = '"' + database.replace('"', '""') + '"'
        self.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid();\n"
            f"DROP DATABASE IF EXISTS {quoted};\nCREATE DATABASE {quoted};\n",
            "postgres",
        )

    def drop_database(self, database: str) -> None:
        quoted = '"' + database.replace('"', '""') + '"'
        self.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid();\n"
            f"DROP DATABASE IF EXISTS {quoted};\n",
            "postgres",
        )

    def pgbench(
        self, script: str, database: str, *, clients: int, seconds: int, defines: dict[str, int] | None = None
    ) -> dict:
        """Run a custom pgbench script; tps and mean latency, as pgbench reports them."""
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
            handle.write(script)
            path = handle.name
        args = ["pgbench", "-n", "-M", "simple", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", path]
        for name, value in (defines or {}).items():
            args += ["-D", f"{name}={value}"]
        try:
            result = subprocess.run(args, env=self.env(database), capture_output=True, text=True, check=False)
        finally:
            Path(path).unlink()
        output = result.stdout + result.stderr
        if result.returncode != 0 or not PGBENCH_TPS.search(output):
            raise RuntimeError(f"pgbench failed:\n{output}")
        failed = PGBENCH_FAILED.search(output)
        return {
            "tps": float(PGBENCH_TPS.search(output).group(1)),
            "latency_ms": float(PGBENCH_LATENCY.search(output).group(1)),
            "transactions": int(PGBENCH_DONE.search(output).group(1)),
            "failed": int(failed.group(1)) if failed else 0,
            "command": " ".join(args).replace(path, "<script>.sql"),
        }


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- seeds ------------------------------------------------------------------------------------
# Plain SQL over generate_series: the scenarios are not about how users or booked slots come to be.


def seed_users_sql(*, prefix: str, first: int, count: int, role: str) -> str:
    """Users <prefix><first> .. <prefix><first + count - 1> in the role's group, in one statement (ids ascending)."""
    return f"""
INSERT INTO staff_user (password, is_superuser, username, first_name, last_name, middle_name, email,
                        is_staff, is_active, date_joined, sex)
SELECT '!', false, '{prefix}' || i, 'Bench', '{prefix}' || i, '', '', false, true, now(), ''
FROM generate_series({first}, {first + count - 1}) AS i ORDER BY i;
INSERT INTO staff_user_groups (user_id, group_id)
SELECT u.id, g.id FROM staff_user u, auth_group g
WHERE u.username LIKE '{prefix}%' AND g.name = '{role}'
  AND NOT EXISTS (SELECT 1 FROM staff_user_groups m WHERE m.user_id = u.id AND m.group_id = g.id);
"""


def seed_schedules_sql(*, prefix: str) -> str:
    """Mon-Fri 09:00-13:00 and 14:00-18:00, 20-minute slots, 14 days ahead, for the doctors named so."""
    return f"""
INSERT INTO appointments_doctorschedule (doctor_id, slot_minutes, horizon_days, updated_at)
SELECT id, 20, 14, now() FROM staff_user u
WHERE username LIKE '{prefix}%' AND NOT EXISTS (SELECT 1 FROM appointments_doctorschedule s WHERE s.doctor_id = u.id)
ORDER BY id;
INSERT INTO appointments_workinghours (schedule_id, weekday, start, "end")
SELECT s.doctor_id, weekday, hours.start, hours.stop
FROM appointments_doctorschedule s
JOIN staff_user u ON u.id = s.doctor_id AND u.username LIKE '{prefix}%'
CROSS JOIN generate_series(0, 4) AS weekday
CROSS JOIN (VALUES (time '09:00', time '13:00'), (time '14:00', time '18:00')) AS hours (start, stop)
WHERE NOT EXISTS (SELECT 1 FROM appointments_workinghours h WHERE h.schedule_id = s.doctor_id)
ORDER BY s.doctor_id, weekday, hours.start;
"""


def generation_floor_sql(*, prefix: str, monday: str, first_day: int, last_day: int, zone: str) -> str:
    """One INSERT ... SELECT generate_series of the rows the generator makes for days first..last of the horizon.

    The same rows as the service: each weekday's 09:00-13:00 and 14:00-18:00 in 20-minute steps on
    the clinic's wall clock, as UTC instants, for every doctor named so; ON CONFLICT DO NOTHING as
    the service does (it relies on the unique (doctor, start_time) constraint).
    """
    return f"""
INSERT INTO appointments_timetable (doctor_id, start_time, stop_time, conflict)
SELECT u.id, slot.start_time, slot.start_time + interval '20 minutes', false
FROM staff_user u
CROSS JOIN LATERAL (
    SELECT ((date '{monday}' + day) + hours.start + step * interval '20 minutes') AT TIME ZONE '{zone}' AS start_time
    FROM generate_series({first_day}, {last_day}) AS day,
         (VALUES (time '09:00'), (time '14:00')) AS hours (start),
         generate_series(0, 11) AS step
    WHERE extract(isodow FROM date '{monday}' + day) < 6
    ORDER BY 1
) AS slot
WHERE u.username LIKE '{prefix}%'
ORDER BY u.id, slot.start_time
ON CONFLICT DO NOTHING
"""


FINGERPRINT_SQL = """
SELECT count(*) || ' ' || coalesce(sum(doctor_id), 0) || ' '
       || coalesce(sum(extract(epoch FROM start_time)), 0) || ' ' || coalesce(sum(extract(epoch FROM stop_time)), 0)
FROM appointments_timetable
"""


def booked_year_sql(
    *, doctors_prefix: str, doctors: int, per_doctor: int, year: int, zone: str, patients: tuple[int, int]
) -> str:
    """`doctors` x `per_doctor` booked 20-minute slots spread over the year, all distinct per doctor.

    Slot i of a doctor starts (10 i + doctor id mod 10) twenty-minute steps after the year's first
    local midnight: 2,500 slots a doctor reach day 348, and every day gets about the same load.
    Patients come round-robin from the id range `patients` (first id, count).
    """
    first_patient, patient_count = patients
    return f"""
INSERT INTO appointments_timetable (doctor_id, client_id, start_time, stop_time, booked_at, conflict, status)
SELECT d.id, {first_patient} + (d.id * 7 + i) % {patient_count}, slot.start_time,
       slot.start_time + interval '20 minutes', slot.start_time - interval '3 days', false, 'booked'
FROM (SELECT id FROM staff_user WHERE username LIKE '{doctors_prefix}%' ORDER BY id LIMIT {doctors}) AS d
CROSS JOIN generate_series(0, {per_doctor - 1}) AS i
CROSS JOIN LATERAL (
    SELECT (timestamp '{year}-01-01 00:00' AT TIME ZONE '{zone}') + (i * 10 + d.id % 10) * interval '20 minutes'
        AS start_time
) AS slot
"""


def without_indexes(server: Server, database: str, table: str, body: str) -> str:
    """Run `body` with the table's indexes and constraints dropped, then recreate them exactly as they were.

    Bulk loading then building each index once is several times faster than maintaining seven
    indexes row by row. The definitions are read from the catalog, so nothing drifts from the migrations.
    """
    definitions = server.psql(
        f"""
SELECT 'ALTER TABLE {table} ADD CONSTRAINT ' || quote_ident(conname) || ' ' || pg_get_constraintdef(oid) || ';'
FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype IN ('p', 'u', 'f')
UNION ALL
SELECT indexdef || ';' FROM pg_indexes
WHERE tablename = '{table}' AND indexname NOT IN (
    SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass)
""",
        database,
    ).splitlines()
    names = server.psql(
        f"""
SELECT 'ALTER TABLE {table} DROP CONSTRAINT ' || quote_ident(conname) || ';'
FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype IN ('p', 'u', 'f')
UNION ALL
SELECT 'DROP INDEX ' || quote_ident(indexname) || ';' FROM pg_indexes
WHERE tablename = '{table}' AND indexname NOT IN (
    SELECT conname FROM pg_constraint WHERE conrelid = '{table}'::regclass)
""",
        database,
    ).splitlines()
    return (
        "BEGIN;\nSET LOCAL maintenance_work_mem = '512MB';\n"
        + "\n".join(names)
        + "\n"
        + body
        + ";\n"
        + "\n".join(definitions)
        + "\nCOMMIT;\n"
    )
