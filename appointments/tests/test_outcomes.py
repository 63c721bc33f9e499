"""Appointment outcomes: statuses and transitions by role, the clinic's cancel, the history, the no-show task."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import outcomes, tasks
from appointments.models import AppointmentAction, AppointmentEvent, AppointmentStatus, Timetable
from appointments.outcomes import NOT_STARTED, appointments_mark_no_shows
from appointments.services import APPOINTMENT_STARTED, slot_book
from appointments.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

STEPS = ("arrive", "fulfil", "no-show")


def at(hours: float, minutes: int = 20):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=hours)
    return {"start_time": start, "stop_time": start + datetime.timedelta(minutes=minutes)}


def appointment(doctor, patient, hours=24, status=AppointmentStatus.BOOKED, **extra):
    return SlotFactory(doctor=doctor, client=patient, status=status, booked_at=timezone.now(), **at(hours), **extra)


def post(client, slot, step, body=None):
    return client.post(f"/api/appointments/{slot.pk}/{step}", body, format="json")


def events(slot) -> list[tuple]:
    return list(
        AppointmentEvent.objects.filter(slot_id=slot.pk)
        .order_by("id")
        .values_list("action", "actor__username", "cancelled_by", "reason")
    )


# --- transitions --------------------------------------------------------------------------------------


def test_the_doctor_walks_an_appointment_from_booked_through_arrived_to_fulfilled(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=-0.1)
    doctor = login(dr_carol)

    arrived = post(doctor, slot, "arrive")
    fulfilled = post(doctor, slot, "fulfil")

    assert arrived.status_code == 200 and arrived.json()["status"] == "arrived"
    assert fulfilled.status_code == 200
    assert fulfilled.json() == {
        "id": slot.pk,
        "doctor": dr_carol.pk,
        "client": alice.pk,
        "start_time": timezone.localtime(slot.start_time).isoformat(),
        "stop_time": timezone.localtime(slot.stop_time).isoformat(),
        "status": "fulfilled",
    }
    slot.refresh_from_db()
    assert (slot.client, slot.status) == (alice, "fulfilled")
    assert events(slot) == [("arrived", "dr_carol", None, ""), ("fulfilled", "dr_carol", None, "")]


def test_a_patient_may_arrive_early(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=2)

    response = post(login(dr_carol), slot, "arrive")

    assert response.status_code == 200
    assert Timetable.objects.get(pk=slot.pk).status == "arrived"


def test_an_administrator_marks_a_started_appointment_no_show(login, admin_user, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=-1)

    response = post(login(admin_user), slot, "no-show")

    assert (response.status_code, response.json()["status"]) == (200, "noshow")
    assert Timetable.objects.get(pk=slot.pk).status == "noshow"
    assert events(slot) == [("noshow", "admin", None, "")]


@pytest.mark.parametrize(
    ("step", "status"),
    [
        ("arrive", "arrived"),
        ("arrive", "fulfilled"),
        ("arrive", "noshow"),
        ("fulfil", "booked"),
        ("fulfil", "fulfilled"),
        ("fulfil", "noshow"),
        ("no-show", "arrived"),
        ("no-show", "fulfilled"),
        ("no-show", "noshow"),
        ("cancel", "arrived"),
        ("cancel", "fulfilled"),
    ],
)
def test_a_step_from_the_wrong_status_is_409_invalid_transition(login, admin_user, dr_carol, alice, step, status):
    # Started an hour ago (no-show's time check passes), except a cancel's: a future appointment.
    slot = appointment(dr_carol, alice, hours=2 if step == "cancel" else -1, status=status)

    response = post(login(admin_user), slot, step, {"reason": "x"})

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Timetable.objects.get(pk=slot.pk).status == status
    assert events(slot) == []


def test_no_show_before_the_start_is_400_not_started(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=1)

    response = post(login(dr_carol), slot, "no-show")

    assert response.status_code == 400
    assert response.json() == {"detail": str(NOT_STARTED), "code": "not_started"}
    assert Timetable.objects.get(pk=slot.pk).status == "booked"


@pytest.mark.parametrize("step", [*STEPS, "cancel"])
def test_a_patient_gets_403_even_on_their_own_appointment(login, dr_carol, alice, step):
    slot = appointment(dr_carol, alice, hours=-1 if step != "cancel" else 2)

    response = post(login(alice), slot, step, {"reason": "x"})

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Timetable.objects.get(pk=slot.pk).status == "booked"


@pytest.mark.parametrize("step", [*STEPS, "cancel"])
def test_another_doctor_gets_404_as_if_it_did_not_exist(login, dr_carol, dr_dave, alice, step):
    slot = appointment(dr_carol, alice, hours=-1 if step != "cancel" else 2)

    response = post(login(dr_dave), slot, step, {"reason": "x"})

    assert (response.status_code, response.json()["code"]) == (404, "appointment_not_found")
    slot.refresh_from_db()
    assert (slot.client, slot.status) == (alice, "booked")


@pytest.mark.parametrize("step", [*STEPS, "cancel"])
def test_a_free_or_unknown_slot_is_404(login, admin_user, dr_carol, step):
    free = SlotFactory(doctor=dr_carol, **at(-1))
    client = login(admin_user)

    assert post(client, free, step, {"reason": "x"}).status_code == 404
    assert client.post(f"/api/appointments/{free.pk + 1000}/{step}", {"reason": "x"}, format="json").status_code == 404
    assert Timetable.objects.get(pk=free.pk).status is None


@pytest.mark.parametrize("step", [*STEPS, "cancel"])
def test_every_path_also_answers_with_a_trailing_slash(login, admin_user, dr_carol, alice, step):
    slot = appointment(dr_carol, alice, hours=-1 if step != "cancel" else 2)
    if step == "fulfil":
        Timetable.objects.filter(pk=slot.pk).update(status="arrived")

    response = login(admin_user).post(f"/api/appointments/{slot.pk}/{step}/", {"reason": "x"}, format="json")

    assert response.status_code == 200


def test_anonymous_callers_get_401(api, dr_carol, alice):
    slot = appointment(dr_carol, alice)

    assert post(api, slot, "arrive").status_code == 401


# --- cancelling ---------------------------------------------------------------------------------------


def test_the_clinic_cancels_with_a_reason_and_the_slot_is_free_again(login, admin_user, dr_carol, alice, bob):
    slot = appointment(dr_carol, alice, hours=3)

    response = post(login(admin_user), slot, "cancel", {"reason": "The doctor is ill"})

    assert response.status_code == 200
    assert response.json()["client"] is None and response.json()["status"] is None
    slot.refresh_from_db()
    assert (slot.client, slot.status, slot.booked_at) == (None, None, None)
    assert events(slot) == [("cancelled", "admin", "clinic", "The doctor is ill")]
    # Free again: another patient books it.
    assert login(bob).post(f"/api/doctor/appointment/{slot.pk}").status_code == 201


def test_the_slots_doctor_may_cancel_too(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=3)

    response = post(login(dr_carol), slot, "cancel", {"reason": "On call at the hospital"})

    assert response.status_code == 200
    assert events(slot) == [("cancelled", "dr_carol", "clinic", "On call at the hospital")]


@pytest.mark.parametrize(
    "body",
    [None, {}, {"reason": ""}, {"reason": "   "}, {"reason": None}, {"reason": 5}, {"reason": "x" * 501}],
    ids=["no-body", "empty", "blank", "spaces", "null", "number", "too-long"],
)
def test_a_cancel_without_a_proper_reason_is_a_field_error(login, admin_user, dr_carol, alice, body):
    slot = appointment(dr_carol, alice, hours=3)

    response = post(login(admin_user), slot, "cancel", body)

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert Timetable.objects.get(pk=slot.pk).client == alice
    assert events(slot) == []


def test_a_reason_of_500_characters_is_kept_whole(login, admin_user, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=3)

    assert post(login(admin_user), slot, "cancel", {"reason": "x" * 500}).status_code == 200
    assert AppointmentEvent.objects.get(slot_id=slot.pk).reason == "x" * 500


@pytest.mark.parametrize("status", ["booked", "noshow"])
def test_the_clinic_cannot_cancel_a_started_appointment(login, admin_user, dr_carol, alice, status):
    slot = appointment(dr_carol, alice, hours=-0.1, status=status)

    response = post(login(admin_user), slot, "cancel", {"reason": "Too late"})

    assert response.status_code == 400
    assert response.json() == {"detail": str(APPOINTMENT_STARTED), "code": "appointment_started"}
    assert Timetable.objects.get(pk=slot.pk).client == alice


def test_the_patients_own_cancel_is_recorded_as_the_patients(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=3)

    response = login(alice).post(f"/api/doctor/appointment/undo/{slot.pk}")

    assert response.status_code == 200
    assert (response.json()["client"], response.json()["status"]) == (None, None)
    assert events(slot) == [("cancelled", "alice", "patient", "")]


def test_a_patient_who_has_arrived_early_cannot_cancel_online(login, dr_carol, alice):
    slot = appointment(dr_carol, alice, hours=1, status=AppointmentStatus.ARRIVED)

    response = login(alice).post(f"/api/doctor/appointment/undo/{slot.pk}")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Timetable.objects.get(pk=slot.pk).status == "arrived"


def test_a_blocked_patients_released_appointments_are_recorded_as_released_not_cancelled(login, admin_user, dr_carol):
    from staff.roles import Role
    from staff.tests.factories import UserFactory

    zoe = UserFactory(username="zoe", roles=[Role.PATIENT])
    slot = appointment(dr_carol, zoe, hours=3)

    assert login(admin_user).post(f"/api/user/blocking/{zoe.pk}").status_code == 200

    slot.refresh_from_db()
    assert (slot.client, slot.status) == (None, None)
    assert events(slot) == [("released", "admin", None, "")]


# --- statuses in the lists ----------------------------------------------------------------------------


def test_booking_gives_the_status_booked(login, dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol, **at(5))

    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}")

    assert response.json()["status"] == "booked"
    assert Timetable.objects.get(pk=slot.pk).status == "booked"


def test_the_appointment_list_shows_and_filters_by_status(login, admin_user, dr_carol, alice, bob):
    booked = appointment(dr_carol, alice, hours=5)
    missed = appointment(dr_carol, bob, hours=-5, status=AppointmentStatus.NOSHOW)
    done = appointment(dr_carol, alice, hours=-3, status=AppointmentStatus.FULFILLED)
    client = login(admin_user)

    def listed(query=""):
        response = client.get(f"/api/appointments/?date_from=2000-01-01{query}")
        assert response.status_code == 200, response.json()
        return {row["id"]: row["status"] for row in response.json()["results"]}

    assert listed() == {booked.pk: "booked", missed.pk: "noshow", done.pk: "fulfilled"}
    assert listed("&status=noshow") == {missed.pk: "noshow"}
    assert listed("&status=booked") == {booked.pk: "booked"}
    assert listed("&status=arrived") == {}


@pytest.mark.parametrize("value", ["", "missed", "NOSHOW", "booked,noshow"])
def test_the_status_filter_is_strict(login, admin_user, value):
    response = login(admin_user).get("/api/appointments/", {"status": value})

    assert response.status_code == 400
    assert "status" in response.json()["fields"]


# --- the database holds the invariant -----------------------------------------------------------------


def test_a_free_slot_cannot_have_a_status_nor_a_booked_one_lack_it(dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol, **at(5))

    with pytest.raises(IntegrityError), transaction.atomic():
        Timetable.objects.filter(pk=slot.pk).update(status="booked")
    with pytest.raises(IntegrityError), transaction.atomic():
        Timetable.objects.filter(pk=slot.pk).update(client=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Timetable.objects.filter(pk=slot.pk).update(client=alice, status="cancelled")


def test_a_cancellation_always_says_by_whom(dr_carol, alice):
    slot = appointment(dr_carol, alice)
    row = {
        "slot_id": slot.pk,
        "doctor": dr_carol,
        "patient": alice,
        "start_time": slot.start_time,
        "stop_time": slot.stop_time,
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentEvent.objects.create(action=AppointmentAction.CANCELLED, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentEvent.objects.create(action=AppointmentAction.BOOKED, cancelled_by="patient", **row)


# --- the no-show task ---------------------------------------------------------------------------------


def test_the_no_show_task_marks_what_is_still_booked_that_long_after_its_end(settings, dr_carol, alice, bob):
    settings.NO_SHOW_AFTER_MINUTES = 30
    now = timezone.now()
    ended_long_ago = appointment(dr_carol, alice, hours=-2)  # ended 1 h 40 min ago
    ended_just_now = appointment(dr_carol, bob, hours=-0.5)  # ended 10 min ago: not yet
    arrived = appointment(dr_carol, bob, hours=-3, status=AppointmentStatus.ARRIVED)
    free = SlotFactory(doctor=dr_carol, **at(-4))

    assert tasks.mark_no_shows.run() == {"marked": 1}

    statuses = dict(Timetable.objects.values_list("pk", "status"))
    assert statuses == {ended_long_ago.pk: "noshow", ended_just_now.pk: "booked", arrived.pk: "arrived", free.pk: None}
    [event] = AppointmentEvent.objects.all()
    assert (event.action, event.slot_id, event.patient, event.actor) == ("noshow", ended_long_ago.pk, alice, None)
    assert event.at >= now


def test_the_no_show_task_is_idempotent(settings, dr_carol, alice):
    settings.NO_SHOW_AFTER_MINUTES = 0
    slots = [appointment(dr_carol, alice, hours=-hours) for hours in (2, 3, 4)]

    assert tasks.mark_no_shows.run() == {"marked": 3}
    assert tasks.mark_no_shows.run() == {"marked": 0}

    assert set(Timetable.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)) == {"noshow"}
    assert AppointmentEvent.objects.filter(action="noshow").count() == 3


def test_the_no_show_task_is_off_by_default(settings, dr_carol, alice):
    assert settings.NO_SHOW_AFTER_MINUTES is None
    slot = appointment(dr_carol, alice, hours=-48)

    assert tasks.mark_no_shows.run() == {"marked": 0}
    assert Timetable.objects.get(pk=slot.pk).status == "booked"


def test_the_no_show_sweep_works_in_batches(monkeypatch, dr_carol, alice, bob):
    monkeypatch.setattr(outcomes, "NO_SHOW_BATCH", 2)
    for hours in range(2, 7):
        appointment(dr_carol, alice if hours % 2 else bob, hours=-hours)

    assert appointments_mark_no_shows(after_minutes=0) == 5
    assert not Timetable.objects.filter(status="booked").exists()


def test_the_no_show_task_is_scheduled_by_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["mark-no-shows"]

    assert entry["task"] == tasks.mark_no_shows.name == "appointments.mark_no_shows"


def test_a_marked_no_show_cannot_then_arrive(login, settings, dr_carol, alice):
    settings.NO_SHOW_AFTER_MINUTES = 0
    slot = appointment(dr_carol, alice, hours=-2)
    appointments_mark_no_shows()

    response = post(login(dr_carol), slot, "arrive")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_an_admin_booking_and_the_clinic_cancel_share_the_services(dr_carol, alice, admin_user):
    slot = SlotFactory(doctor=dr_carol, **at(6))
    slot_book(slot_id=slot.pk, patient=alice, actor=admin_user)

    outcomes.appointment_cancel(slot_id=slot.pk, actor=admin_user, reason="  Rescheduled by phone  ")

    assert events(slot)[-1] == ("cancelled", "admin", "clinic", "Rescheduled by phone")
    with pytest.raises(outcomes.ReasonRequired):
        outcomes.appointment_cancel(slot_id=slot.pk, actor=admin_user, reason="   ")


# --- the admin's Timetable ----------------------------------------------------------------------------


def test_the_admin_marks_outcomes_through_the_services(staff_client, admin_user, dr_carol, alice, bob):
    from appointments.tests.test_admin import page_messages, run_action

    came = appointment(dr_carol, alice, hours=-1)
    missed = appointment(dr_carol, bob, hours=-2)
    free = SlotFactory(doctor=dr_carol, **at(-3))

    arrived = run_action(staff_client, "mark_arrived", [came, free])
    run_action(staff_client, "mark_fulfilled", [came])
    run_action(staff_client, "mark_no_show", [missed])
    again = run_action(staff_client, "mark_no_show", [missed])

    statuses = dict(Timetable.objects.values_list("pk", "status"))
    assert statuses == {came.pk: "fulfilled", missed.pk: "noshow", free.pk: None}
    assert events(came) == [("arrived", "admin", None, ""), ("fulfilled", "admin", None, "")]
    assert events(missed) == [("noshow", "admin", None, "")]
    assert "1 appointment(s) marked arrived." in page_messages(arrived)
    assert "1 selected slot(s) were free: skipped." in page_messages(arrived)
    assert any(message.startswith("The appointment is no-show") for message in page_messages(again))


def test_the_admins_cancel_needs_a_reason(staff_client, dr_carol, alice):
    from appointments.admin.timetable import GIVE_A_REASON
    from appointments.tests.test_admin import page_messages, run_action

    slot = appointment(dr_carol, alice, hours=3)

    response = run_action(staff_client, "cancel_appointments", [slot], reason="  ")

    assert str(GIVE_A_REASON) in page_messages(response)
    assert Timetable.objects.get(pk=slot.pk).client == alice


def test_the_timetable_filters_by_status_and_the_history_by_who_cancelled(staff_client, login, dr_carol, alice, bob):
    missed = appointment(dr_carol, alice, hours=-2, status=AppointmentStatus.NOSHOW)
    appointment(dr_carol, bob, hours=2)
    mine = appointment(dr_carol, bob, hours=5)
    login(bob).post(f"/api/doctor/appointment/undo/{mine.pk}")

    timetable = staff_client.get("/admin/appointments/timetable/?status__exact=noshow")
    by_patient = staff_client.get("/admin/appointments/appointmentevent/?cancelled_by__exact=patient")

    assert [slot.pk for slot in timetable.context["cl"].result_list] == [missed.pk]
    assert [event.slot_id for event in by_patient.context["cl"].result_list] == [mine.pk]
