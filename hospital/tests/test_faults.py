"""Faults of the services around the API: the broker (Redis) down, the cache (Redis) down.

The API must keep serving, booking and saving schedule edits without the broker, never hang on
it, and the periodic sweep must catch up once it is back; an unreachable cache must not turn
logins into 500s. While the database is unreachable the API answers 503 with Retry-After, not a 500. (A PostgreSQL
restart under load is proven by bench/reliability/run.py: restarting the shared server here would
break the other tests.)
"""

import datetime
import logging
import time

import pytest
from django.db import connection
from django.utils import timezone

from appointments import tasks
from appointments.generation import doctor_plan, slots_generate_for_doctor
from appointments.models import Timetable, WorkingHours
from hospital.celery import app
from hospital.errors import DATABASE_RETRY_AFTER
from staff.tests.factories import PASSWORD

# serialized_rollback: the flush after each test would otherwise drop the role groups the
# migrations created. Real transactions: regeneration is enqueued on commit, inside the request.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Nothing listens on port 1: a connection is refused at once, like a Redis that has stopped.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
# The API must answer within this while the broker is down: a failed publish costs the broker
# connect timeout (CELERY_BROKER_CONNECTION_TIMEOUT, 2 s), never gunicorn's 30 s worker timeout.
# A bound on hanging, deliberately loose, not a benchmark (those live in bench/).
PROMPT_SECONDS = 5
MORNINGS = [{"weekday": day, "start": "09:00", "end": "12:00"} for day in range(7)]
EVENINGS = [{"weekday": day, "start": "15:00", "end": "17:00"} for day in range(7)]


@pytest.fixture
def broker_down(monkeypatch):
    """The broker is unreachable until the test calls the returned function to bring it back.

    Until then slot generation is published over a connection to a Redis that is not there,
    through Celery's own publish path (its connect timeout and retry settings apply), instead of
    over the tests' in-memory transport.
    """
    task = tasks.generate_slots_for_doctors
    publish = task.apply_async
    unreachable = app.connection_for_write(UNREACHABLE_REDIS)
    down = True

    def send(*args, **options):
        if down:
            options["connection"] = unreachable
        return publish(*args, **options)

    def bring_back():
        nonlocal down
        down = False

    monkeypatch.setattr(task, "apply_async", send)
    yield bring_back
    unreachable.release()


@pytest.fixture
def carol_slots(carol_schedule, dr_carol):
    """Dr Carol's slots of the coming week, generated from now as a worker would."""
    slots_generate_for_doctor(doctor_id=dr_carol.pk)


def _future_slots(doctor, after):
    return set(Timetable.objects.filter(doctor=doctor, start_time__gt=after).values_list("start_time", "stop_time"))


def _planned_slots(schedule, after):
    schedule.refresh_from_db()
    return {(slot.start, slot.stop) for slot in doctor_plan(schedule=schedule, now=after)}


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_schedule_edit_is_saved_promptly_while_the_broker_is_down(
    login, admin_user, dr_carol, carol_schedule, carol_slots, broker_down, caplog
):
    caplog.set_level(logging.WARNING, logger="appointments.services")
    response, seconds = _timed(
        lambda: login(admin_user).put(
            f"/api/doctors/{dr_carol.pk}/schedule",
            {"slot_minutes": 30, "horizon_days": 7, "working_hours": EVENINGS},
            format="json",
        )
    )
    assert response.status_code == 200, response.content
    assert seconds < PROMPT_SECONDS, f"the request waited {seconds:.1f} s for the broker"
    assert set(WorkingHours.objects.filter(schedule=carol_schedule).values_list("start", flat=True)) == {
        datetime.time(15)
    }
    assert "the sweep will catch up" in caplog.text


