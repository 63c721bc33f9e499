"""Explainable availability: GET /api/doctors/<id>/availability, its `day` and `reasons` vocabulary, and that it
agrees with what generation makes and booking offers, on random schedules."""

import datetime
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments import rules, selectors
from appointments.availability import Day, Reason, doctor_availability
from appointments.generation import slots_generate_for_doctor
from appointments.models import Absence, AbsenceKind, Closure, DateOverride, Timetable, WorkingHours, override_intervals
from appointments.services import slot_book
from appointments.tests.factories import ScheduleFactory, SlotFactory, WorkingHoursFactory, every_day
from appointments.zone import clinic_zone
from staff.services import user_block

pytestmark = pytest.mark.django_db

SLOTS_A_DAY = 12  # 09:00-13:00 in 20-minute slots
NINE_TO_ONE = [
    "09:00",
    "09:20",
    "09:40",
    "10:00",
    "10:20",
    "10:40",
    "11:00",
    "11:20",
    "11:40",
    "12:00",
    "12:20",
    "12:40",
]


def in_days(days: int) -> datetime.date:
    return timezone.localdate(timezone=clinic_zone()) + datetime.timedelta(days=days)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic_zone())


def hhmm(text: str) -> str:
    """The clinic wall-clock time of an ISO 8601 datetime, as HH:MM."""
    return f"{datetime.datetime.fromisoformat(text).astimezone(clinic_zone()):%H:%M}"


def reasons_by_start(body: dict) -> dict[str, list[str]]:
    return {hhmm(slot["start_time"]): slot["reasons"] for slot in body["slots"]}


def slot_at(doctor, day, hour, minute=0) -> Timetable:
    return Timetable.objects.get(doctor=doctor, start_time=at(day, hour, minute))


def set_override(doctor, day, *intervals) -> DateOverride:
    return DateOverride.objects.update_or_create(
        doctor=doctor, date=day, defaults={"intervals": override_intervals(intervals)}
    )[0]


@pytest.fixture
def carol(dr_carol):
    """Dr Carol works 09:00-13:00 every day in 20-minute slots, two weeks ahead, her slots generated.

    Rows are made with factories and the ORM: what availability reads is the state, not how it came.
    """
    every_day(ScheduleFactory(doctor=dr_carol, slot_minutes=20, horizon_days=14))
    slots_generate_for_doctor(doctor_id=dr_carol.pk)
    return dr_carol


@pytest.fixture
def ask(login, admin_user):
    """GET the availability as the administrator; returns the body, asserting a 200."""
    client = login(admin_user)

    def _ask(doctor, day) -> dict:
        response = client.get(f"/api/doctors/{doctor.pk}/availability?date={day}")
        assert response.status_code == 200, response.content
        return response.json()

    return _ask


# --- the shape and a plain working day ----------------------------------------------------------------


def test_a_working_day_lists_every_slot_bookable_with_its_id(carol, ask):
    day = in_days(3)

    body = ask(carol, day)

    assert (body["date"], body["day"]) == (f"{day}", "working")
    assert body["intervals"] == [{"start": "09:00", "end": "13:00"}]
    assert [hhmm(slot["start_time"]) for slot in body["slots"]] == NINE_TO_ONE
    first = body["slots"][0]
    assert first == {
        "start_time": at(day, 9).isoformat(),
        "stop_time": at(day, 9, 20).isoformat(),
        "slot_id": slot_at(carol, day, 9).pk,
        "bookable": True,
        "reasons": [],
    }
    assert all(slot["bookable"] and slot["reasons"] == [] for slot in body["slots"])


# --- each day kind ---------------------------------------------------------------------------------------


def test_a_weekday_without_hours_is_a_day_off(dr_dave, ask):
    day = in_days(3)
    WorkingHoursFactory(schedule=ScheduleFactory(doctor=dr_dave), weekday=(day.weekday() + 1) % 7)

    body = ask(dr_dave, day)

    assert (body["day"], body["intervals"], body["slots"]) == ("day_off", [], [])


