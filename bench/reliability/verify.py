"""Check the reliability run's database after the load: invariants by SQL, bookings against the log.

python -m bench.reliability.verify WORLD.json REQUESTS.jsonl EDITS.json  (Django settings from the environment)

Prints one JSON object: each invariant with its count of violations, the bookings acknowledged
and found, and whether every doctor's slots match their schedule (the sweep caught up).
"""

import json
import os
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.generation import doctor_plan  # noqa: E402
from appointments.models import DoctorSchedule, Timetable  # noqa: E402

# (name, what it proves, SQL counting violations)
INVARIANTS = [
    (
        "one row per doctor and start",
        "the unique (doctor, start_time) constraint held",
        """SELECT count(*) FROM (SELECT doctor_id, start_time FROM appointments_timetable
           GROUP BY doctor_id, start_time HAVING count(*) > 1) AS duplicated""",
    ),
    (
        "no double booking in the history",
        "no slot was booked twice without a cancel or release in between",
        """SELECT count(*) FROM (
             SELECT action, lag(action) OVER (PARTITION BY slot_id ORDER BY at, id) AS previous
             FROM appointments_appointmentevent) AS history
           WHERE action = 'booked' AND previous = 'booked'""",
    ),
    (
        "the holder is the last booker",
        "every booked slot's patient is the patient of its last 'booked' event",
        """SELECT count(*) FROM appointments_timetable AS slot
           JOIN LATERAL (SELECT action, patient_id FROM appointments_appointmentevent AS event
                         WHERE event.slot_id = slot.id ORDER BY at DESC, id DESC LIMIT 1) AS last ON true
           WHERE slot.client_id IS NOT NULL AND (last.action <> 'booked' OR last.patient_id <> slot.client_id)""",
    ),
    (
        "no overlapping slots per doctor",
        "no two slots of one doctor share time",
        """SELECT count(*) FROM appointments_timetable AS a JOIN appointments_timetable AS b
             ON a.doctor_id = b.doctor_id AND a.id < b.id
            AND a.start_time < b.stop_time AND b.start_time < a.stop_time""",
    ),
    (
        "no free slot inside an absence",
        "no future free slot overlaps its doctor's absence",
        """SELECT count(*) FROM appointments_timetable AS slot JOIN appointments_absence AS absence
             ON absence.doctor_id = slot.doctor_id
            AND slot.start_time < absence."end" AND absence.start < slot.stop_time
           WHERE slot.client_id IS NULL AND slot.start_time > now()""",
    ),
    (
        "no overlapping appointments per patient",
        "no patient holds two slots that share time",
        """SELECT count(*) FROM appointments_timetable AS a JOIN appointments_timetable AS b
             ON a.client_id = b.client_id AND a.id < b.id
            AND a.start_time < b.stop_time AND b.start_time < a.stop_time""",
    ),
]


def invariants() -> list[dict]:
    results = []
    with connection.cursor() as cursor:
        for name, meaning, sql in INVARIANTS:
            cursor.execute(sql)
            results.append({"name": name, "meaning": meaning, "violations": cursor.fetchone()[0]})
    return results


def bookings(requests_log: Path) -> dict:
    """Acknowledged bookings (201) not cancelled with a 200 afterwards must hold; unknown outcomes are set aside."""
    events = defaultdict(list)
    for line in requests_log.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("kind") in ("book", "cancel"):
            events[(entry["slot"], entry["patient"])].append(entry)
    acknowledged = expected = uncertain = 0
    should_hold = set()
    for key, entries in events.items():
        state = None  # True: held, False: not held, "unknown"
        for entry in sorted(entries, key=lambda item: item["t"]):
            status = entry["status"]
            if entry["kind"] == "book":
                acknowledged += status == 201
                if status == 201:
                    state = True
                elif status == 0 or status >= 500:
                    state = "unknown" if state is not True else True
            elif status == 200:
                state = False
            elif status == 0 or status >= 500:
                state = "unknown"
        if state is True:
            expected += 1
            should_hold.add(key)
        elif state == "unknown":
            uncertain += 1
    held = set(Timetable.objects.filter(client__isnull=False).values_list("id", "client_id"))
    missing = sorted(should_hold - held)
    return {
        "acknowledged": acknowledged,
        "expected_held": expected,
        "found": len(should_hold & held),
        "missing": [list(key) for key in missing[:20]],
        "missing_count": len(missing),
        "uncertain": uncertain,
        "held_at_end": len(held),
    }


def schedules_caught_up(edits: list[dict]) -> dict:
    """Every doctor's future slots are what their current schedule plans (booked ones aside)."""
    now = timezone.now() + timedelta(minutes=1)
    mismatched = []
    conflicts = 0
    last_edit = max((datetime.fromtimestamp(edit["t"], tz=UTC) for edit in edits), default=None)
    stale = []
    schedules = DoctorSchedule.objects.select_related("doctor").prefetch_related("working_hours")
    for schedule in schedules:
        planned = {(slot.start, slot.stop) for slot in doctor_plan(schedule=schedule, now=now)}
        rows = list(
            Timetable.objects.filter(doctor_id=schedule.doctor_id, start_time__gt=now).values_list(
                "start_time", "stop_time", "client_id"
            )
        )
        free = {(start, stop) for start, stop, client in rows if client is None}
        booked = {(start, stop) for start, stop, client in rows if client is not None}
        conflicts += len(booked - planned)
        # A planned slot that overlaps a booked one from an older plan is rightly not created.
        missing = {
            (start, stop)
            for start, stop in planned - free - booked
            if not any(start < booked_stop and booked_start < stop for booked_start, booked_stop in booked)
        }
        extra = free - planned
        if missing or extra:
            mismatched.append({"doctor": schedule.doctor_id, "missing": len(missing), "extra_free": len(extra)})
        if last_edit and (schedule.generated_at is None or schedule.generated_at < last_edit):
            stale.append(schedule.doctor_id)
    return {
        "doctors": schedules.count(),
        "mismatched": mismatched,
        "booked_outside_plan": conflicts,
        "not_regenerated_since_last_edit": stale,
    }


def main() -> None:
    world_path, requests_log, edits_path = (Path(arg) for arg in sys.argv[1:4])
    edits = json.loads(edits_path.read_text())
    print(
        json.dumps(
            {
                "invariants": invariants(),
                "bookings": bookings(requests_log),
                "schedules": schedules_caught_up(edits),
                "slots": Timetable.objects.count(),
                "booked": Timetable.objects.filter(client__isnull=False).count(),
            }
        )
    )


if __name__ == "__main__":
    main()
