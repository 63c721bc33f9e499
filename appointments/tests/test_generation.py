"""Slot generation: the reconciling service, what triggers it, the Celery tasks and the command."""

import datetime
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from appointments import tasks
from appointments.generation import GenerationResult, slots_generate_for_doctor
from appointments.models import AbsenceKind, AppointmentAction, AppointmentEvent, DoctorSchedule, Timetable
from appointments.services import (
    InvalidSchedule,
    absence_create,
    absence_delete,
    regeneration_enqueue,
    schedule_update,
    slot_book,
)
from appointments.tests.factories import DoctorFactory, ScheduleFactory, SlotFactory, every_day, local
from appointments.zone import clinic_zone
from staff.roles import Role
from staff.services import user_block, user_unblock, user_update
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NINE_TO_ONE = [(weekday, datetime.time(9), datetime.time(13)) for weekday in range(7)]
NINE_TO_NOON = [(weekday, datetime.time(9), datetime.time(12)) for weekday in range(7)]
SLOTS_A_DAY = 12  # 09:00-13:00 in 20-minute slots
WEEK = 7


def local_starts(doctor) -> list[datetime.datetime]:
    """The doctor's slot starts on the clinic's wall clock, ascending."""
    slots = Timetable.objects.filter(doctor=doctor).order_by("start_time")
    return [timezone.localtime(slot.start_time, clinic_zone()).replace(tzinfo=None) for slot in slots]


def slot_at(doctor, day, hour, minute=0) -> Timetable:
    return Timetable.objects.get(doctor=doctor, start_time=local(day, hour, minute))


@pytest.fixture
def carol_schedule(dr_carol):
    """Dr Carol works 09:00-13:00 every day in 20-minute slots, a week ahead."""
    return every_day(ScheduleFactory(doctor=dr_carol, slot_minutes=20, horizon_days=WEEK))


@pytest.fixture
def generated(carol_schedule, dr_carol, now):
    """Dr Carol's week of slots, generated."""
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)
    assert result.created == SLOTS_A_DAY * WEEK
    return result


@pytest.fixture
def sent(monkeypatch):
    """Record the regeneration tasks sent to the broker instead of sending them."""
    calls = []

    def record(args=None, kwargs=None, **options):
        calls.append({"args": args, **options})

    monkeypatch.setattr(tasks.generate_slots_for_doctors, "apply_async", record)
    return calls


# --- the generation service ----------------------------------------------------------------


def test_it_creates_the_slots_of_the_plan(carol_schedule, dr_carol, now, monday):
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=SLOTS_A_DAY * WEEK, deleted=0, conflicts=0)
    starts = local_starts(dr_carol)
    assert len(starts) == SLOTS_A_DAY * WEEK
    assert starts[0] == local(monday, 9).replace(tzinfo=None)
    assert starts[-1] == local(monday + datetime.timedelta(days=6), 12, 40).replace(tzinfo=None)
    assert not Timetable.objects.filter(doctor=dr_carol, client__isnull=False).exists()
    assert not Timetable.objects.filter(conflict=True).exists()
    for slot in Timetable.objects.filter(doctor=dr_carol):
        assert slot.stop_time - slot.start_time == datetime.timedelta(minutes=20)
    carol_schedule.refresh_from_db()
    assert carol_schedule.generated_at == now


def test_it_plans_only_slots_that_start_after_now(carol_schedule, dr_carol, monday):
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=local(monday, 10, 5))

    mondays = [start for start in local_starts(dr_carol) if start.date() == monday]
    assert mondays[0] == local(monday, 10, 20).replace(tzinfo=None)
    assert Timetable.objects.filter(doctor=dr_carol).count() == SLOTS_A_DAY * WEEK - 4  # 09:00 to 10:00 have started


def test_a_rerun_inserts_nothing_and_deletes_nothing(generated, dr_carol, now):
    before = set(Timetable.objects.filter(doctor=dr_carol).values_list("id", "start_time", "stop_time"))

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=0, conflicts=0)
    after = set(Timetable.objects.filter(doctor=dr_carol).values_list("id", "start_time", "stop_time"))
    assert after == before