def test_a_doctor_without_a_schedule_has_a_day_off(dr_dave, ask):
    assert ask(dr_dave, in_days(3))["day"] == "day_off"


def test_an_override_day_off_has_no_slots_but_keeps_its_bookings_listed_as_conflicts(carol, alice, ask):
    day = in_days(3)
    booked = slot_book(slot_id=slot_at(carol, day, 10).pk, patient=alice)
    set_override(carol, day)

    before = ask(carol, day)
    slots_generate_for_doctor(doctor_id=carol.pk)
    after = ask(carol, day)

    for body in (before, after):
        assert (body["day"], body["intervals"]) == ("override_day_off", [])
        assert [(slot["slot_id"], slot["reasons"]) for slot in body["slots"]] == [(booked.pk, ["booked", "conflict"])]


def test_an_overrides_hours_are_the_ones_in_force_and_new_slots_wait_for_generation(carol, ask):
    day = in_days(3)
    set_override(carol, day, (datetime.time(12), datetime.time(14)))

    before = ask(carol, day)

    assert (before["day"], before["intervals"]) == ("working", [{"start": "12:00", "end": "14:00"}])
    assert reasons_by_start(before) == {
        "12:00": [],
        "12:20": [],
        "12:40": [],
        "13:00": ["not_generated"],
        "13:20": ["not_generated"],
        "13:40": ["not_generated"],
    }
    assert [slot["slot_id"] is None for slot in before["slots"]] == [False] * 3 + [True] * 3

    slots_generate_for_doctor(doctor_id=carol.pk)
    after = ask(carol, day)

    assert all(slot["bookable"] and slot["slot_id"] for slot in after["slots"])
    assert len(after["slots"]) == 6


def test_a_closure_day_lists_the_hours_slots_with_the_reason_and_bookings_as_conflicts(carol, alice, ask):
    day = in_days(3)
    booked = slot_book(slot_id=slot_at(carol, day, 9).pk, patient=alice)
    Closure.objects.create(date_from=day - datetime.timedelta(days=1), date_to=day, reason="Holiday")

    before = ask(carol, day)
    slots_generate_for_doctor(doctor_id=carol.pk)
    after = ask(carol, day)

    for body in (before, after):
        assert (body["day"], body["intervals"]) == ("closure", [{"start": "09:00", "end": "13:00"}])
        assert reasons_by_start(body) == {
            "09:00": ["booked", "closure", "conflict"],
            **{start: ["closure"] for start in NINE_TO_ONE[1:]},
        }
    # Before generation the free rows are still there; after it only the booking is.
    assert all(slot["slot_id"] for slot in before["slots"])
    assert [slot["slot_id"] for slot in after["slots"]] == [booked.pk] + [None] * (SLOTS_A_DAY - 1)


def test_a_date_beyond_the_horizon_lists_what_the_hours_would_give(carol, ask):
    body = ask(carol, in_days(20))

    assert body["day"] == "beyond_horizon"
    assert reasons_by_start(body) == {start: ["beyond_horizon"] for start in NINE_TO_ONE}
    assert {slot["slot_id"] for slot in body["slots"]} == {None}


def test_the_last_date_of_the_horizon_is_still_planned(carol, ask):
    assert ask(carol, in_days(13))["day"] == "working"


def test_a_blocked_doctors_day_says_so_first(carol, ask):
    day = in_days(3)
    Closure.objects.create(date_from=day, date_to=day, reason="Holiday")
    user_block(user=carol)

    body = ask(carol, day)

    assert body["day"] == "doctor_inactive"
    assert reasons_by_start(body) == {start: ["closure", "doctor_inactive"] for start in NINE_TO_ONE}


