"""One generation run in a process of its own, as a Celery worker runs it; prints one JSON line.

python -m bench.generation --now 2026-11-30T00:00:01+03:00 [--profile out.txt]

Streams the doctors of a sweep (generation.doctors_to_generate) in batches of
SLOT_GENERATION_BATCH_SIZE through generation.slots_generate_for_doctors, the service the
generate_slots_for_doctors task calls, with `now` fixed so that every run plans the same slots.
Reports the wall time of the whole sweep, the counts, where the time went by statement, and the
peak resident set size of the process (ru_maxrss).
"""

import argparse
import json
import os
import resource
import time
from collections import Counter
from datetime import datetime
from types import ModuleType

import django


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def statement_kind(sql: str) -> str:
    """A label for where a statement belongs in the service (see appointments.services)."""
    head = " ".join(sql.split()[:6])
    if head.startswith("WITH plan"):
        return "compare plans with rows"
    if head.startswith("WITH inserted"):
        return "insert missing slots"
    if head.startswith("DELETE"):
        return "delete stale free slots"
    if head.startswith("UPDATE") and "appointments_timetable" in head:
        return "flag conflicts"
    if "appointments_doctorschedule" in head and head.startswith("SELECT"):
        return "lock schedules"
    if head.startswith("UPDATE"):
        return "mark generated_at"
    return "read hours, absences, doctors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--now", required=True, help="the generator's clock, ISO 8601 with offset")
    parser.add_argument("--profile", help="write a pyinstrument profile of the run to this file")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    from appointments import generation

    connection.ensure_connection()
    rss_before = rss_mb()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    counts, breakdown = sweep(generation, datetime.fromisoformat(args.now), settings.SLOT_GENERATION_BATCH_SIZE)
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w") as handle:
            handle.write(profiler.output_text(unicode=False, color=False))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {**counts, "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak_rss, 1), "breakdown": breakdown}
        )
    )


def sweep(generation: ModuleType, now: datetime, batch_size: int) -> tuple[dict, dict]:
    """The whole sweep at `now`, timed: seconds and counts, and the seconds by kind of statement."""
    from django.db import connection

    spent: Counter[str] = Counter()

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[statement_kind(sql)] += time.perf_counter() - started

    totals = Counter()
    batches = doctors = 0
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        for batch in generation.doctor_batches(batch_size):
            doctors += len(batch)
            results = generation.slots_generate_for_doctors(doctor_ids=batch, now=now)
            batches += 1
            for result in results:
                totals.update(created=result.created, deleted=result.deleted, conflicts=result.conflicts)
    seconds = time.perf_counter() - started
    breakdown = {kind: round(value, 3) for kind, value in spent.most_common()}
    breakdown["python and commits"] = round(seconds - sum(spent.values()), 3)
    counts = {
        "seconds": round(seconds, 4),
        "doctors": doctors,
        "batches": batches,
        "batch_size": batch_size,
        "created": totals["created"],
        "deleted": totals["deleted"],
        "conflicts": totals["conflicts"],
    }
    return counts, breakdown


if __name__ == "__main__":
    main()