def test_a_rerun_later_only_adds_the_day_that_came_into_the_horizon(generated, dr_carol, now, monday):
    before = set(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True))

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now + datetime.timedelta(days=1))

    assert result.created == SLOTS_A_DAY
    assert result.deleted == 0
    # Monday's slots are in the past for this run: the generator leaves them alone.
    assert before <= set(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True))
    assert local_starts(dr_carol)[-1] == local(monday + datetime.timedelta(days=7), 12, 40).replace(tzinfo=None)


def test_it_generates_nothing_for_a_doctor_without_a_schedule(dr_dave, now):
    result = slots_generate_for_doctor(doctor_id=dr_dave.pk, now=now)

    assert result == GenerationResult(dr_dave.pk)
    assert not Timetable.objects.exists()
    assert not DoctorSchedule.objects.filter(doctor=dr_dave).exists()


def test_an_hours_change_deletes_only_the_free_slots_that_left_the_plan(generated, dr_carol, now, monday):
    kept_before = set(
        Timetable.objects.filter(doctor=dr_carol, start_time__lt=local(monday, 12)).values_list("id", flat=True)
    )

    schedule_update(doctor=dr_carol, working_hours=NINE_TO_NOON)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=3 * WEEK, conflicts=0)
    assert Timetable.objects.filter(doctor=dr_carol).count() == 9 * WEEK
    # The slots that stay in the plan are the same rows, not recreated ones.
    assert kept_before <= set(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True))
    assert not [start for start in local_starts(dr_carol) if start.time() >= datetime.time(12)]


def test_it_keeps_a_booked_slot_that_left_the_plan_and_flags_it_conflict(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 12, 20).pk, patient=alice)

    schedule_update(doctor=dr_carol, working_hours=NINE_TO_NOON)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=3 * WEEK - 1, conflicts=1)
    booked.refresh_from_db()
    assert booked.client == alice
    assert booked.conflict is True
    assert booked.start_time == local(monday, 12, 20)
    # Its free neighbours are gone; only the booked one outlives the old plan.
    afternoon = Timetable.objects.filter(
        doctor=dr_carol, start_time__gte=local(monday, 12), start_time__lt=local(monday, 13)
    )
    assert list(afternoon.values_list("id", flat=True)) == [booked.pk]


def test_a_rerun_keeps_counting_a_flagged_conflict_without_touching_it(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 12, 20).pk, patient=alice)
    schedule_update(doctor=dr_carol, working_hours=NINE_TO_NOON)
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=0, conflicts=1)
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)


def test_it_unflags_a_conflict_when_the_plan_has_the_slot_again(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 12, 20).pk, patient=alice)
    schedule_update(doctor=dr_carol, working_hours=NINE_TO_NOON)
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    schedule_update(doctor=dr_carol, working_hours=NINE_TO_ONE)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=3 * WEEK - 1, deleted=0, conflicts=0)
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, False)
    assert Timetable.objects.filter(doctor=dr_carol).count() == SLOTS_A_DAY * WEEK


def test_a_slot_length_change_replaces_the_free_slots(generated, dr_carol, now, monday):
    old_ids = set(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True))

    schedule_update(doctor=dr_carol, slot_minutes=30)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=8 * WEEK, deleted=SLOTS_A_DAY * WEEK, conflicts=0)
    slots = list(Timetable.objects.filter(doctor=dr_carol))
    assert len(slots) == 8 * WEEK
    assert not old_ids & {slot.pk for slot in slots}
    assert {slot.stop_time - slot.start_time for slot in slots} == {datetime.timedelta(minutes=30)}
    mondays = [start.time() for start in local_starts(dr_carol) if start.date() == monday]
    assert mondays == [datetime.time(9 + half // 2, 30 * (half % 2)) for half in range(8)]


def test_a_slot_length_change_keeps_booked_slots_and_plans_around_them(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 9, 20).pk, patient=alice)

    schedule_update(doctor=dr_carol, slot_minutes=30)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)
    assert result.conflicts == 1
    # 09:00-09:30 and 09:30-10:00 would overlap the booked 09:20-09:40: the doctor is not double-booked.
    mondays = [start.time() for start in local_starts(dr_carol) if start.date() == monday]
    assert mondays == [datetime.time(9, 20), *(datetime.time(10 + half // 2, 30 * (half % 2)) for half in range(6))]
    slots = list(Timetable.objects.filter(doctor=dr_carol).order_by("start_time"))
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert earlier.stop_time <= later.start_time


def test_a_new_absence_removes_free_slots_overlapping_it_and_keeps_booked_ones(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 10, 20).pk, patient=alice)

    absence_create(doctor=dr_carol, kind=AbsenceKind.BREAK, start=local(monday, 10, 10), end=local(monday, 11))
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=2, conflicts=1)
    mondays = [start.time() for start in local_starts(dr_carol) if start.date() == monday]
    # 10:00-10:20 and 10:40-11:00 overlap the break and go; 09:40-10:00 and 11:00-11:20 only touch it.
    assert datetime.time(9, 40) in mondays
    assert datetime.time(11) in mondays
    assert datetime.time(10) not in mondays
    assert datetime.time(10, 40) not in mondays
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)
    # Other days are untouched.
    assert Timetable.objects.filter(doctor=dr_carol, start_time__gte=local(monday, 13)).count() == SLOTS_A_DAY * 6


