"""Seed the reliability run's database: an administrator, doctors with schedules and slots, patients.

python -m bench.reliability.seed OUT.json [--doctors 20] [--patients 50]  (Django settings from the environment)

Writes the accounts and ids the load generator and run.py need to OUT.json.
"""

import argparse
import datetime
import json
import os
import secrets
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")
django.setup()

from appointments.generation import slots_generate_for_doctors  # noqa: E402
from appointments.services import schedule_update  # noqa: E402
from staff.roles import Role  # noqa: E402
from staff.services import roles_ensure, user_create  # noqa: E402

DAY_HOURS = [(weekday, datetime.time(8), datetime.time(20)) for weekday in range(7)]
SLOT_MINUTES = 20
HORIZON_DAYS = 7


def person(username: str, role: str, password: str, number: int):
    return user_create(
        username=username,
        password=password,
        last_name=f"Reliability{number}",
        first_name=role.capitalize(),
        sex="female" if number % 2 else "male",
        birth_date=datetime.date(1980, 1, 1) + datetime.timedelta(days=number * 97),
        groups=[role],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--doctors", type=int, default=20)
    parser.add_argument("--patients", type=int, default=50)
    args = parser.parse_args()

    roles_ensure()
    password = secrets.token_urlsafe(18)
    administrator = person("rel_admin", Role.ADMINISTRATOR, password, 0)
    doctors = [person(f"rel_doctor_{n}", Role.DOCTOR, password, n) for n in range(1, args.doctors + 1)]
    for doctor in doctors:
        schedule_update(doctor=doctor, slot_minutes=SLOT_MINUTES, horizon_days=HORIZON_DAYS, working_hours=DAY_HOURS)
    slots_generate_for_doctors(doctor_ids=[doctor.pk for doctor in doctors])
    patients = [person(f"rel_patient_{n}", Role.PATIENT, password, n) for n in range(1, args.patients + 1)]
    world = {
        "password": password,
        "administrator": {"id": administrator.pk, "username": administrator.username},
        "doctors": [doctor.pk for doctor in doctors],
        "patients": [{"id": patient.pk, "username": patient.username} for patient in patients],
        "hours": [[weekday, start.strftime("%H:%M"), end.strftime("%H:%M")] for weekday, start, end in DAY_HOURS],
    }
    args.out.write_text(json.dumps(world, indent=2))
    print(f"seeded {len(doctors)} doctors, {len(patients)} patients")


if __name__ == "__main__":
    main()
