"""Load the demo data from fixtures/ (idempotent): patients, specialties, doctors with schedules and slots, bookings.

The specialties' names are data, as a clinic enters them: the demo ships Russian ones (its doctors are
Russian too), whatever LANGUAGE_CODE the site runs in.
"""

from itertools import cycle

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from appointments import services
from appointments.models import Timetable
from appointments.resources import doctors_import
from hospital.errors import ServiceError
from hospital.imports import dataset_read
from staff.models import User
from staff.resources import patients_import

FIXTURES = settings.BASE_DIR / "fixtures"
# About this many free slots of the demo doctors are booked, spread over their horizon: enough for
# the charts, and most slots stay free to book.
BOOKINGS_MAX = 60


def demo_specialties_ensure() -> list:
    """The specialties of fixtures/specialties.csv (one `name` column), created where missing."""
    names = [row["name"] for row in dataset_read(FIXTURES / "specialties.csv").dict]
    return services.specialties_ensure(names=names)


class Command(BaseCommand):
    help = (
        "Load demo patients, specialties and doctors from fixtures/ through the CSV import (re-running updates them), "
        "generate the doctors' slots now and book a few for the dashboard's charts."
    )

    def handle(self, *args, **options):
        patients = self._import("patients", patients_import(FIXTURES / "patients.csv"))
        specialties = demo_specialties_ensure()
        doctors = self._import("doctors", doctors_import(FIXTURES / "doctors.csv", generate=True))
        booked = self._book(doctor_ids=doctors.user_ids, patient_ids=patients.user_ids)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {len(patients.user_ids)} patients, {len(specialties)} specialties, "
                f"{len(doctors.user_ids)} doctors, "
                f"{booked} new demo appointments."
            )
        )

    def _import(self, noun, outcome):
        if not outcome.ok:
            raise CommandError(f"The demo {noun} file is broken: " + "; ".join(map(str, outcome.problems)))
        return outcome

    def _book(self, *, doctor_ids, patient_ids) -> int:
        """Book every few free slots for the demo patients, once: skipped when the doctors have bookings."""
        if not patient_ids or Timetable.objects.filter(doctor_id__in=doctor_ids, client__isnull=False).exists():
            return 0
        patients = cycle(User.objects.filter(pk__in=patient_ids, is_active=True).order_by("pk"))
        free = Timetable.objects.filter(doctor_id__in=doctor_ids, client__isnull=True, start_time__gt=timezone.now())
        slot_ids = list(free.order_by("start_time", "doctor_id").values_list("pk", flat=True))
        step = max(3, len(slot_ids) // BOOKINGS_MAX)
        booked = 0
        for slot_id in slot_ids[::step][:BOOKINGS_MAX]:
            try:
                services.slot_book(slot_id=slot_id, patient=next(patients))
            except ServiceError:
                continue  # e.g. the patient already has an appointment at that time
            booked += 1
        return booked
