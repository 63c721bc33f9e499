"""Clinic closures and date overrides: the six endpoints, their audit trail, regeneration on commit and conflicts."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments import tasks
from appointments.generation import doctors_to_generate, slots_generate_for_doctor
from appointments.models import Closure, DateOverride, DoctorSchedule, Timetable
from appointments.services import (
    CLOSURE_DATES_REVERSED,
    HOURS_END_NOT_AFTER_START,
    closure_create,
    closure_delete,
    date_override_delete,
    date_override_set,
    slot_book,
)
from appointments.tests.factories import DoctorFactory, ScheduleFactory, every_day
from appointments.zone import clinic_zone
from staff.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

SLOTS_A_DAY = 12  # 09:00-13:00 in 20-minute slots


def today() -> datetime.date:
    return timezone.localdate(timezone=clinic_zone())


def in_days(days: int) -> datetime.date:
    return today() + datetime.timedelta(days=days)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic_zone())


def starts_on(doctor, day: datetime.date) -> list[str]:
    """The doctor's slot starts on a local date, as HH:MM."""
    slots = Timetable.objects.filter(doctor=doctor).order_by("start_time")
    local = (timezone.localtime(slot.start_time, clinic_zone()) for slot in slots)
    return [f"{start:%H:%M}" for start in local if start.date() == day]


@pytest.fixture
def carol(dr_carol):
    """Dr Carol works 09:00-13:00 every day in 20-minute slots, two weeks ahead, her slots generated."""
    # Factories, not schedule_update: a regeneration it left waiting for a commit that never comes
    # (the test's transaction) would cover, and so swallow, the ones the test is about.
    every_day(ScheduleFactory(doctor=dr_carol, slot_minutes=20, horizon_days=14))
    slots_generate_for_doctor(doctor_id=dr_carol.pk)
    return dr_carol


@pytest.fixture
def dave(dr_dave):
    every_day(ScheduleFactory(doctor=dr_dave, slot_minutes=30, horizon_days=14))
    slots_generate_for_doctor(doctor_id=dr_dave.pk)
    return dr_dave