def test_deleting_the_absence_brings_the_slots_back_and_unflags_the_booked_one(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 10, 20).pk, patient=alice)
    absence = absence_create(doctor=dr_carol, kind=AbsenceKind.BREAK, start=local(monday, 10), end=local(monday, 11))
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    absence_delete(absence=absence)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=2, deleted=0, conflicts=0)
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, False)
    assert Timetable.objects.filter(doctor=dr_carol).count() == SLOTS_A_DAY * WEEK


def test_an_absence_that_ended_before_now_changes_nothing(generated, dr_carol, now, monday):
    absence_create(doctor=dr_carol, kind=AbsenceKind.OTHER, start=local(monday, 6), end=local(monday, 7))

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=0, conflicts=0)


def test_a_week_long_vacation_empties_the_free_week(generated, dr_carol, alice, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 9).pk, patient=alice)

    absence_create(doctor=dr_carol, kind=AbsenceKind.VACATION, start=now, end=now + datetime.timedelta(days=WEEK + 1))
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=SLOTS_A_DAY * WEEK - 1, conflicts=1)
    assert list(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True)) == [booked.pk]


def test_a_blocked_doctor_gets_no_new_slots(carol_schedule, dr_carol, now):
    user_block(user=dr_carol)

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk)
    assert not Timetable.objects.filter(doctor=dr_carol).exists()


def test_a_blocked_doctor_offers_no_slots(generated, dr_carol, alice, admin_user, login, now, monday):
    booked = slot_book(slot_id=slot_at(dr_carol, monday, 9).pk, patient=alice)
    free = slot_at(dr_carol, monday, 9, 20)
    response = login(admin_user).post(f"/api/user/blocking/{dr_carol.pk}")
    assert response.status_code == 200

    patient = login(alice)
    # Even before the generator runs, nothing of a blocked doctor can be listed or booked.
    assert patient.get(f"/api/doctor/slots/get/{dr_carol.pk}").status_code == 404
    assert patient.get("/api/slots/").json()["results"] == []
    assert patient.post(f"/api/doctor/appointment/{free.pk}").status_code == 404
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result == GenerationResult(dr_carol.pk, created=0, deleted=SLOTS_A_DAY * WEEK - 1, conflicts=1)
    assert list(Timetable.objects.filter(doctor=dr_carol).values_list("id", flat=True)) == [booked.pk]
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)


def test_an_unblocked_doctor_gets_their_slots_back(generated, dr_carol, now):
    user_block(user=dr_carol)
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    user_unblock(user=dr_carol)
    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result.created == SLOTS_A_DAY * WEEK
    assert Timetable.objects.filter(doctor=dr_carol, client__isnull=True).count() == SLOTS_A_DAY * WEEK


def test_a_user_who_is_no_longer_a_doctor_offers_no_slots(generated, dr_carol, now):
    user_update(user=dr_carol, groups=[Role.PATIENT])

    result = slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    assert result.deleted == SLOTS_A_DAY * WEEK
    assert not Timetable.objects.filter(doctor=dr_carol).exists()


# --- blocking a patient --------------------------------------------------------------------