def test_the_day_kinds_are_the_contracts():
    assert set(Day.values) == {"working", "day_off", "override_day_off", "closure", "beyond_horizon", "doctor_inactive"}
    assert Reason.values == [
        "booked",
        "absence",
        "closure",
        "doctor_inactive",
        "started",
        "min_notice",
        "beyond_horizon",
        "not_generated",
        "conflict",
    ]


# --- each reason -----------------------------------------------------------------------------------------


def test_a_booked_slot_is_not_bookable_and_keeps_its_id(carol, alice, ask):
    day = in_days(3)
    booked = slot_book(slot_id=slot_at(carol, day, 11).pk, patient=alice)

    slot = next(slot for slot in ask(carol, day)["slots"] if slot["slot_id"] == booked.pk)

    assert (slot["bookable"], slot["reasons"]) == (False, ["booked"])


def test_an_absence_names_itself_beside_the_reason(carol, ask):
    day = in_days(3)
    absence = Absence.objects.create(doctor=carol, kind=AbsenceKind.BREAK, start=at(day, 10, 10), end=at(day, 11))

    body = ask(carol, day)

    absent = [slot for slot in body["slots"] if "absence" in slot["reasons"]]
    assert [hhmm(slot["start_time"]) for slot in absent] == ["10:00", "10:20", "10:40"]
    assert all(slot["absence"] == {"id": absence.pk, "kind": "break"} for slot in absent)
    assert all("absence" not in slot for slot in body["slots"] if slot not in absent)
    slots_generate_for_doctor(doctor_id=carol.pk)
    assert [slot["slot_id"] for slot in ask(carol, day)["slots"] if slot["reasons"]] == [None, None, None]


def test_a_day_before_today_is_started_throughout(carol, alice, ask):
    day = in_days(-2)
    past = SlotFactory(doctor=carol, client=alice, start_time=at(day, 9), stop_time=at(day, 9, 20))

    body = ask(carol, day)

    assert body["day"] == "working"
    assert reasons_by_start(body) == {"09:00": ["booked", "started"], **{s: ["started"] for s in NINE_TO_ONE[1:]}}
    assert body["slots"][0]["slot_id"] == past.pk


def test_a_started_booking_is_a_conflict_as_generation_last_flagged_it(carol, alice, ask):
    day = in_days(-1)
    SlotFactory(doctor=carol, client=alice, start_time=at(day, 9), stop_time=at(day, 9, 20), conflict=True)
    SlotFactory(doctor=carol, client=alice, start_time=at(day, 9, 20), stop_time=at(day, 9, 40), conflict=False)

    body = ask(carol, day)

    assert reasons_by_start(body)["09:00"] == ["booked", "started", "conflict"]
    assert reasons_by_start(body)["09:20"] == ["booked", "started"]


def test_slots_within_the_minimum_notice_say_so(carol, ask):
    # Four days of notice: all of the third day is too soon, the fifth day is not, whatever the hour.
    rules.clinic_rules_update(
        min_notice_minutes=4 * 24 * 60,
        cancel_cutoff_minutes=0,
        max_active_per_patient=None,
        max_per_patient_per_day=None,
    )

    assert reasons_by_start(ask(carol, in_days(3))) == {start: ["min_notice"] for start in NINE_TO_ONE}
    assert reasons_by_start(ask(carol, in_days(5))) == {start: [] for start in NINE_TO_ONE}


def test_a_doctors_own_minimum_notice_is_the_one_in_force(carol, dr_dave, ask):
    every_day(ScheduleFactory(doctor=dr_dave, slot_minutes=20, horizon_days=14))
    slots_generate_for_doctor(doctor_id=dr_dave.pk)
    rules.doctor_rules_update(
        doctor=carol,
        min_notice_minutes=4 * 24 * 60,
        cancel_cutoff_minutes=None,
        max_active_per_patient=None,
        max_per_patient_per_day=None,
    )

    assert all(slot["reasons"] == ["min_notice"] for slot in ask(carol, in_days(3))["slots"])
    assert all(slot["bookable"] for slot in ask(dr_dave, in_days(3))["slots"])