@pytest.fixture
def sent_batches(monkeypatch):
    """The doctor-id lists handed to the broker (never reached), one per task."""
    batches = []
    monkeypatch.setattr(
        tasks.generate_slots_for_doctors, "apply_async", lambda args, **options: batches.append(args[0])
    )
    return batches


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` runs what the block's transactions scheduled for their commit; usable again and again."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def audit(action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- GET /api/closures -------------------------------------------------------------------------


def test_closures_are_listed_ascending_to_anyone_authenticated(login, alice):
    later = Closure.objects.create(date_from=in_days(30), date_to=in_days(31), reason="Spring holiday")
    sooner = Closure.objects.create(date_from=in_days(3), date_to=in_days(3), reason="Staff training")

    response = login(alice).get("/api/closures")

    assert response.status_code == 200
    assert response.json() == [
        {"id": sooner.pk, "date_from": f"{in_days(3)}", "date_to": f"{in_days(3)}", "reason": "Staff training"},
        {"id": later.pk, "date_from": f"{in_days(30)}", "date_to": f"{in_days(31)}", "reason": "Spring holiday"},
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date_from=2027-01-05&date_to=2027-01-09", ["ends-on-first", "inside", "starts-on-last", "spans"]),
        ("date_from=2027-01-10", ["starts-on-last", "after", "spans"]),
        ("date_to=2027-01-04", ["before", "ends-on-first", "spans"]),
        ("date_from=2027-01-06&date_to=2027-01-06", ["inside", "spans"]),
        ("", ["before", "ends-on-first", "inside", "starts-on-last", "after", "spans"]),
    ],
)
def test_closures_overlapping_the_range_are_listed(login, alice, query, expected):
    rows = {
        "before": ("2027-01-01", "2027-01-04"),
        "ends-on-first": ("2027-01-03", "2027-01-05"),
        "inside": ("2027-01-06", "2027-01-07"),
        "starts-on-last": ("2027-01-09", "2027-01-12"),
        "after": ("2027-01-11", "2027-01-11"),
        "spans": ("2027-01-04", "2027-01-20"),
    }
    for reason, (date_from, date_to) in rows.items():
        Closure.objects.create(date_from=date_from, date_to=date_to, reason=reason)

    response = login(alice).get(f"/api/closures/?{query}")

    assert response.status_code == 200
    listed = [row["reason"] for row in response.json()]
    assert sorted(listed) == sorted(expected)
    assert listed == sorted(listed, key=lambda reason: (rows[reason][0], rows[reason][1]))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("date_from=2027-1-1", "invalid"),
        ("date_to=", "invalid"),
        ("date_from=2027-02-02&date_to=2027-02-01", "date_range"),
    ],
)
def test_a_bad_closure_range_is_a_400(login, alice, query, code):
    response = login(alice).get(f"/api/closures?{query}")

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_closures_are_not_for_anonymous_callers(api):
    assert api.get("/api/closures").status_code == 401


# --- POST /api/closures ------------------------------------------------------------------------


def test_an_administrator_closes_the_clinic_and_it_is_audited(login, admin_user):
    response = login(admin_user).post(
        "/api/closures",
        {"date_from": f"{in_days(5)}", "date_to": f"{in_days(7)}", "reason": " New Year "},
        format="json",
    )

    assert response.status_code == 201
    closure = Closure.objects.get()
    assert response.json() == {
        "id": closure.pk,
        "date_from": f"{in_days(5)}",
        "date_to": f"{in_days(7)}",
        "reason": "New Year",
    }
    assert (closure.date_from, closure.date_to, closure.reason) == (in_days(5), in_days(7), "New Year")
    [event] = audit(AuditAction.CLOSURE_CREATED)
    assert event.actor == admin_user and event.target_id == closure.pk
    assert event.changes == {"date_from": f"{in_days(5)}", "date_to": f"{in_days(7)}", "reason": "New Year"}


def test_a_one_day_closure_is_accepted_with_a_trailing_slash(login, admin_user):
    day = f"{in_days(2)}"

    response = login(admin_user).post(
        "/api/closures/", {"date_from": day, "date_to": day, "reason": "x"}, format="json"
    )

    assert response.status_code == 201
    assert Closure.objects.filter(date_from=day, date_to=day).exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"date_from": "2027-01-02", "date_to": "2027-01-01", "reason": "x"}, "date_to", "date_range"),
        ({"date_from": "2027-1-2", "date_to": "2027-01-03", "reason": "x"}, "date_from", "invalid"),
        ({"date_from": "2027-01-02", "date_to": "2027-02-30", "reason": "x"}, "date_to", "invalid"),
        ({"date_to": "2027-01-03", "reason": "x"}, "date_from", "required"),
        ({"date_from": "2027-01-02", "date_to": "2027-01-03"}, "reason", "required"),
        ({"date_from": "2027-01-02", "date_to": "2027-01-03", "reason": ""}, "reason", "blank"),
        ({"date_from": "2027-01-02", "date_to": "2027-01-03", "reason": "   "}, "reason", "blank"),
        ({"date_from": "2027-01-02", "date_to": "2027-01-03", "reason": "x" * 501}, "reason", "max_length"),
    ],
    ids=["reversed", "short-date", "impossible-date", "no-from", "no-reason", "empty-reason", "blank-reason", "long"],
)
def test_a_bad_closure_is_a_400_and_saves_nothing(login, admin_user, sent_batches, commit, body, field, code):
    with commit():
        response = login(admin_user).post("/api/closures", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["fields"]
    assert not Closure.objects.exists()
    assert not audit(AuditAction.CLOSURE_CREATED)
    assert sent_batches == []


def test_the_reversed_range_message_is_the_services(login, admin_user):
    body = {"date_from": "2027-01-02", "date_to": "2027-01-01", "reason": "x"}

    response = login(admin_user).post("/api/closures", body, format="json")

    assert response.json()["fields"]["date_to"] == [str(CLOSURE_DATES_REVERSED)]


def test_a_reason_of_500_characters_is_accepted(login, admin_user):
    body = {"date_from": "2027-01-02", "date_to": "2027-01-03", "reason": "x" * 500}

    assert login(admin_user).post("/api/closures", body, format="json").status_code == 201


def test_the_service_refuses_a_reversed_range_too(admin_user):
    from appointments.services import InvalidSchedule

    with pytest.raises(InvalidSchedule) as refusal:
        closure_create(date_from=in_days(3), date_to=in_days(2), reason="x", actor=admin_user)

    assert refusal.value.code == "date_range"
    assert not Closure.objects.exists()


@pytest.mark.parametrize("who", ["alice", "dr_carol"])
def test_only_administrators_close_the_clinic(login, request, who):
    body = {"date_from": "2027-01-02", "date_to": "2027-01-03", "reason": "x"}

    response = login(request.getfixturevalue(who)).post("/api/closures", body, format="json")

    assert response.status_code == 403
    assert not Closure.objects.exists()


# --- DELETE /api/closures/<id> -----------------------------------------------------------------


def test_an_administrator_deletes_a_closure_and_it_is_audited(login, admin_user):
    closure = closure_create(date_from=in_days(4), date_to=in_days(4), reason="Inspection")

    response = login(admin_user).delete(f"/api/closures/{closure.pk}")

    assert response.status_code == 204
    assert not Closure.objects.exists()
    [event] = audit(AuditAction.CLOSURE_DELETED)
    assert event.actor == admin_user and event.target_id == closure.pk
    assert event.changes == {"date_from": f"{in_days(4)}", "date_to": f"{in_days(4)}", "reason": "Inspection"}


@pytest.mark.parametrize("path", ["/api/closures/987654", "/api/closures/987654/"])
def test_deleting_an_unknown_closure_is_a_404(login, admin_user, path):
    assert login(admin_user).delete(path).status_code == 404


def test_only_administrators_delete_closures(login, alice):
    closure = closure_create(date_from=in_days(4), date_to=in_days(4), reason="Inspection")

    assert login(alice).delete(f"/api/closures/{closure.pk}").status_code == 403
    assert Closure.objects.filter(pk=closure.pk).exists()


# --- closures regenerate every doctor --------------------------------------------------------------


def test_a_closure_fans_every_working_doctor_out_in_the_sweeps_batches_on_commit(
    settings, login, admin_user, sent_batches, commit
):
    settings.SLOT_GENERATION_BATCH_SIZE = 2
    working = sorted(every_day(ScheduleFactory()).doctor_id for _ in range(3))
    ScheduleFactory()  # no working hours: nothing to regenerate
    every_day(ScheduleFactory(doctor=DoctorFactory(is_active=False)))  # blocked
    body = {"date_from": f"{in_days(2)}", "date_to": f"{in_days(2)}", "reason": "Holiday"}

    with commit():
        response = login(admin_user).post("/api/closures", body, format="json")
        assert sent_batches == []  # nothing leaves before the commit

    assert response.status_code == 201
    assert sent_batches == [working[0:2], working[2:3]]

    sent_batches.clear()
    with commit():
        assert login(admin_user).delete(f"/api/closures/{response.json()['id']}").status_code == 204

    assert sent_batches == [working[0:2], working[2:3]]


def test_two_closures_in_one_transaction_fan_out_once(sent_batches, commit):
    doctor = every_day(ScheduleFactory()).doctor_id

    with commit():
        closure_create(date_from=in_days(2), date_to=in_days(2), reason="one")
        closure_create(date_from=in_days(5), date_to=in_days(6), reason="two")

    assert sent_batches == [[doctor]]


def test_a_closure_entirely_in_the_past_regenerates_nothing(sent_batches, commit):
    every_day(ScheduleFactory())

    with commit():
        closure = closure_create(date_from=in_days(-10), date_to=in_days(-1), reason="last week")
    with commit():
        closure_delete(closure=closure)

    assert sent_batches == []


def test_a_closure_day_has_no_slots_for_any_doctor_and_bookings_are_kept_as_conflicts(
    carol, dave, alice, login, admin_user, run_tasks_here, commit
):
    day = in_days(3)
    booked = slot_book(slot_id=Timetable.objects.get(doctor=carol, start_time=at(day, 10)).pk, patient=alice)
    body = {"date_from": f"{day}", "date_to": f"{day}", "reason": "Holiday"}

    with commit():
        response = login(admin_user).post("/api/closures", body, format="json")

    assert response.status_code == 201
    assert starts_on(carol, day) == ["10:00"]
    assert starts_on(dave, day) == []
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)
    # The days around it are untouched.
    assert len(starts_on(carol, day - datetime.timedelta(days=1))) == SLOTS_A_DAY
    assert len(starts_on(carol, day + datetime.timedelta(days=1))) == SLOTS_A_DAY
    assert login(alice).get(f"/api/doctor/slots/get/{dave.pk}?date_from={day}&date_to={day}").json() == []

    with commit():
        assert login(admin_user).delete(f"/api/closures/{response.json()['id']}").status_code == 204

    assert len(starts_on(carol, day)) == SLOTS_A_DAY
    assert len(starts_on(dave, day)) == 8
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, False)


def test_a_closure_of_several_days_closes_each_of_them(carol):
    closure_create(date_from=in_days(2), date_to=in_days(4), reason="Holidays")

    slots_generate_for_doctor(doctor_id=carol.pk)

    assert [len(starts_on(carol, in_days(days))) for days in range(1, 6)] == [SLOTS_A_DAY, 0, 0, 0, SLOTS_A_DAY]


def test_a_closure_wins_over_a_date_override(carol):
    date_override_set(doctor=carol, day=in_days(3), intervals=[(datetime.time(15), datetime.time(16))])
    closure_create(date_from=in_days(3), date_to=in_days(3), reason="Holiday")

    slots_generate_for_doctor(doctor_id=carol.pk)

    assert starts_on(carol, in_days(3)) == []


# --- GET /api/doctors/<id>/date-overrides --------------------------------------------------------


def test_a_doctors_overrides_are_listed_by_date_to_anyone_authenticated(login, alice, dr_carol, dr_dave):
    date_override_set(doctor=dr_carol, day=in_days(9), intervals=[], comment="conference")
    date_override_set(
        doctor=dr_carol,
        day=in_days(2),
        intervals=[(datetime.time(14), datetime.time(18)), (datetime.time(8), datetime.time(12))],
    )
    date_override_set(doctor=dr_dave, day=in_days(2), intervals=[])

    response = login(alice).get(f"/api/doctors/{dr_carol.pk}/date-overrides")

    assert response.status_code == 200
    assert response.json() == [
        {
            "date": f"{in_days(2)}",
            "intervals": [{"start": "08:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
            "comment": "",
        },
        {"date": f"{in_days(9)}", "intervals": [], "comment": "conference"},
    ]


def test_overrides_are_filtered_by_date_range(login, alice, dr_carol):
    for days in (1, 2, 3, 4):
        date_override_set(doctor=dr_carol, day=in_days(days), intervals=[])

    response = login(alice).get(
        f"/api/doctors/{dr_carol.pk}/date-overrides/?date_from={in_days(2)}&date_to={in_days(3)}"
    )

    assert [row["date"] for row in response.json()] == [f"{in_days(2)}", f"{in_days(3)}"]


def test_overrides_of_an_unknown_doctor_or_a_patient_are_a_404(login, alice):
    assert login(alice).get("/api/doctors/987654/date-overrides").status_code == 404
    assert login(alice).get(f"/api/doctors/{alice.pk}/date-overrides").status_code == 404


def test_a_bad_override_range_is_a_400(login, alice, dr_carol):
    response = login(alice).get(f"/api/doctors/{dr_carol.pk}/date-overrides?date_from=tomorrow")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")


# --- PUT /api/doctors/<id>/date-overrides/<date> ------------------------------------------------


def put_override(client, doctor, day, body, slash=""):
    return client.put(f"/api/doctors/{doctor.pk}/date-overrides/{day}{slash}", body, format="json")


def test_an_administrator_sets_a_doctors_hours_on_a_date_and_it_is_audited(login, admin_user, dr_carol):
    body = {"intervals": [{"start": "14:00", "end": "18:00"}, {"start": "08:00", "end": "12:00"}], "comment": "swap"}

    response = put_override(login(admin_user), dr_carol, in_days(3), body)

    assert response.status_code == 200
    expected = {
        "date": f"{in_days(3)}",
        "intervals": [{"start": "08:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}],
        "comment": "swap",
    }
    assert response.json() == expected
    override = DateOverride.objects.get(doctor=dr_carol)
    assert override.date == in_days(3)
    assert override.times == [(datetime.time(8), datetime.time(12)), (datetime.time(14), datetime.time(18))]
    [event] = audit(AuditAction.DATE_OVERRIDE_SET)
    assert event.actor == admin_user and event.target_id == override.pk
    assert event.changes == {
        "date": f"{in_days(3)}",
        "intervals": [None, "08:00-12:00;14:00-18:00"],
        "comment": [None, "swap"],
    }
    # A doctor without a schedule gets the defaults, so that generation and the sweep see the date.
    assert DoctorSchedule.objects.filter(doctor=dr_carol).exists()


def test_putting_again_replaces_the_same_override(login, admin_user, dr_carol):
    client = login(admin_user)
    put_override(client, dr_carol, in_days(3), {"intervals": [{"start": "08:00", "end": "12:00"}], "comment": "a"})
    first = DateOverride.objects.get()

    response = put_override(client, dr_carol, in_days(3), {"intervals": []}, slash="/")

    assert response.status_code == 200
    assert response.json() == {"date": f"{in_days(3)}", "intervals": [], "comment": ""}
    [override] = DateOverride.objects.all()
    assert (override.pk, override.intervals, override.comment) == (first.pk, [], "")
    last = audit(AuditAction.DATE_OVERRIDE_SET)[-1]
    assert last.changes == {"date": f"{in_days(3)}", "intervals": ["08:00-12:00", ""], "comment": ["a", ""]}


def test_putting_the_same_hours_again_changes_and_records_nothing(login, admin_user, dr_carol, sent, commit):
    body = {"intervals": [{"start": "08:00", "end": "12:00"}]}
    put_override(login(admin_user), dr_carol, in_days(3), body)

    with commit():
        response = put_override(login(admin_user), dr_carol, in_days(3), body)

    assert response.status_code == 200
    assert len(audit(AuditAction.DATE_OVERRIDE_SET)) == 1
    assert sent == []


@pytest.mark.parametrize(
    ("intervals", "code"),
    [
        ([{"start": "12:00", "end": "12:00"}], "end_not_after_start"),
        ([{"start": "13:00", "end": "09:00"}], "end_not_after_start"),
        ([{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "14:00"}], "overlapping_hours"),
        ([{"start": "9:00", "end": "12:00"}], "invalid"),
        ([{"start": "09:00", "end": "24:00"}], "invalid"),
        ([{"start": "09:00"}], "required"),
        ("09:00-12:00", "not_a_list"),
        ([{"start": f"{hour:02}:00", "end": f"{hour:02}:30"} for hour in range(24)] * 2, "max_length"),
    ],
    ids=["empty", "reversed", "overlapping", "short-time", "24h", "no-end", "not-a-list", "too-many"],
)
def test_override_intervals_follow_the_weekly_hours_rules(login, admin_user, dr_carol, sent, commit, intervals, code):
    with commit():
        response = put_override(login(admin_user), dr_carol, in_days(3), {"intervals": intervals})

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not DateOverride.objects.exists()
    assert not audit(AuditAction.DATE_OVERRIDE_SET)
    assert sent == []


def test_an_override_without_intervals_is_a_400(login, admin_user, dr_carol):
    response = put_override(login(admin_user), dr_carol, in_days(3), {"comment": "x"})

    assert (response.status_code, response.json()["code"]) == (400, "required")


def test_touching_override_intervals_are_fine_and_the_message_is_the_weekly_one(login, admin_user, dr_carol):
    client = login(admin_user)
    touching = [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "14:00"}]

    assert put_override(client, dr_carol, in_days(3), {"intervals": touching}).status_code == 200
    reversed_body = {"intervals": [{"start": "10:00", "end": "09:00"}]}
    refused = put_override(client, dr_carol, in_days(4), reversed_body).json()
    assert refused["fields"]["intervals"] == {"0": {"end": [str(HOURS_END_NOT_AFTER_START)]}}


@pytest.mark.parametrize("day", ["2027-1-5", "2027-02-30", "2027-13-01", "tomorrow", "20270105", "2027-01-05x"])
def test_a_malformed_date_in_the_path_is_a_404(login, admin_user, dr_carol, day):
    client = login(admin_user)
    DateOverride.objects.create(doctor=dr_carol, date=datetime.date(2027, 1, 5), intervals=[])

    put = client.put(f"/api/doctors/{dr_carol.pk}/date-overrides/{day}", {"intervals": []}, format="json")
    delete = client.delete(f"/api/doctors/{dr_carol.pk}/date-overrides/{day}")

    assert (put.status_code, put.json()["code"]) == (404, "not_found")
    assert (delete.status_code, delete.json()["code"]) == (404, "not_found")
    assert DateOverride.objects.count() == 1


def test_an_override_for_an_unknown_doctor_or_a_patient_is_a_404(login, admin_user, alice):
    client = login(admin_user)

    assert (
        client.put("/api/doctors/987654/date-overrides/2027-01-05", {"intervals": []}, format="json").status_code == 404
    )
    assert put_override(client, alice, "2027-01-05", {"intervals": []}).status_code == 404
    assert not DateOverride.objects.exists()


@pytest.mark.parametrize("who", ["alice", "dr_carol"])
def test_only_administrators_set_overrides(login, request, dr_carol, who):
    response = put_override(login(request.getfixturevalue(who)), dr_carol, in_days(3), {"intervals": []})

    assert response.status_code == 403
    assert not DateOverride.objects.exists()


# --- DELETE /api/doctors/<id>/date-overrides/<date> ---------------------------------------------


def test_an_administrator_deletes_an_override_and_it_is_audited(login, admin_user, dr_carol):
    override = date_override_set(doctor=dr_carol, day=in_days(3), intervals=[], comment="ill")

    response = login(admin_user).delete(f"/api/doctors/{dr_carol.pk}/date-overrides/{in_days(3)}/")

    assert response.status_code == 204
    assert not DateOverride.objects.exists()
    [event] = audit(AuditAction.DATE_OVERRIDE_DELETED)
    assert event.actor == admin_user and event.target_id == override.pk
    assert event.changes == {"date": f"{in_days(3)}", "intervals": "", "comment": "ill"}


def test_deleting_a_date_without_an_override_is_a_404(login, admin_user, dr_carol, dr_dave):
    date_override_set(doctor=dr_dave, day=in_days(3), intervals=[])

    response = login(admin_user).delete(f"/api/doctors/{dr_carol.pk}/date-overrides/{in_days(3)}")

    assert response.status_code == 404
    assert DateOverride.objects.filter(doctor=dr_dave).exists()


def test_only_administrators_delete_overrides(login, dr_carol):
    date_override_set(doctor=dr_carol, day=in_days(3), intervals=[])

    assert login(dr_carol).delete(f"/api/doctors/{dr_carol.pk}/date-overrides/{in_days(3)}").status_code == 403
    assert DateOverride.objects.exists()


# --- overrides regenerate their doctor -------------------------------------------------------------


def test_setting_and_deleting_an_override_enqueue_the_doctors_regeneration_once_on_commit(
    login, admin_user, dr_carol, sent, commit
):
    with commit():
        put_override(login(admin_user), dr_carol, in_days(3), {"intervals": []})
        assert sent == []
    with commit():
        date_override_set(doctor=dr_carol, day=in_days(4), intervals=[])
        date_override_set(doctor=dr_carol, day=in_days(5), intervals=[])
    with commit():
        assert login(admin_user).delete(f"/api/doctors/{dr_carol.pk}/date-overrides/{in_days(3)}").status_code == 204

    assert sent.batches == [[dr_carol.pk], [dr_carol.pk], [dr_carol.pk]]


def test_an_override_of_a_past_date_regenerates_nothing(dr_carol, sent, commit):
    with commit():
        override = date_override_set(doctor=dr_carol, day=in_days(-1), intervals=[])
    with commit():
        date_override_delete(override=override)

    assert sent == []


def test_an_override_replaces_the_dates_hours_and_keeps_a_displaced_booking_as_a_conflict(
    carol, alice, login, admin_user, run_tasks_here, commit
):
    day = in_days(3)
    booked = slot_book(slot_id=Timetable.objects.get(doctor=carol, start_time=at(day, 12, 20)).pk, patient=alice)
    kept = set(Timetable.objects.filter(doctor=carol, start_time__lt=at(day, 11)).values_list("id", flat=True))
    body = {"intervals": [{"start": "08:00", "end": "11:00"}, {"start": "15:00", "end": "16:00"}]}

    with commit():
        assert put_override(login(admin_user), carol, day, body).status_code == 200

    assert starts_on(carol, day) == [
        *["08:00", "08:20", "08:40", "09:00", "09:20", "09:40", "10:00", "10:20", "10:40"],
        "12:20",
        *["15:00", "15:20", "15:40"],
    ]
    # Slots the override keeps are the same rows; the weekday's hours still hold on other dates.
    assert kept <= set(Timetable.objects.filter(doctor=carol).values_list("id", flat=True))
    assert len(starts_on(carol, day + datetime.timedelta(days=7))) == SLOTS_A_DAY
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, True)

    with commit():
        assert login(admin_user).delete(f"/api/doctors/{carol.pk}/date-overrides/{day}").status_code == 204

    assert len(starts_on(carol, day)) == SLOTS_A_DAY
    booked.refresh_from_db()
    assert (booked.client, booked.conflict) == (alice, False)


def test_a_day_off_override_removes_the_dates_free_slots(carol, login, admin_user, run_tasks_here, commit):
    with commit():
        put_override(login(admin_user), carol, in_days(2), {"intervals": []})

    assert starts_on(carol, in_days(2)) == []
    assert len(starts_on(carol, in_days(1))) == SLOTS_A_DAY


def test_a_doctor_who_works_only_on_override_dates_is_swept_and_planned(dr_dave):
    ScheduleFactory(doctor=dr_dave, slot_minutes=60, horizon_days=14)
    assert list(doctors_to_generate()) == []

    date_override_set(doctor=dr_dave, day=in_days(10), intervals=[(datetime.time(9), datetime.time(11))])
    date_override_set(doctor=dr_dave, day=in_days(20), intervals=[(datetime.time(9), datetime.time(11))])
    slots_generate_for_doctor(doctor_id=dr_dave.pk)

    assert list(doctors_to_generate()) == [dr_dave.pk]
    assert starts_on(dr_dave, in_days(10)) == ["09:00", "10:00"]
    assert Timetable.objects.filter(doctor=dr_dave).count() == 2  # the other date is beyond the horizon


def test_a_doctor_whose_overrides_are_all_past_is_not_swept(dr_dave):
    ScheduleFactory(doctor=dr_dave)
    date_override_set(doctor=dr_dave, day=in_days(-3), intervals=[(datetime.time(9), datetime.time(11))])

    assert list(doctors_to_generate()) == []


# --- daylight saving: the planner's rules, for overrides too ---------------------------------------

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("zone", "day", "utc_starts"),
    [
        # Berlin springs forward at 02:00 on 2027-03-28: 02:00 does not exist, 01:00 and 03:00 do.
        pytest.param(BERLIN, datetime.date(2027, 3, 28), ["00:00", "01:00"], id="berlin-spring"),
        # ...and falls back at 03:00 on 2027-10-31: 02:00 happens twice and gives one slot.
        pytest.param(BERLIN, datetime.date(2027, 10, 31), ["23:00-1", "00:00", "02:00"], id="berlin-fall"),
        pytest.param(NEW_YORK, datetime.date(2027, 3, 14), ["06:00", "07:00"], id="new-york-spring"),
        pytest.param(NEW_YORK, datetime.date(2027, 11, 7), ["05:00", "07:00", "08:00"], id="new-york-fall"),
    ],
)
def test_an_override_on_a_dst_date_is_planned_by_the_planners_rules(settings, dr_carol, zone, day, utc_starts):
    settings.TIME_ZONE = zone
    ScheduleFactory(doctor=dr_carol, slot_minutes=60, horizon_days=3)
    date_override_set(doctor=dr_carol, day=day, intervals=[(datetime.time(1), datetime.time(4))])
    now = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(12), tzinfo=ZoneInfo(zone))

    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)

    def utc(text: str) -> datetime.datetime:
        on = day - datetime.timedelta(days=1) if text.endswith("-1") else day
        return datetime.datetime.combine(on, datetime.time.fromisoformat(text[:5]), tzinfo=datetime.UTC)

    slots = list(Timetable.objects.filter(doctor=dr_carol).order_by("start_time"))
    assert [slot.start_time for slot in slots] == [utc(text) for text in utc_starts]
    assert {slot.stop_time - slot.start_time for slot in slots} == {datetime.timedelta(hours=1)}


def test_a_reversed_closure_is_refused_in_russian(login, admin_user):
    from django.utils import translation

    body = {"date_from": "2027-01-02", "date_to": "2027-01-01", "reason": "x"}

    response = login(admin_user).post("/api/closures", body, format="json", HTTP_ACCEPT_LANGUAGE="ru")

    with translation.override("ru"):
        expected = str(CLOSURE_DATES_REVERSED)
    assert response.json()["fields"]["date_to"] == [expected]
    assert expected == "Первый день закрытия не может быть позже последнего."
