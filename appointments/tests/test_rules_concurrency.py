"""Races on PostgreSQL with real concurrent clients: the patient caps hold, outcome steps apply once."""

import datetime
from collections import Counter

import pytest
from django.utils import timezone

from appointments.models import AppointmentEvent, AppointmentStatus, Timetable
from appointments.rules import clinic_rules_update
from appointments.tests.factories import DoctorFactory, SlotFactory
from appointments.tests.test_concurrency import run_together
from staff.roles import Role
from staff.tests.factories import UserFactory

# serialized_rollback: the flush after each test would otherwise drop the role groups and the
# clinic's rules row the migrations created, which later tests in the same run rely on.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEVICES = 6
ROUNDS = 5


def rules(**values):
    defaults = {"min_notice_minutes": 0, "cancel_cutoff_minutes": 0}
    clinic_rules_update(**{"max_active_per_patient": None, "max_per_patient_per_day": None, **defaults, **values})


def distinct_slots(doctors, first_start, count):
    """`count` free slots that overlap nothing of each other, spread over the doctors, an hour apart."""
    return [
        SlotFactory(
            doctor=doctors[index % len(doctors)],
            start_time=first_start + datetime.timedelta(hours=index),
            stop_time=first_start + datetime.timedelta(hours=index, minutes=20),
        )
        for index in range(count)
    ]


def book_all_at_once(login, patient, slots):
    """One device (token, client, connection) per slot, all posting at the same moment."""
    devices = [login(patient) for _ in slots]
    responses = run_together(
        *[
            lambda client=client, slot=slot: client.post(f"/api/doctor/appointment/{slot.pk}")
            for client, slot in zip(devices, slots, strict=True)
        ]
    )
    assert [r for r in responses if isinstance(r, Exception)] == []
    return responses


def test_the_active_cap_holds_when_one_patient_books_from_many_devices_at_once(login):
    rules(max_active_per_patient=2)
    doctors = [DoctorFactory() for _ in range(3)]
    tomorrow = timezone.now().replace(microsecond=0, second=0) + datetime.timedelta(days=1)

    for round_ in range(ROUNDS):
        patient = UserFactory(roles=[Role.PATIENT])
        slots = distinct_slots(doctors, tomorrow + datetime.timedelta(days=round_), DEVICES)

        responses = book_all_at_once(login, patient, slots)

        answers = Counter((r.status_code, r.json().get("code")) for r in responses)
        assert answers == {(201, None): 2, (409, "too_many_appointments"): DEVICES - 2}, answers
        assert Timetable.objects.filter(client=patient).count() == 2
        assert AppointmentEvent.objects.filter(patient=patient, action="booked").count() == 2


def test_the_daily_cap_holds_when_one_patient_books_one_day_from_many_devices_at_once(login):
    rules(max_per_patient_per_day=1)
    doctors = [DoctorFactory() for _ in range(3)]
    # 09:00 local, two days ahead: six slots an hour apart stay within one local day.
    day = timezone.localdate() + datetime.timedelta(days=2)

    for round_ in range(ROUNDS):
        patient = UserFactory(roles=[Role.PATIENT])
        start = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=round_), datetime.time(9)))
        slots = distinct_slots(doctors, start, DEVICES)

        responses = book_all_at_once(login, patient, slots)

        answers = Counter((r.status_code, r.json().get("code")) for r in responses)
        assert answers == {(201, None): 1, (409, "daily_limit_reached"): DEVICES - 1}, answers
        assert Timetable.objects.filter(client=patient).count() == 1


def test_concurrent_outcome_steps_on_one_appointment_apply_once(login):
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    doctor = DoctorFactory()
    desk, surgery = login(admin), login(doctor)
    outcomes = Counter()
    for round_ in range(10):
        start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1, hours=round_)
        patient = UserFactory(roles=[Role.PATIENT])
        slot = SlotFactory(
            doctor=doctor,
            client=patient,
            start_time=start,
            stop_time=start + datetime.timedelta(minutes=20),
        )

        # The desk cancels while the doctor records the arrival: one of them wins.
        cancel, arrive = run_together(
            lambda slot=slot: desk.post(f"/api/appointments/{slot.pk}/cancel", {"reason": "ill"}, format="json"),
            lambda slot=slot: surgery.post(f"/api/appointments/{slot.pk}/arrive"),
        )

        statuses = sorted([cancel.status_code, arrive.status_code])
        assert statuses in ([200, 404], [200, 409]), (cancel.json(), arrive.json())
        slot.refresh_from_db()
        if cancel.status_code == 200:
            outcomes["cancelled"] += 1
            assert (slot.client_id, slot.status) == (None, None)
        else:
            outcomes["arrived"] += 1
            assert (slot.client_id, slot.status) == (patient.pk, AppointmentStatus.ARRIVED)
            assert cancel.json()["code"] == "invalid_transition"
        assert AppointmentEvent.objects.filter(slot_id=slot.pk).count() == 1
    print(f"cancel vs arrive: {dict(outcomes)}")