def test_hours_not_yet_generated_are_not_generated(carol, ask):
    day = in_days(3)
    schedule = carol.schedule
    WorkingHours.objects.create(
        schedule=schedule, weekday=day.weekday(), start=datetime.time(14), end=datetime.time(15)
    )

    body = ask(carol, day)

    assert body["intervals"] == [{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "15:00"}]
    assert reasons_by_start(body) == {
        **{start: [] for start in NINE_TO_ONE},
        "14:00": ["not_generated"],
        "14:20": ["not_generated"],
        "14:40": ["not_generated"],
    }


def test_a_booking_the_hours_no_longer_give_is_listed_as_a_conflict(carol, alice, ask):
    day = in_days(3)
    booked = slot_book(slot_id=slot_at(carol, day, 12, 40).pk, patient=alice)
    WorkingHours.objects.filter(schedule=carol.schedule).update(end=datetime.time(12))

    body = ask(carol, day)

    assert body["intervals"] == [{"start": "09:00", "end": "12:00"}]
    assert [hhmm(slot["start_time"]) for slot in body["slots"]] == NINE_TO_ONE[:9] + ["12:40"]
    last = body["slots"][-1]
    assert (last["slot_id"], last["reasons"], last["bookable"]) == (booked.pk, ["booked", "conflict"], False)


def test_a_slot_overlapping_a_booking_of_an_older_plan_is_taken(carol, alice, ask):
    day = in_days(3)
    booked = slot_book(slot_id=slot_at(carol, day, 9, 20).pk, patient=alice)
    carol.schedule.slot_minutes = 30
    carol.schedule.save()
    slots_generate_for_doctor(doctor_id=carol.pk)

    body = ask(carol, day)

    # 09:00-09:30 and 09:30-10:00 would overlap the booked 09:20-09:40: generation never makes them.
    assert reasons_by_start(body) == {
        "09:00": ["booked"],
        "09:20": ["booked", "conflict"],
        "09:30": ["booked"],
        **{start: [] for start in ["10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]},
    }
    assert body["slots"][1]["slot_id"] == booked.pk


# --- daylight saving: the planner's rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "utc_starts"),
    [
        pytest.param("Europe/Berlin", datetime.date(2027, 3, 28), ["00:00", "01:00"], id="berlin-spring"),
        pytest.param("Europe/Berlin", datetime.date(2027, 10, 31), ["23:00-1", "00:00", "02:00"], id="berlin-fall"),
        pytest.param("America/New_York", datetime.date(2027, 3, 14), ["06:00", "07:00"], id="new-york-spring"),
        pytest.param("America/New_York", datetime.date(2027, 11, 7), ["05:00", "07:00", "08:00"], id="new-york-fall"),
    ],
)
@pytest.mark.parametrize("source", ["weekly", "override"])
def test_a_dst_date_lists_the_slots_the_planner_gives(settings, dr_carol, zone, day, utc_starts, source):
    settings.TIME_ZONE = zone
    schedule = ScheduleFactory(doctor=dr_carol, slot_minutes=60, horizon_days=3)
    one_to_four = (datetime.time(1), datetime.time(4))
    if source == "weekly":
        WorkingHoursFactory(schedule=schedule, weekday=day.weekday(), start=one_to_four[0], end=one_to_four[1])
    else:
        set_override(dr_carol, day, one_to_four)
    now = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(12), tzinfo=ZoneInfo(zone))

    result = doctor_availability(doctor=dr_carol, day=day, now=now)

    def utc(text: str) -> datetime.datetime:
        on = day - datetime.timedelta(days=1) if text.endswith("-1") else day
        return datetime.datetime.combine(on, datetime.time.fromisoformat(text[:5]), tzinfo=datetime.UTC)

    assert result.day == "working"
    assert [slot.start for slot in result.slots] == [utc(text) for text in utc_starts]
    assert {slot.stop - slot.start for slot in result.slots} == {datetime.timedelta(hours=1)}
    assert {slot.reasons for slot in result.slots} == {("not_generated",)}
    # Generation makes exactly these slots.
    slots_generate_for_doctor(doctor_id=dr_carol.pk, now=now)
    generated = Timetable.objects.filter(doctor=dr_carol)
    assert sorted(generated.values_list("start_time", flat=True)) == [utc(text) for text in utc_starts]
    again = doctor_availability(doctor=dr_carol, day=day, now=now)
    assert all(slot.bookable and slot.slot_id for slot in again.slots)