def test_blocking_a_patient_releases_their_future_appointments(generated, dr_carol, alice, bob, monday):
    first = slot_book(slot_id=slot_at(dr_carol, monday, 9).pk, patient=alice)
    second = slot_book(slot_id=slot_at(dr_carol, monday, 11).pk, patient=alice)
    bobs = slot_book(slot_id=slot_at(dr_carol, monday, 10).pk, patient=bob)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    past = SlotFactory(
        doctor=dr_carol, client=alice, start_time=yesterday, stop_time=yesterday + datetime.timedelta(minutes=20)
    )

    user_block(user=alice)

    for slot in (first, second):
        slot.refresh_from_db()
        assert (slot.client, slot.booked_at, slot.conflict) == (None, None, False)
    past.refresh_from_db()
    assert past.client == alice  # history is not rewritten
    bobs.refresh_from_db()
    assert bobs.client == bob
    released = AppointmentEvent.objects.filter(action=AppointmentAction.RELEASED)
    assert sorted(released.values_list("slot_id", "patient_id", "doctor_id")) == [
        (first.pk, alice.pk, dr_carol.pk),
        (second.pk, alice.pk, dr_carol.pk),
    ]
    assert {(event.start_time, event.stop_time) for event in released} == {
        (first.start_time, first.stop_time),
        (second.start_time, second.stop_time),
    }


def test_blocking_a_patient_through_the_api_frees_their_slots_for_others(
    generated, dr_carol, alice, bob, admin_user, login, monday
):
    slot = slot_book(slot_id=slot_at(dr_carol, monday, 9).pk, patient=alice)

    response = login(admin_user).post(f"/api/user/blocking/{alice.pk}")

    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.is_active is False
    slot.refresh_from_db()
    assert slot.client is None
    assert AppointmentEvent.objects.filter(slot_id=slot.pk, action=AppointmentAction.RELEASED).count() == 1
    listed = [row["id"] for row in login(bob).get(f"/api/doctor/slots/get/{dr_carol.pk}").json()]
    assert slot.pk in listed
    assert login(bob).post(f"/api/doctor/appointment/{slot.pk}").status_code == 201


def test_a_released_appointment_that_left_the_plan_is_not_offered(
    generated, dr_carol, alice, bob, login, now, monday, run_tasks_here, django_capture_on_commit_callbacks
):
    slot = slot_book(slot_id=slot_at(dr_carol, monday, 10, 20).pk, patient=alice)
    absence_create(doctor=dr_carol, kind=AbsenceKind.SICK_LEAVE, start=local(monday, 10), end=local(monday, 11))
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    # The regeneration task runs in-process here, so a fix that regenerates on release passes as well.
    with django_capture_on_commit_callbacks(execute=True):
        user_block(user=alice)

    listed = [row["id"] for row in login(bob).get(f"/api/doctor/slots/get/{dr_carol.pk}").json()]
    assert slot.pk not in listed
    assert login(bob).post(f"/api/doctor/appointment/{slot.pk}").status_code != 201


def test_blocking_a_patient_without_appointments_records_nothing(alice):
    user_block(user=alice)

    assert not AppointmentEvent.objects.exists()


# --- what triggers regeneration ------------------------------------------------------------


