"""Races on PostgreSQL: many patients on one slot, generator runs against each other and against bookings."""

import datetime
import random
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from appointments import tasks
from appointments.generation import doctor_plan, slots_generate_for_doctor
from appointments.models import AppointmentAction, AppointmentEvent, Timetable
from appointments.services import schedule_update, slot_book, slot_cancel
from appointments.tests.factories import ScheduleFactory, every_day, local
from staff.roles import Role
from staff.tests.factories import UserFactory

# serialized_rollback: the flush after each test would otherwise drop the role groups the
# migrations created, which later tests in the same run may rely on.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Regeneration requests are recorded, not sent: the tests run the generator themselves.
    pytest.mark.usefixtures("sent"),
]

BARRIER_TIMEOUT = 30  # seconds; a thread that dies breaks the barrier instead of hanging the run
HOURS = [(weekday, datetime.time(9), datetime.time(13)) for weekday in range(7)]
MORNING_ONLY = [(weekday, datetime.time(9), datetime.time(10)) for weekday in range(7)]


def run_together(*functions):
    """Call each function in its own thread and connection, released at once; return results or exceptions."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            results[index] = function()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class InterleavingFailed(RuntimeError):
    """The scripted interleaving itself broke: not the failure the test is about."""


def generate_while_uncommitted(change, generate):
    """Run `change` in a transaction left open, run `generate` until it waits on the change's row lock, commit.

    This pins the interleaving that a race hits only now and then: the generator reads the slots
    before the change commits, and writes after it has.
    """
    changed, commit = threading.Event(), threading.Event()
    outcome = {}

    def hold():
        try:
            with transaction.atomic():
                change()
                changed.set()
                if not commit.wait(timeout=BARRIER_TIMEOUT):
                    raise InterleavingFailed("never told to commit")
        except Exception as error:
            outcome["change"] = error
        finally:
            changed.set()
            connection.close()

    def run_generator():
        try:
            outcome["result"] = generate()
        except Exception as error:
            outcome["result"] = error
        finally:
            connection.close()

    holder, generator = threading.Thread(target=hold), threading.Thread(target=run_generator)
    holder.start()
    changed.wait(timeout=BARRIER_TIMEOUT)
    generator.start()
    try:
        # Until the generator blocks on a lock of this database (the held row), or ends without.
        deadline = time.monotonic() + BARRIER_TIMEOUT
        with connection.cursor() as cursor:
            while generator.is_alive() and time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.005)
    finally:
        commit.set()
        holder.join()
        generator.join()
    if "change" in outcome or isinstance(outcome.get("result"), Exception):
        raise InterleavingFailed(outcome)
    return outcome["result"]


@pytest.fixture
def working_doctor(now):
    """A doctor working 09:00-13:00 every day in 20-minute slots, a week of slots generated."""
    schedule = every_day(ScheduleFactory(slot_minutes=20, horizon_days=7))
    slots_generate_for_doctor(doctor_id=schedule.doctor_id, now=now)
    return schedule.doctor


def test_exactly_one_of_32_patients_wins_each_of_50_slots(working_doctor, login):
    clients_count, slots_count = 32, 50
    patients = [UserFactory(roles=[Role.PATIENT]) for _ in range(clients_count)]
    clients = [login(patient) for patient in patients]
    slot_ids = list(Timetable.objects.filter(doctor=working_doctor).values_list("id", flat=True)[:slots_count])
    assert len(slot_ids) == slots_count
    barrier = threading.Barrier(clients_count)
    outcomes = {slot_id: {} for slot_id in slot_ids}  # slot -> patient index -> (status, code)
    errors = []

    def patient_thread(index):
        # One thread per patient, each with its own API client, token and database connection;
        # every round they all ask for the same slot at once.
        try:
            for slot_id in slot_ids:
                barrier.wait(timeout=BARRIER_TIMEOUT)
                response = clients[index].post(f"/api/doctor/appointment/{slot_id}")
                outcomes[slot_id][index] = (response.status_code, response.json().get("code"))
        except Exception as error:
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=patient_thread, args=(index,)) for index in range(clients_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for slot_id, answers in outcomes.items():
        statuses = Counter(status for status, _ in answers.values())
        assert statuses == {201: 1, 409: clients_count - 1}, (slot_id, statuses)
        assert {code for status, code in answers.values() if status == 409} == {"slot_taken"}
        (winner,) = [index for index, (status, _) in answers.items() if status == 201]
        slot = Timetable.objects.get(pk=slot_id)
        assert slot.client_id == patients[winner].pk
        assert slot.booked_at is not None
        booked = AppointmentEvent.objects.filter(slot_id=slot_id, action=AppointmentAction.BOOKED)
        assert list(booked.values_list("patient_id", flat=True)) == [patients[winner].pk]


def test_concurrent_generation_runs_for_one_doctor_neither_duplicate_nor_fail(now):
    schedule = ScheduleFactory(slot_minutes=20, horizon_days=14)
    doctor = schedule.doctor
    runs = 4
    for attempt in range(10):
        # Alternate the hours so that the racing runs insert on one round and delete on the next.
        schedule_update(doctor=doctor, working_hours=HOURS if attempt % 2 == 0 else MORNING_ONLY)
        schedule.refresh_from_db()
        plan = {(slot.start, slot.stop) for slot in doctor_plan(schedule=schedule, now=now)}
        before = Timetable.objects.filter(doctor=doctor).count()

        results = run_together(*[lambda: slots_generate_for_doctor(doctor_id=doctor.pk, now=now)] * runs)

        assert [result for result in results if isinstance(result, Exception)] == []
        rows = set(Timetable.objects.filter(doctor=doctor).values_list("start_time", "stop_time"))
        assert rows == plan
        assert Timetable.objects.filter(doctor=doctor).count() == len(plan)
        # The schedule lock serialises the runs: one does the work, the others find nothing to do.
        assert sum(result.created for result in results) - sum(result.deleted for result in results) == (
            len(plan) - before
        )
        assert sorted(result.created + result.deleted for result in results)[:-1] == [0] * (runs - 1)


def test_overlapping_batches_in_opposite_orders_neither_deadlock_nor_duplicate():
    schedules = [ScheduleFactory(slot_minutes=20, horizon_days=14) for _ in range(4)]
    ids = [schedule.doctor_id for schedule in schedules]
    for attempt in range(6):
        hours = HOURS if attempt % 2 == 0 else MORNING_ONLY
        for schedule in schedules:
            schedule_update(doctor=schedule.doctor, working_hours=hours)

        # Two sweeps' batches that share doctors, handed over in opposite orders (the task plans
        # from the real clock).
        results = run_together(
            lambda: tasks.generate_slots_for_doctors.run(ids),
            lambda: tasks.generate_slots_for_doctors.run(ids[::-1]),
        )

        assert [result for result in results if isinstance(result, Exception)] == []
        # Compare the next seven days: inside the fortnight whatever the clock did meanwhile.
        since = timezone.now()
        until = since + datetime.timedelta(days=7)
        for schedule in schedules:
            schedule.refresh_from_db()
            plan = {(slot.start, slot.stop) for slot in doctor_plan(schedule=schedule, now=since) if slot.start < until}
            rows = set(
                Timetable.objects.filter(
                    doctor_id=schedule.doctor_id, start_time__gt=since, start_time__lt=until
                ).values_list("start_time", "stop_time")
            )
            assert rows == plan
            assert len(plan) >= 6 * (12 if hours is HOURS else 3)


def test_concurrent_generation_runs_for_different_doctors_all_complete(now):
    doctors = [every_day(ScheduleFactory(slot_minutes=20, horizon_days=7)).doctor for _ in range(6)]

    results = run_together(
        *[lambda pk=doctor.pk: slots_generate_for_doctor(doctor_id=pk, now=now) for doctor in doctors]
    )

    assert [result.created for result in results] == [12 * 7] * len(doctors)
    for doctor in doctors:
        assert Timetable.objects.filter(doctor=doctor).count() == 12 * 7


def test_a_booking_racing_a_regeneration_that_drops_its_slot_never_wins_a_vanished_slot(
    working_doctor, login, now, monday
):
    patient = UserFactory(roles=[Role.PATIENT])
    client = login(patient)
    rng = random.Random(20240601)
    # The race targets the slots 10:00-13:00 that the morning-only hours drop; each round books another.
    targets = [
        local(monday + datetime.timedelta(days=day), hour, minute)
        for day in range(7)
        for hour in (10, 11, 12)
        for minute in (0, 20, 40)
    ]
    rounds = 60
    outcomes = Counter()
    unflagged_right_after = 0
    for attempt, start in enumerate(targets[:rounds]):
        schedule_update(doctor=working_doctor, working_hours=HOURS)
        slots_generate_for_doctor(doctor_id=working_doctor.pk, now=now)
        slot_id = Timetable.objects.get(doctor=working_doctor, start_time=start, client__isnull=True).pk
        # Jitter one side or the other so the race lands on every step of the generator.
        delay = rng.random() * 0.02
        booking_delay, regeneration_delay = (delay, 0) if attempt % 2 else (0, delay)

        def book(slot_id=slot_id, delay=booking_delay):
            time.sleep(delay)
            return client.post(f"/api/doctor/appointment/{slot_id}")

        def regenerate(delay=regeneration_delay):
            time.sleep(delay)
            schedule_update(doctor=working_doctor, working_hours=MORNING_ONLY)
            return slots_generate_for_doctor(doctor_id=working_doctor.pk, now=now)

        response, result = run_together(book, regenerate)

        assert not isinstance(response, Exception), response
        assert not isinstance(result, Exception), result
        slot = Timetable.objects.filter(pk=slot_id).first()
        if response.status_code == 201:
            outcomes["booked, then flagged"] += 1
            assert slot is not None, "201 for a slot that no longer exists"
            assert slot.client_id == patient.pk
            # The run that dropped the slot from the plan flags it even when the booking won the race.
            unflagged_right_after += not slot.conflict
            slots_generate_for_doctor(doctor_id=working_doctor.pk, now=now)
            slot.refresh_from_db()
            assert (slot.client_id, slot.conflict) == (patient.pk, True)
        else:
            outcomes["regenerated away"] += 1
            assert response.status_code in (404, 409), response.json()
            assert slot is None or slot.client_id is None
            assert not AppointmentEvent.objects.filter(slot_id=slot_id, action=AppointmentAction.BOOKED).exists()
        assert not Timetable.objects.filter(doctor=working_doctor, client__isnull=True, conflict=True).exists()
    print(f"booking vs regeneration: {dict(outcomes)}; {unflagged_right_after} booked slots unflagged right after")
    assert unflagged_right_after == 0


def test_a_slot_booked_while_the_generator_drops_it_is_flagged_conflict(working_doctor, now, monday):
    patient = UserFactory(roles=[Role.PATIENT])
    slot = Timetable.objects.get(doctor=working_doctor, start_time=local(monday, 12))
    schedule_update(doctor=working_doctor, working_hours=MORNING_ONLY)

    # The generator reads the slot as free and leaving the plan; its DELETE waits for the booking.
    generate_while_uncommitted(
        change=lambda: slot_book(slot_id=slot.pk, patient=patient),
        generate=lambda: slots_generate_for_doctor(doctor_id=working_doctor.pk, now=now),
    )

    slot.refresh_from_db()
    assert slot.client_id == patient.pk
    assert slot.conflict is True


def test_a_slot_cancelled_while_the_generator_flags_it_is_not_offered(working_doctor, now, monday, monkeypatch):
    patient = UserFactory(roles=[Role.PATIENT])
    slot = Timetable.objects.get(doctor=working_doctor, start_time=local(monday, 12))
    slot_book(slot_id=slot.pk, patient=patient)
    schedule_update(doctor=working_doctor, working_hours=MORNING_ONLY)
    # Regeneration runs in-process where it is sent, so a fix that regenerates on cancel passes too.
    task = tasks.generate_slots_for_doctors
    monkeypatch.setattr(task, "apply_async", lambda args=None, kwargs=None, **options: task.apply(args, kwargs))

    # The generator reads the slot as booked and leaving the plan; its UPDATE waits for the cancel.
    generate_while_uncommitted(
        change=lambda: slot_cancel(slot_id=slot.pk, patient=patient),
        generate=lambda: slots_generate_for_doctor(doctor_id=working_doctor.pk, now=now),
    )

    assert not Timetable.objects.filter(pk=slot.pk, client__isnull=True).exists()


def test_one_patient_booking_two_overlapping_slots_concurrently_gets_at_most_one(now, login):
    carol = every_day(ScheduleFactory(slot_minutes=20, horizon_days=7)).doctor
    dave = every_day(ScheduleFactory(slot_minutes=30, horizon_days=7)).doctor
    slots_generate_for_doctor(doctor_id=carol.pk, now=now)
    slots_generate_for_doctor(doctor_id=dave.pk, now=now)
    patient = UserFactory(roles=[Role.PATIENT])
    # Two devices of one patient: two tokens, two clients, two connections.
    phone, laptop = login(patient), login(patient)
    # On the hour both doctors start a slot: Carol's 20 minutes overlap Dave's 30. Different hours
    # never overlap, so every round is a fresh race.
    carol_slots = {slot.start_time: slot.pk for slot in Timetable.objects.filter(doctor=carol)}
    pairs = [
        (carol_slots[slot.start_time], slot.pk)
        for slot in Timetable.objects.filter(doctor=dave).order_by("start_time")
        if slot.start_time.minute == 0 and slot.start_time in carol_slots
    ]
    assert len(pairs) == 4 * 7

    for carol_slot, dave_slot in pairs:
        first, second = run_together(
            lambda slot_id=carol_slot: phone.post(f"/api/doctor/appointment/{slot_id}"),
            lambda slot_id=dave_slot: laptop.post(f"/api/doctor/appointment/{slot_id}"),
        )

        assert sorted([first.status_code, second.status_code]) == [201, 409], (first.json(), second.json())
        loser = first if first.status_code == 409 else second
        assert loser.json()["code"] == "overlapping_appointment"
        assert Timetable.objects.filter(pk__in=[carol_slot, dave_slot], client=patient).count() == 1

    mine = list(Timetable.objects.filter(client=patient).order_by("start_time"))
    assert len(mine) == len(pairs)
    for earlier, later in zip(mine, mine[1:], strict=False):
        assert earlier.stop_time <= later.start_time