# --- who may ask, and bad input -------------------------------------------------------------------------


def test_the_doctor_sees_their_own_availability(carol, login):
    response = login(carol).get(f"/api/doctors/{carol.pk}/availability/?date={in_days(3)}")

    assert response.status_code == 200
    assert len(response.json()["slots"]) == SLOTS_A_DAY


@pytest.mark.parametrize("who", ["alice", "dr_dave"])
def test_patients_and_other_doctors_get_403(carol, login, request, who):
    response = login(request.getfixturevalue(who)).get(f"/api/doctors/{carol.pk}/availability?date={in_days(3)}")

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_anonymous_callers_get_401(carol, api):
    assert api.get(f"/api/doctors/{carol.pk}/availability?date={in_days(3)}").status_code == 401


def test_an_unknown_doctor_or_a_patient_is_a_404_for_an_administrator(login, admin_user, alice):
    client = login(admin_user)

    assert client.get(f"/api/doctors/987654/availability?date={in_days(3)}").status_code == 404
    assert client.get(f"/api/doctors/{alice.pk}/availability?date={in_days(3)}").status_code == 404


@pytest.mark.parametrize("query", ["", "?date=", "?date=2027-1-5", "?date=2027-02-30", "?date=tomorrow"])
def test_a_missing_or_malformed_date_is_a_400(carol, login, admin_user, query):
    response = login(admin_user).get(f"/api/doctors/{carol.pk}/availability{query}")

    assert response.status_code == 400
    assert "date" in response.json()["fields"]