def test_saving_a_schedule_enqueues_regeneration_on_commit(dr_carol, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        schedule_update(doctor=dr_carol, slot_minutes=30, working_hours=NINE_TO_ONE)
        assert sent == []  # nothing leaves before the commit

    assert sent == [{"args": [[dr_carol.pk]], "retry": False}]


def test_adding_and_deleting_an_absence_enqueue_regeneration_on_commit(
    carol_schedule, dr_carol, now, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        absence = absence_create(
            doctor=dr_carol, kind=AbsenceKind.VACATION, start=now, end=now + datetime.timedelta(days=1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        absence_delete(absence=absence)

    assert [call["args"] for call in sent] == [[[dr_carol.pk]], [[dr_carol.pk]]]


def test_nothing_is_enqueued_when_the_edit_rolls_back(dr_carol, sent, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        schedule_update(doctor=dr_carol, slot_minutes=30)
        raise RuntimeError("the request failed later on")

    assert callbacks == []
    assert sent == []


def test_an_invalid_schedule_enqueues_nothing(dr_carol, sent, django_capture_on_commit_callbacks):
    overlapping = [(0, datetime.time(9), datetime.time(12)), (0, datetime.time(11), datetime.time(14))]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidSchedule, match="overlap"):
        schedule_update(doctor=dr_carol, working_hours=overlapping)

    assert sent == []


def test_the_schedule_api_enqueues_regeneration(dr_carol, admin_user, login, sent, django_capture_on_commit_callbacks):
    hours = [{"weekday": 0, "start": "09:00", "end": "13:00"}]
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).put(
            f"/api/doctors/{dr_carol.pk}/schedule",
            {"slot_minutes": 15, "horizon_days": 14, "working_hours": hours},
            format="json",
        )

    assert response.status_code == 200
    assert [call["args"] for call in sent] == [[[dr_carol.pk]]]


def test_blocking_and_unblocking_a_doctor_enqueue_regeneration(
    carol_schedule, dr_carol, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_block(user=dr_carol)
    with django_capture_on_commit_callbacks(execute=True):
        user_unblock(user=dr_carol)

    assert [call["args"] for call in sent] == [[[dr_carol.pk]], [[dr_carol.pk]]]


def test_blocking_a_patient_without_a_schedule_enqueues_nothing(alice, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_block(user=alice)

    assert sent == []


def test_the_regeneration_task_reaches_the_broker(dr_carol, django_capture_on_commit_callbacks):
    from hospital.celery import app

    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        queue.clear()  # the in-memory transport is process-wide: drop what earlier tests sent
        with django_capture_on_commit_callbacks(execute=True):
            regeneration_enqueue(doctor_id=dr_carol.pk)
        message = queue.get(timeout=1)
        message.ack()

    assert message.headers["task"] == "appointments.generate_slots_for_doctors"
    args, kwargs, _ = message.decode()
    assert (args, kwargs) == ([[dr_carol.pk]], {})


def test_a_broker_outage_never_fails_the_schedule_request(
    dr_carol, admin_user, login, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.generate_slots_for_doctors, "apply_async", broker_down)
    hours = [{"weekday": 2, "start": "10:00", "end": "14:00"}]

    with (
        caplog.at_level(logging.WARNING, logger="appointments.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = login(admin_user).put(
            f"/api/doctors/{dr_carol.pk}/schedule",
            {"slot_minutes": 25, "horizon_days": 10, "working_hours": hours},
            format="json",
        )

    assert response.status_code == 200, response.json()
    schedule = DoctorSchedule.objects.get(doctor=dr_carol)
    assert (schedule.slot_minutes, schedule.horizon_days) == (25, 10)
    assert list(schedule.working_hours.values_list("weekday", "start", "end")) == [
        (2, datetime.time(10), datetime.time(14))
    ]
    assert "the sweep will catch up" in caplog.text


def test_a_broker_outage_never_fails_adding_an_absence(
    dr_carol, admin_user, login, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.generate_slots_for_doctors, "apply_async", broker_down)
    start = timezone.now() + datetime.timedelta(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(
            f"/api/doctors/{dr_carol.pk}/absences",
            {"kind": "vacation", "start": start.isoformat(), "end": (start + datetime.timedelta(days=3)).isoformat()},
            format="json",
        )

    assert response.status_code == 201, response.json()
    assert dr_carol.absences.count() == 1


# --- the Celery tasks ----------------------------------------------------------------------


def test_the_task_generates_the_slots_of_the_given_doctors(carol_schedule, dr_carol, dr_dave):
    every_day(ScheduleFactory(doctor=dr_dave, slot_minutes=60, horizon_days=2))

    summary = tasks.generate_slots_for_doctors.apply(args=[[dr_carol.pk, dr_dave.pk]]).get()

    carol_slots = Timetable.objects.filter(doctor=dr_carol).count()
    dave_slots = Timetable.objects.filter(doctor=dr_dave).count()
    assert carol_slots > 0
    assert dave_slots > 0
    assert summary == {"doctors": 2, "created": carol_slots + dave_slots, "deleted": 0, "conflicts": 0}
    # Idempotent: a redelivered message (acks_late) does nothing more.
    again = tasks.generate_slots_for_doctors.apply(args=[[dr_carol.pk, dr_dave.pk]]).get()
    assert again == {"doctors": 2, "created": 0, "deleted": 0, "conflicts": 0}


def test_the_sweep_fans_doctors_out_in_batches(settings, sent):
    settings.SLOT_GENERATION_BATCH_SIZE = 2
    working = [every_day(ScheduleFactory()).doctor for _ in range(5)]
    every_day(ScheduleFactory(doctor=DoctorFactory(is_active=False)))  # blocked
    ScheduleFactory()  # a doctor without working hours
    DoctorFactory()  # a doctor without a schedule
    every_day(ScheduleFactory(doctor=UserFactory(roles=[Role.PATIENT])))  # no longer a doctor

    summary = tasks.generate_slots_sweep.apply().get()

    assert summary == {"doctors": 5, "batches": 3}
    ids = sorted(doctor.pk for doctor in working)
    assert [call["args"] for call in sent] == [[ids[0:2]], [ids[2:4]], [ids[4:5]]]
    assert {call["expires"] for call in sent} == {settings.SLOT_GENERATION_INTERVAL}
    # The sweep only sends work; the workers generate.
    assert not Timetable.objects.exists()


def test_the_sweep_sends_nothing_when_no_doctor_works(dr_carol, sent):
    ScheduleFactory(doctor=dr_carol)

    assert tasks.generate_slots_sweep.apply().get() == {"doctors": 0, "batches": 0}
    assert sent == []


# --- manage.py generate_slots --------------------------------------------------------------


@pytest.fixture
def off_today():
    """Hours on every weekday but today's: no slot depends on the time of day the test runs at."""
    today = timezone.localdate().weekday()
    return [(weekday, datetime.time(9), datetime.time(13)) for weekday in range(7) if weekday != today]


def run_generate_slots(*args) -> str:
    out = io.StringIO()
    call_command("generate_slots", *args, stdout=out)
    return out.getvalue()


def test_the_command_generates_every_working_doctor_and_reports(dr_carol, dr_dave, off_today):
    schedule_update(doctor=dr_carol, horizon_days=WEEK, working_hours=off_today)
    schedule_update(doctor=dr_dave, horizon_days=WEEK, working_hours=off_today)

    assert run_generate_slots() == f"2 doctors: {2 * 6 * SLOTS_A_DAY} slots created, 0 deleted, 0 in conflict.\n"
    assert Timetable.objects.filter(doctor=dr_carol).count() == 6 * SLOTS_A_DAY
    assert Timetable.objects.filter(doctor=dr_dave).count() == 6 * SLOTS_A_DAY
    assert run_generate_slots() == "2 doctors: 0 slots created, 0 deleted, 0 in conflict.\n"


def test_the_command_generates_one_doctor(dr_carol, dr_dave, off_today):
    schedule_update(doctor=dr_carol, horizon_days=WEEK, working_hours=off_today)
    schedule_update(doctor=dr_dave, horizon_days=WEEK, working_hours=off_today)

    output = run_generate_slots("--doctor", str(dr_dave.pk))

    assert output == f"1 doctors: {6 * SLOTS_A_DAY} slots created, 0 deleted, 0 in conflict.\n"
    assert not Timetable.objects.filter(doctor=dr_carol).exists()
    assert Timetable.objects.filter(doctor=dr_dave).count() == 6 * SLOTS_A_DAY


def test_the_command_reports_deleted_and_conflicting_slots(dr_carol, alice, off_today):
    schedule_update(doctor=dr_carol, horizon_days=WEEK, working_hours=off_today)
    run_generate_slots()
    slot_book(slot_id=Timetable.objects.filter(doctor=dr_carol).first().pk, patient=alice)
    user_block(user=dr_carol)

    output = run_generate_slots("--doctor", str(dr_carol.pk))

    assert output == f"1 doctors: 0 slots created, {6 * SLOTS_A_DAY - 1} deleted, 1 in conflict.\n"
    assert Timetable.objects.filter(doctor=dr_carol).count() == 1


def test_the_command_refuses_an_unknown_doctor():
    with pytest.raises(CommandError, match="Doctor 987654 has no schedule"):
        run_generate_slots("--doctor", "987654")

    assert not Timetable.objects.exists()


def test_the_command_refuses_a_doctor_without_a_schedule(dr_carol):
    with pytest.raises(CommandError, match=f"Doctor {dr_carol.pk} has no schedule"):
        run_generate_slots("--doctor", str(dr_carol.pk))