def test_the_api_serves_and_books_while_the_broker_is_down(
    login, alice, admin_user, dr_carol, bob, carol_slots, broker_down
):
    patient = login(alice)
    free, seconds = _timed(lambda: patient.get(f"/api/doctor/slots/get/{dr_carol.pk}"))
    assert free.status_code == 200
    assert seconds < PROMPT_SECONDS
    slot_id = free.json()[0]["id"]

    booked, seconds = _timed(lambda: patient.post(f"/api/doctor/appointment/{slot_id}"))
    assert booked.status_code == 201, booked.content
    assert seconds < PROMPT_SECONDS
    assert Timetable.objects.get(pk=slot_id).client == alice

    cancelled = patient.post(f"/api/doctor/appointment/undo/{slot_id}")
    assert cancelled.status_code == 200
    assert Timetable.objects.get(pk=slot_id).client is None

    administrator = login(admin_user)
    start = timezone.now() + datetime.timedelta(days=30)
    absence, seconds = _timed(
        lambda: administrator.post(
            f"/api/doctors/{dr_carol.pk}/absences",
            {"kind": "break", "start": start.isoformat(), "end": (start + datetime.timedelta(hours=1)).isoformat()},
            format="json",
        )
    )
    assert absence.status_code == 201, absence.content
    assert seconds < PROMPT_SECONDS
    blocked, seconds = _timed(lambda: administrator.post(f"/api/user/blocking/{bob.pk}"))
    assert blocked.status_code == 200
    assert seconds < PROMPT_SECONDS


def test_the_sweep_catches_up_once_the_broker_is_back(
    login, admin_user, dr_carol, carol_schedule, carol_slots, broker_down, caplog
):
    before_edit = timezone.now()
    old_plan = _future_slots(dr_carol, before_edit)
    response = login(admin_user).put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 20, "horizon_days": 7, "working_hours": EVENINGS},
        format="json",
    )
    assert response.status_code == 200
    # Nothing could be enqueued: the slots still follow the old hours.
    assert _future_slots(dr_carol, before_edit) == old_plan

    bring_broker_back = broker_down
    bring_broker_back()
    caplog.clear()
    # The beat's periodic sweep, with its batches run in process as a worker would run them.
    app.conf.task_always_eager = True
    try:
        summary = tasks.generate_slots_sweep.delay().get()
    finally:
        app.conf.task_always_eager = False

    assert summary["doctors"] >= 1
    now = timezone.now()
    assert _future_slots(dr_carol, now) == _planned_slots(carol_schedule, now)
    assert {start.astimezone(timezone.get_current_timezone()).hour for start, _ in _future_slots(dr_carol, now)} <= {
        15,
        16,
    }
    assert "Could not enqueue" not in caplog.text


def test_an_edit_after_the_broker_returns_is_enqueued_again(
    login, admin_user, dr_carol, carol_slots, broker_down, caplog, monkeypatch
):
    sent = []
    publish = tasks.generate_slots_for_doctors.apply_async

    def recording(*args, **kwargs):
        sent.append(kwargs["args"])
        return publish(*args, **kwargs)

    monkeypatch.setattr(tasks.generate_slots_for_doctors, "apply_async", recording)
    bring_broker_back = broker_down
    bring_broker_back()
    caplog.set_level(logging.WARNING, logger="appointments.services")
    response = login(admin_user).put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 30, "horizon_days": 7, "working_hours": MORNINGS},
        format="json",
    )
    assert response.status_code == 200
    assert sent == [[[dr_carol.pk]]]
    assert "Could not enqueue" not in caplog.text


@pytest.fixture
def cache_down(settings):
    """The cache is the production fail-open Redis cache, pointed at a Redis that is not there."""
    settings.CACHES = {
        "default": {
            "BACKEND": "hospital.cache.FailOpenRedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_login_works_while_the_cache_is_down(api, alice, cache_down):
    response, seconds = _timed(
        lambda: api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json")
    )
    assert response.status_code == 200, response.content
    assert response.json()["token"]
    assert seconds < PROMPT_SECONDS


def test_wrong_passwords_are_still_refused_while_the_cache_is_down(api, alice, cache_down):
    # The throttle counts nothing without its cache, but the lockout (kept in the database) and
    # the password check still refuse: 400, then 429 once the username is locked out.
    statuses = [
        api.post("/api/token", {"username": "alice", "password": "wrong"}, format="json").status_code for _ in range(7)
    ]
    assert set(statuses) <= {400, 429}
    assert statuses[0] == 400


@pytest.mark.postgres
def test_the_api_answers_503_while_the_database_is_unreachable(login, alice):
    client = login(alice)
    # A real unreachable server: this connection is reopened against a port nobody listens on.
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response, seconds = _timed(lambda: client.get("/api/me"))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert response.json()["code"] == "unavailable"
    assert seconds < PROMPT_SECONDS
    # And the next request, with the database back, is served on a fresh connection.
    assert client.get("/api/me").status_code == 200