def test_a_date_of_long_ago_renders_in_utc_where_the_local_offset_has_seconds(carol, ask):
    # Before standard time the clinic's zone kept local mean time (+02:30:17), which RFC 3339 cannot write.
    body = ask(carol, "1850-06-03")

    assert body["slots"][0]["start_time"] == "1850-06-03T06:29:43Z"
    assert body["slots"][0]["reasons"] == ["started"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_ends_of_the_calendar_answer_without_slots(carol, ask, day):
    body = ask(carol, day)

    assert (body["date"], body["slots"]) == (day, [])


# --- one set of rules: availability agrees with generation and booking, on random schedules ----------------


def random_intervals(rng: random.Random, most: int) -> list[tuple[datetime.time, datetime.time]]:
    """Up to `most` non-overlapping intervals of a day, on five-minute marks."""
    marks = sorted(rng.sample(range(0, 24 * 12 + 1), 2 * rng.randint(0, most)))
    return [
        (
            datetime.time(start // 12, start % 12 * 5),
            datetime.time(end // 12, end % 12 * 5) if end < 288 else datetime.time(23, 59),
        )
        for start, end in zip(marks[::2], marks[1::2], strict=True)
        if start < end and start < 288
    ]


def random_world(rng: random.Random, doctor, patients) -> None:
    """Random weekly hours, slot length, horizon, absences, overrides, closures, rules and bookings for `doctor`."""
    schedule: Any = ScheduleFactory(
        doctor=doctor, slot_minutes=rng.choice([10, 15, 20, 30, 45, 60, 90]), horizon_days=rng.randint(1, 9)
    )
    for weekday in range(7):
        for start, end in random_intervals(rng, 3):
            if not WorkingHours.objects.filter(schedule=schedule, weekday=weekday, start=start).exists():
                WorkingHoursFactory(schedule=schedule, weekday=weekday, start=start, end=end)
    for _ in range(rng.randint(0, 3)):
        away = timezone.now() + datetime.timedelta(minutes=rng.randint(-24 * 60, 9 * 24 * 60))
        Absence.objects.create(
            doctor=doctor, start=away, end=away + datetime.timedelta(minutes=rng.randint(5, 3 * 24 * 60))
        )
    for _ in range(rng.randint(0, 3)):
        set_override(doctor, in_days(rng.randint(0, 9)), *random_intervals(rng, 2))
    if rng.random() < 0.3:
        first = in_days(rng.randint(0, 9))
        Closure.objects.create(date_from=first, date_to=first + datetime.timedelta(days=rng.randint(0, 2)), reason="x")
    if rng.random() < 0.5:
        rules.doctor_rules_update(
            doctor=doctor,
            min_notice_minutes=rng.choice([0, 30, 6 * 60, 2 * 24 * 60]),
            cancel_cutoff_minutes=None,
            max_active_per_patient=None,
            max_per_patient_per_day=None,
        )
    slots_generate_for_doctor(doctor_id=doctor.pk)
    free = list(selectors.free_slots(doctor=doctor))  # the bookable ones: the minimum notice applies
    for slot, patient in zip(rng.sample(free, min(len(free), 3)), patients, strict=False):
        slot_book(slot_id=slot["id"], patient=patient)
    if rng.random() < 0.5:
        # The schedule changes after the bookings, and generation runs again: some become conflicts.
        WorkingHours.objects.filter(schedule=schedule, weekday=rng.randint(0, 6)).delete()
        set_override(doctor, in_days(rng.randint(0, 9)), *random_intervals(rng, 2))
        slots_generate_for_doctor(doctor_id=doctor.pk)


def settled(start: str, window: tuple[datetime.datetime, datetime.datetime]) -> bool:
    """Whether a slot did not start while the two requests ran (it may then be in one answer only)."""
    return not window[0] <= datetime.datetime.fromisoformat(start) <= window[1]


@pytest.mark.parametrize("seed", range(12))
def test_once_generated_the_bookable_slots_are_exactly_the_offered_ones(seed, login, admin_user, alice, bob):
    from staff.roles import Role
    from staff.tests.factories import UserFactory

    rng = random.Random(seed)
    doctor = UserFactory(username=f"dr_random_{seed}", roles=[Role.DOCTOR])
    patients = [alice, bob, UserFactory(username=f"patient_{seed}", roles=[Role.PATIENT])]
    random_world(rng, doctor, patients)
    administrator, patient = login(admin_user), login(alice)

    for offset in range(-1, 11):
        day = in_days(offset)
        before = timezone.now()
        body = administrator.get(f"/api/doctors/{doctor.pk}/availability?date={day}").json()
        offered = patient.get(f"/api/doctor/slots/get/{doctor.pk}?date_from={day}&date_to={day}").json()
        # A slot that started between the two requests is offered by neither any more, or by one only.
        moved = timezone.now() + datetime.timedelta(seconds=1)

        window = (before, moved)
        bookable = {
            slot["slot_id"] for slot in body["slots"] if slot["bookable"] and settled(slot["start_time"], window)
        }
        assert bookable == {row["id"] for row in offered if settled(row["start_time"], window)}, (seed, day, body)
        for slot in body["slots"]:
            assert slot["bookable"] == (slot["reasons"] == [])
            assert not slot["bookable"] or slot["slot_id"] is not None
            assert slot["reasons"] == [reason for reason in Reason.values if reason in slot["reasons"]]
            assert ("absence" in slot) == ("absence" in slot["reasons"])
