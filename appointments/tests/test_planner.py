"""The slot planner: weekly (or a date's own) wall-clock hours minus absences into UTC slots, across DST in 2 zones."""

from bisect import bisect_left
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.planner import (
    IntervalSet,
    Slot,
    WorkingInterval,
    day_slots,
    hours_on,
    local_day_bounds,
    plan_slots,
    planned_dates,
    resolve_wall_time,
)
from appointments.planner import (
    weekly_hours as by_weekday,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MOSCOW = ZoneInfo("Europe/Moscow")
UTC_ZONE = ZoneInfo("UTC")
# Brazil's clocks used to change at midnight; it dropped DST in 2019, so those dates are settled history.
SAO_PAULO = ZoneInfo("America/Sao_Paulo")

# An ordinary Wednesday in summer time, far from any transition.
ORDINARY_DAY = date(2026, 6, 10)
# 2026 transitions: Berlin springs forward 02:00 CET -> 03:00 CEST at 01:00 UTC and falls back
# 03:00 CEST -> 02:00 CET at 01:00 UTC; New York springs forward 02:00 EST -> 03:00 EDT at 07:00 UTC
# and falls back 02:00 EDT -> 01:00 EST at 06:00 UTC. All four are Sundays.
BERLIN_SPRING = date(2026, 3, 29)
BERLIN_FALL = date(2026, 10, 25)
NEW_YORK_SPRING = date(2026, 3, 8)
NEW_YORK_FALL = date(2026, 11, 1)

TICK = timedelta(microseconds=1)
USERS_EXAMPLE_STARTS = ["11:00", "11:20", "11:40", "12:00", "12:20", "12:40"]


def _time(text: str) -> time:
    return time.fromisoformat(text)


def _local(day: date, text: str, zone: ZoneInfo = BERLIN) -> datetime:
    """An aware instant from an unambiguous local wall time."""
    return datetime.combine(day, _time(text), tzinfo=zone)


def _utc(text: str) -> datetime:
    """An aware UTC instant from "2026-03-29 01:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _plan_one_day(day, zone, hours, slot_minutes, absences=()):
    """Slots of `day` alone: hours on its weekday, planned from just before its local midnight."""
    now = local_day_bounds(day, zone)[0] - TICK
    slots = plan_slots(
        hours=[WorkingInterval(day.weekday(), _time(start), _time(end)) for start, end in hours],
        absences=list(absences),
        slot_minutes=slot_minutes,
        horizon_days=2,
        zone=zone,
        now=now,
    )
    assert all(_wall(slot.start, zone).date() == day for slot in slots)
    return slots


def _slots(starts, slot_minutes):
    length = timedelta(minutes=slot_minutes)
    return [Slot(start, start + length) for start in starts]


# --- plan_slots on an ordinary day -----------------------------------------------------------------

ORDINARY_CASES = [
    pytest.param([("11:00", "13:00")], 20, USERS_EXAMPLE_STARTS, id="users-example-11-13-at-20"),
    pytest.param([("11:00", "12:50")], 20, ["11:00", "11:20", "11:40", "12:00", "12:20"], id="ragged-end-is-unused"),
    pytest.param([("11:00", "11:30")], 45, [], id="slot-longer-than-interval"),
    pytest.param([("11:00", "11:45")], 45, ["11:00"], id="slot-exactly-the-interval"),
    pytest.param([("08:00", "16:00")], 480, ["08:00"], id="eight-hour-slot"),
    pytest.param(
        [("09:00", "12:00"), ("14:00", "16:00")], 60, ["09:00", "10:00", "11:00", "14:00", "15:00"], id="lunch-break"
    ),
    pytest.param(
        [("14:00", "15:00"), ("09:00", "10:00")], 30, ["09:00", "09:30", "14:00", "14:30"], id="intervals-unsorted"
    ),
    pytest.param([("09:00", "10:00"), ("10:00", "11:00")], 40, ["09:00", "10:00"], id="touching-intervals-restart"),
    pytest.param([("23:00", "23:59")], 20, ["23:00", "23:20"], id="late-evening-stops-before-midnight"),
    pytest.param([("00:00", "00:30")], 15, ["00:00", "00:15"], id="from-midnight"),
]


@pytest.mark.parametrize(("hours", "slot_minutes", "starts"), ORDINARY_CASES)
def test_it_lays_slots_back_to_back_from_each_interval_start(hours, slot_minutes, starts):
    slots = _plan_one_day(ORDINARY_DAY, BERLIN, hours, slot_minutes)

    assert slots == _slots([_local(ORDINARY_DAY, start) for start in starts], slot_minutes)


ABSENCE_CASES = [
    pytest.param([("10:00", "11:00")], USERS_EXAMPLE_STARTS, id="ends-where-hours-start"),
    pytest.param([("13:00", "14:00")], USERS_EXAMPLE_STARTS, id="starts-where-hours-end"),
    pytest.param([("11:20", "11:40")], ["11:00", "11:40", "12:00", "12:20", "12:40"], id="exactly-one-slot"),
    pytest.param([("11:25", "11:30")], ["11:00", "11:40", "12:00", "12:20", "12:40"], id="inside-one-slot"),
    pytest.param([("11:30", "11:50")], ["11:00", "12:00", "12:20", "12:40"], id="straddles-a-boundary"),
    pytest.param([("11:59", "12:01")], ["11:00", "11:20", "12:20", "12:40"], id="one-minute-either-side"),
    pytest.param([("10:00", "14:00")], [], id="covers-the-whole-day"),
    pytest.param(
        [("11:00", "11:20"), ("11:20", "11:40")], ["11:40", "12:00", "12:20", "12:40"], id="two-touching-absences"
    ),
    pytest.param([("11:00", "11:30"), ("11:20", "12:00")], ["12:00", "12:20", "12:40"], id="two-overlapping-absences"),
    pytest.param([("12:00", "13:00"), ("11:20", "11:30")], ["11:00", "11:40"], id="absences-unsorted"),
    pytest.param([("11:30", "11:30")], USERS_EXAMPLE_STARTS, id="empty-absence-blocks-nothing"),
]


@pytest.mark.parametrize(("absences", "starts"), ABSENCE_CASES)
def test_it_skips_slots_overlapping_an_absence_but_not_those_touching_it(absences, starts):
    absences = [(_local(ORDINARY_DAY, start), _local(ORDINARY_DAY, end)) for start, end in absences]

    slots = _plan_one_day(ORDINARY_DAY, BERLIN, [("11:00", "13:00")], 20, absences)

    assert slots == _slots([_local(ORDINARY_DAY, start) for start in starts], 20)


def test_it_compares_absences_as_instants_whatever_their_zone():
    # 09:20-09:40 UTC is 11:20-11:40 in Berlin summer time.
    absence = (_utc("2026-06-10 09:20"), _utc("2026-06-10 09:40"))

    slots = _plan_one_day(ORDINARY_DAY, BERLIN, [("11:00", "13:00")], 20, [absence])

    starts = ["11:00", "11:40", "12:00", "12:20", "12:40"]
    assert slots == _slots([_local(ORDINARY_DAY, start) for start in starts], 20)


def test_a_vacation_spanning_days_blocks_every_day_it_covers():
    hours = [WorkingInterval(weekday, time(11), time(13)) for weekday in range(7)]
    vacation = (_local(ORDINARY_DAY, "00:00"), _local(ORDINARY_DAY + timedelta(days=2), "12:10"))

    slots = plan_slots(
        hours=hours,
        absences=[vacation],
        slot_minutes=20,
        horizon_days=4,
        zone=BERLIN,
        now=_local(ORDINARY_DAY, "00:00"),
    )

    assert [slot.start.astimezone(BERLIN).strftime("%d %H:%M") for slot in slots] == [
        "12 12:20",
        "12 12:40",
        "13 11:00",
        "13 11:20",
        "13 11:40",
        "13 12:00",
        "13 12:20",
        "13 12:40",
    ]


# --- horizon and now ---------------------------------------------------------------------------------


def _users_day(day: str, *starts: str) -> list[str]:
    return [f"{day} {start}" for start in (starts or USERS_EXAMPLE_STARTS)]


HORIZON_CASES = [
    pytest.param(BERLIN, _local(ORDINARY_DAY, "00:00"), 1, _users_day("06-10"), id="horizon-1-is-today-only"),
    pytest.param(
        BERLIN,
        _local(ORDINARY_DAY, "00:00"),
        3,
        _users_day("06-10") + _users_day("06-11") + _users_day("06-12"),
        id="horizon-3-stops-before-the-fourth-day",
    ),
    pytest.param(BERLIN, _local(ORDINARY_DAY, "00:00"), 0, [], id="horizon-0-plans-nothing"),
    pytest.param(
        BERLIN,
        _local(ORDINARY_DAY, "11:30"),
        1,
        _users_day("06-10", "11:40", "12:00", "12:20", "12:40"),
        id="now-mid-slot",
    ),
    pytest.param(
        BERLIN,
        _local(ORDINARY_DAY, "11:20"),
        1,
        _users_day("06-10", "11:40", "12:00", "12:20", "12:40"),
        id="now-on-a-start",
    ),
    pytest.param(
        BERLIN,
        _local(ORDINARY_DAY, "11:20") - TICK,
        1,
        _users_day("06-10", "11:20", "11:40", "12:00", "12:20", "12:40"),
        id="now-a-tick-before-a-start",
    ),
    pytest.param(BERLIN, _local(ORDINARY_DAY, "13:00"), 1, [], id="now-after-hours-horizon-1"),
    pytest.param(
        BERLIN, _local(ORDINARY_DAY, "13:00"), 2, _users_day("06-11"), id="now-after-hours-today-still-counts"
    ),
    pytest.param(
        BERLIN, _utc("2026-06-10 23:30"), 1, _users_day("06-11"), id="now-in-utc-is-already-tomorrow-in-berlin"
    ),
    pytest.param(NEW_YORK, _utc("2026-06-11 02:00"), 1, [], id="now-in-utc-is-still-yesterday-in-new-york"),
    pytest.param(
        NEW_YORK, _utc("2026-06-11 02:00"), 2, _users_day("06-11"), id="new-york-horizon-counts-from-its-own-date"
    ),
]


@pytest.mark.parametrize(("zone", "now", "horizon_days", "expected"), HORIZON_CASES)
def test_it_plans_local_dates_from_today_and_only_slots_starting_after_now(zone, now, horizon_days, expected):
    hours = [WorkingInterval(weekday, time(11), time(13)) for weekday in range(7)]

    slots = plan_slots(hours=hours, absences=[], slot_minutes=20, horizon_days=horizon_days, zone=zone, now=now)

    assert [slot.start.astimezone(zone).strftime("%m-%d %H:%M") for slot in slots] == expected


def test_it_maps_weekdays_on_the_local_calendar():
    monday_only = [WorkingInterval(0, time(9), time(10))]

    slots = plan_slots(
        hours=monday_only,
        absences=[],
        slot_minutes=30,
        horizon_days=7,
        zone=BERLIN,
        now=_local(ORDINARY_DAY, "00:00"),
    )

    assert slots == _slots([_local(date(2026, 6, 15), "09:00"), _local(date(2026, 6, 15), "09:30")], 30)


@pytest.mark.parametrize("slot_minutes", [0, -20], ids=["zero", "negative"])
def test_it_rejects_a_slot_length_that_is_not_positive(slot_minutes):
    with pytest.raises(ValueError, match="slot_minutes"):
        plan_slots(hours=[], absences=[], slot_minutes=slot_minutes, horizon_days=1, zone=BERLIN, now=datetime.now(UTC))


def test_it_rejects_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        plan_slots(hours=[], absences=[], slot_minutes=20, horizon_days=1, zone=BERLIN, now=datetime(2026, 6, 10, 9))


# --- daylight saving ---------------------------------------------------------------------------------

# Expected starts are UTC; each slot lasts exactly slot_minutes of real time.
DST_CASES = [
    # Berlin, spring forward: 02:00-03:00 does not exist.
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("00:00", "05:00")],
        60,
        ["2026-03-28 23:00", "2026-03-29 00:00", "2026-03-29 01:00", "2026-03-29 02:00"],
        id="berlin-spring-00-05-at-60-skips-the-missing-hour",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("01:00", "04:00")],
        45,
        # 01:45 CET runs to 03:30 CEST, so 03:15 CEST would overlap it.
        ["2026-03-29 00:00", "2026-03-29 00:45"],
        id="berlin-spring-01-04-at-45-no-overlap-after-the-gap",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("01:00", "04:00")],
        90,
        ["2026-03-29 00:00"],
        id="berlin-spring-01-04-at-90-one-slot-across-the-gap",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("00:00", "05:00")],
        90,
        # 01:30 CET runs to 04:00 CEST: 03:00 CEST overlaps it, 04:30 does not fit.
        ["2026-03-28 23:00", "2026-03-29 00:30"],
        id="berlin-spring-00-05-at-90",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("01:00", "02:00")],
        60,
        # The slot ends as the clocks jump: 02:00 on its own clock, although they then read 03:00.
        ["2026-03-29 00:00"],
        id="berlin-spring-slot-ending-at-the-jump-fits",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("01:00", "02:00")],
        30,
        ["2026-03-29 00:00", "2026-03-29 00:30"],
        id="berlin-spring-last-half-hour-before-the-jump",
    ),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("01:00", "03:00")],
        60,
        ["2026-03-29 00:00"],
        id="berlin-spring-ending-at-03-equals-ending-at-02",
    ),
    pytest.param(BERLIN, BERLIN_SPRING, [("02:00", "03:00")], 20, [], id="berlin-spring-hours-inside-the-gap"),
    pytest.param(
        BERLIN,
        BERLIN_SPRING,
        [("02:00", "04:00")],
        60,
        ["2026-03-29 01:00"],
        id="berlin-spring-hours-starting-in-the-gap",
    ),
    # Berlin, fall back: 02:00-03:00 happens twice, first in CEST then in CET.
    pytest.param(
        BERLIN,
        BERLIN_FALL,
        [("00:00", "05:00")],
        60,
        ["2026-10-24 22:00", "2026-10-24 23:00", "2026-10-25 00:00", "2026-10-25 02:00", "2026-10-25 03:00"],
        id="berlin-fall-00-05-at-60-one-slot-per-repeated-time",
    ),
    pytest.param(
        BERLIN,
        BERLIN_FALL,
        [("01:00", "04:00")],
        45,
        # 02:30 CEST runs to 02:15 CET; the next wall start is 03:15 CET.
        ["2026-10-24 23:00", "2026-10-24 23:45", "2026-10-25 00:30", "2026-10-25 02:15"],
        id="berlin-fall-01-04-at-45",
    ),
    pytest.param(
        BERLIN,
        BERLIN_FALL,
        [("01:00", "04:00")],
        90,
        ["2026-10-24 23:00", "2026-10-25 00:30"],
        id="berlin-fall-01-04-at-90",
    ),
    pytest.param(
        BERLIN,
        BERLIN_FALL,
        [("02:00", "03:00")],
        20,
        ["2026-10-25 00:00", "2026-10-25 00:20", "2026-10-25 00:40"],
        id="berlin-fall-repeated-hour-gives-three-slots-not-six",
    ),
    pytest.param(
        BERLIN,
        BERLIN_FALL,
        [("02:00", "03:00")],
        90,
        # Slot starts need 90 minutes of wall clock: the repeated hour does not stretch the interval.
        [],
        id="berlin-fall-repeated-hour-adds-no-room",
    ),
    # New York, spring forward: 02:00-03:00 does not exist.
    pytest.param(
        NEW_YORK,
        NEW_YORK_SPRING,
        [("00:00", "05:00")],
        60,
        ["2026-03-08 05:00", "2026-03-08 06:00", "2026-03-08 07:00", "2026-03-08 08:00"],
        id="new-york-spring-00-05-at-60",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_SPRING,
        [("01:00", "04:00")],
        45,
        # 01:45 EST runs to 03:30 EDT, so 03:15 EDT would overlap it.
        ["2026-03-08 06:00", "2026-03-08 06:45"],
        id="new-york-spring-01-04-at-45-no-overlap-after-the-gap",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_SPRING,
        [("01:00", "04:00")],
        90,
        ["2026-03-08 06:00"],
        id="new-york-spring-01-04-at-90",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_SPRING,
        [("01:00", "02:00")],
        60,
        ["2026-03-08 06:00"],
        id="new-york-spring-slot-ending-at-the-jump-fits",
    ),
    # New York, fall back: 01:00-02:00 happens twice, first in EDT then in EST.
    pytest.param(
        NEW_YORK,
        NEW_YORK_FALL,
        [("00:00", "05:00")],
        60,
        ["2026-11-01 04:00", "2026-11-01 05:00", "2026-11-01 07:00", "2026-11-01 08:00", "2026-11-01 09:00"],
        id="new-york-fall-00-05-at-60-one-slot-per-repeated-time",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_FALL,
        [("00:00", "03:00")],
        45,
        # 01:30 EDT runs to 01:15 EST; the next wall start is 02:15 EST.
        ["2026-11-01 04:00", "2026-11-01 04:45", "2026-11-01 05:30", "2026-11-01 07:15"],
        id="new-york-fall-00-03-at-45",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_FALL,
        [("00:00", "03:00")],
        90,
        ["2026-11-01 04:00", "2026-11-01 05:30"],
        id="new-york-fall-00-03-at-90",
    ),
    pytest.param(
        NEW_YORK,
        NEW_YORK_FALL,
        [("01:00", "02:00")],
        20,
        ["2026-11-01 05:00", "2026-11-01 05:20", "2026-11-01 05:40"],
        id="new-york-fall-repeated-hour-gives-three-slots-not-six",
    ),
    # Moscow keeps +03:00 all year: the Berlin spring date is an ordinary day there.
    pytest.param(
        MOSCOW,
        BERLIN_SPRING,
        [("00:00", "05:00")],
        60,
        ["2026-03-28 21:00", "2026-03-28 22:00", "2026-03-28 23:00", "2026-03-29 00:00", "2026-03-29 01:00"],
        id="moscow-has-no-transition",
    ),
]


@pytest.mark.parametrize(("zone", "day", "hours", "slot_minutes", "utc_starts"), DST_CASES)
def test_it_keeps_slots_exact_in_real_time_across_dst(zone, day, hours, slot_minutes, utc_starts):
    slots = _plan_one_day(day, zone, hours, slot_minutes)

    assert slots == _slots([_utc(start) for start in utc_starts], slot_minutes)


def test_an_absence_removes_slots_without_reshaping_the_dst_grid():
    # The absence takes the 01:45 CET slot (00:45-01:30 UTC); 03:15 CEST still overlaps that slot's
    # place on the grid, so it stays skipped: absences remove slots, they never move them.
    absence = (_utc("2026-03-29 00:45"), _utc("2026-03-29 01:00"))

    slots = _plan_one_day(BERLIN_SPRING, BERLIN, [("01:00", "04:00")], 45, [absence])

    assert slots == _slots([_utc("2026-03-29 00:00")], 45)


# --- a date's own hours (a doctor's date override; none on a closed date) -----------------------------


def _plan_dates(zone, first_day, days, hours, slot_minutes, date_hours):
    """Slots of `days` dates from `first_day`, planned from just before its local midnight (the day before)."""
    return plan_slots(
        hours=[WorkingInterval(weekday, _time(start), _time(end)) for weekday in range(7) for start, end in hours],
        absences=[],
        slot_minutes=slot_minutes,
        horizon_days=days + 1,
        zone=zone,
        now=local_day_bounds(first_day, zone)[0] - TICK,
        date_hours={day: [(_time(start), _time(end)) for start, end in own] for day, own in date_hours.items()},
    )


def test_a_dates_own_hours_replace_its_weekdays_hours_on_that_date_only():
    following = ORDINARY_DAY + timedelta(days=1)

    slots = _plan_dates(BERLIN, ORDINARY_DAY, 2, [("11:00", "13:00")], 60, {ORDINARY_DAY: [("15:00", "17:00")]})

    assert slots == _slots(
        [
            _local(ORDINARY_DAY, "15:00"),
            _local(ORDINARY_DAY, "16:00"),
            _local(following, "11:00"),
            _local(following, "12:00"),
        ],
        60,
    )


def test_a_date_whose_own_hours_are_none_gets_no_slots():
    following = ORDINARY_DAY + timedelta(days=1)

    slots = _plan_dates(BERLIN, ORDINARY_DAY, 2, [("11:00", "13:00")], 60, {ORDINARY_DAY: []})

    assert slots == _slots([_local(following, "11:00"), _local(following, "12:00")], 60)


def test_a_date_may_have_hours_when_its_weekday_has_none():
    slots = _plan_dates(BERLIN, ORDINARY_DAY, 3, [], 30, {ORDINARY_DAY + timedelta(days=2): [("09:00", "10:00")]})

    day = ORDINARY_DAY + timedelta(days=2)
    assert slots == _slots([_local(day, "09:00"), _local(day, "09:30")], 30)


def test_a_dates_own_hours_outside_the_horizon_change_nothing():
    beyond = ORDINARY_DAY + timedelta(days=1)

    slots = _plan_dates(BERLIN, ORDINARY_DAY, 1, [("11:00", "12:00")], 60, {beyond: [("15:00", "16:00")]})

    assert slots == _slots([_local(ORDINARY_DAY, "11:00")], 60)


@pytest.mark.parametrize(("zone", "day", "hours", "slot_minutes", "utc_starts"), DST_CASES)
def test_a_dates_own_hours_follow_the_same_dst_rules_as_weekly_hours(zone, day, hours, slot_minutes, utc_starts):
    # Weekly hours that would give other slots; the date's own hours give exactly the weekly case's.
    slots = _plan_dates(zone, day, 1, [("12:00", "13:00")], slot_minutes, {day: hours})

    assert slots == _slots([_utc(start) for start in utc_starts], slot_minutes)
    assert slots == day_slots(
        day=day, intervals=[(_time(start), _time(end)) for start, end in hours], slot_minutes=slot_minutes, zone=zone
    )


HOURS_ON_CASES = [
    pytest.param({}, ["09:00-13:00", "14:00-18:00"], id="the-weekdays-hours-sorted"),
    pytest.param({ORDINARY_DAY: [("16:00", "17:00"), ("08:00", "09:00")]}, ["08:00-09:00", "16:00-17:00"], id="own"),
    pytest.param({ORDINARY_DAY: []}, [], id="own-empty-is-a-day-off"),
    pytest.param({ORDINARY_DAY + timedelta(days=7): []}, ["09:00-13:00", "14:00-18:00"], id="another-dates-own"),
]


@pytest.mark.parametrize(("date_hours", "expected"), HOURS_ON_CASES)
def test_hours_on_a_date_are_its_own_if_it_has_an_entry_else_its_weekdays(date_hours, expected):
    wednesday = ORDINARY_DAY.weekday()
    weekly = by_weekday(
        [
            WorkingInterval(wednesday, time(14), time(18)),
            WorkingInterval(wednesday, time(9), time(13)),
            WorkingInterval(wednesday + 1, time(7), time(8)),
        ]
    )

    own = {day: [(_time(start), _time(end)) for start, end in hours] for day, hours in date_hours.items()}

    intervals = hours_on(ORDINARY_DAY, weekly=weekly, date_hours=own)

    assert [f"{start:%H:%M}-{end:%H:%M}" for start, end in intervals] == expected


@pytest.mark.parametrize(
    ("zone", "now", "horizon_days", "expected"),
    [
        pytest.param(BERLIN, _utc("2026-06-10 21:59"), 1, (date(2026, 6, 10), date(2026, 6, 10)), id="berlin-evening"),
        pytest.param(BERLIN, _utc("2026-06-10 22:00"), 7, (date(2026, 6, 11), date(2026, 6, 17)), id="berlin-midnight"),
        pytest.param(NEW_YORK, _utc("2026-06-11 02:00"), 2, (date(2026, 6, 10), date(2026, 6, 11)), id="new-york"),
    ],
)
def test_planned_dates_run_from_the_local_today_through_the_horizon(zone, now, horizon_days, expected):
    assert planned_dates(now=now, horizon_days=horizon_days, zone=zone) == expected


# --- resolve_wall_time and local_day_bounds ----------------------------------------------------------

RESOLVE_CASES = [
    pytest.param(BERLIN, ORDINARY_DAY, "11:00", "2026-06-10 09:00", id="berlin-summer"),
    pytest.param(BERLIN, BERLIN_SPRING, "01:59", "2026-03-29 00:59", id="berlin-last-minute-before-the-gap"),
    pytest.param(BERLIN, BERLIN_SPRING, "02:00", None, id="berlin-gap-start-does-not-exist"),
    pytest.param(BERLIN, BERLIN_SPRING, "02:30", None, id="berlin-gap-middle-does-not-exist"),
    pytest.param(BERLIN, BERLIN_SPRING, "02:59", None, id="berlin-gap-last-minute-does-not-exist"),
    pytest.param(BERLIN, BERLIN_SPRING, "03:00", "2026-03-29 01:00", id="berlin-first-minute-after-the-gap"),
    pytest.param(BERLIN, BERLIN_FALL, "01:59", "2026-10-24 23:59", id="berlin-before-the-repeated-hour"),
    pytest.param(BERLIN, BERLIN_FALL, "02:00", "2026-10-25 00:00", id="berlin-repeated-0200-first-occurrence"),
    pytest.param(BERLIN, BERLIN_FALL, "02:30", "2026-10-25 00:30", id="berlin-repeated-0230-first-occurrence"),
    pytest.param(BERLIN, BERLIN_FALL, "03:00", "2026-10-25 02:00", id="berlin-after-the-repeated-hour"),
    pytest.param(NEW_YORK, NEW_YORK_SPRING, "01:59", "2026-03-08 06:59", id="new-york-last-minute-before-the-gap"),
    pytest.param(NEW_YORK, NEW_YORK_SPRING, "02:30", None, id="new-york-gap-does-not-exist"),
    pytest.param(NEW_YORK, NEW_YORK_SPRING, "03:00", "2026-03-08 07:00", id="new-york-first-minute-after-the-gap"),
    pytest.param(NEW_YORK, NEW_YORK_FALL, "01:30", "2026-11-01 05:30", id="new-york-repeated-0130-first-occurrence"),
    pytest.param(NEW_YORK, NEW_YORK_FALL, "02:00", "2026-11-01 07:00", id="new-york-after-the-repeated-hour"),
    pytest.param(MOSCOW, BERLIN_SPRING, "02:30", "2026-03-28 23:30", id="moscow-no-gap"),
    pytest.param(UTC_ZONE, BERLIN_SPRING, "02:30", "2026-03-29 02:30", id="utc-no-gap"),
    pytest.param(SAO_PAULO, date(2018, 11, 4), "00:00", None, id="sao-paulo-skipped-midnight"),
]


@pytest.mark.parametrize(("zone", "day", "at", "expected"), RESOLVE_CASES)
def test_resolve_wall_time_gives_the_first_occurrence_or_none_when_skipped(zone, day, at, expected):
    instant = resolve_wall_time(day, _time(at), zone)

    assert instant == (_utc(expected) if expected else None)
    if instant is not None:
        assert instant.utcoffset() == timedelta(0)
        assert _wall(instant, zone) == datetime.combine(day, _time(at))


DAY_BOUNDS_CASES = [
    pytest.param(BERLIN, ORDINARY_DAY, "2026-06-09 22:00", 24, id="berlin-ordinary-24h"),
    pytest.param(BERLIN, BERLIN_SPRING, "2026-03-28 23:00", 23, id="berlin-spring-23h"),
    pytest.param(BERLIN, BERLIN_FALL, "2026-10-24 22:00", 25, id="berlin-fall-25h"),
    pytest.param(NEW_YORK, NEW_YORK_SPRING, "2026-03-08 05:00", 23, id="new-york-spring-23h"),
    pytest.param(NEW_YORK, NEW_YORK_FALL, "2026-11-01 04:00", 25, id="new-york-fall-25h"),
    pytest.param(MOSCOW, BERLIN_SPRING, "2026-03-28 21:00", 24, id="moscow-24h"),
    pytest.param(UTC_ZONE, BERLIN_SPRING, "2026-03-29 00:00", 24, id="utc-24h"),
    # Midnight itself was skipped: the day starts at 01:00 -02:00, the first instant after the gap.
    pytest.param(SAO_PAULO, date(2018, 11, 4), "2018-11-04 03:00", 23, id="sao-paulo-skipped-midnight-23h"),
    # The next midnight happened twice: the day ends at the first of them.
    pytest.param(
        SAO_PAULO, date(2019, 2, 16), "2019-02-16 02:00", 25, id="sao-paulo-repeated-hour-before-midnight-25h"
    ),
]


@pytest.mark.parametrize(("zone", "day", "utc_start", "hours"), DAY_BOUNDS_CASES)
def test_local_day_bounds_are_23_24_or_25_hours_long(zone, day, utc_start, hours):
    start, end = local_day_bounds(day, zone)

    assert start == _utc(utc_start)
    assert end - start == timedelta(hours=hours)
    assert _wall(start, zone).date() == day
    assert _wall(end - TICK, zone).date() == day
    assert _wall(end, zone).date() == day + timedelta(days=1)


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, MOSCOW, UTC_ZONE], ids=str)
def test_consecutive_local_days_share_their_boundary(zone):
    days = [date(2026, 3, 1) + timedelta(days=offset) for offset in range(280)]

    bounds = [local_day_bounds(day, zone) for day in days]

    assert all(previous[1] == following[0] for previous, following in zip(bounds, bounds[1:], strict=False))


# --- IntervalSet -------------------------------------------------------------------------------------

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _minutes(first: int, second: int) -> tuple[datetime, datetime]:
    return EPOCH + timedelta(minutes=first), EPOCH + timedelta(minutes=second)


OVERLAP_CASES = [
    pytest.param([], (0, 10), False, id="no-absences"),
    pytest.param([(20, 30)], (0, 10), False, id="before"),
    pytest.param([(20, 30)], (40, 50), False, id="after"),
    pytest.param([(20, 30)], (10, 20), False, id="ends-where-absence-starts"),
    pytest.param([(20, 30)], (30, 40), False, id="starts-where-absence-ends"),
    pytest.param([(20, 30)], (15, 25), True, id="across-absence-start"),
    pytest.param([(20, 30)], (25, 35), True, id="across-absence-end"),
    pytest.param([(20, 30)], (22, 28), True, id="inside"),
    pytest.param([(20, 30)], (20, 30), True, id="same-span"),
    pytest.param([(20, 30)], (20, 21), True, id="shares-the-start"),
    pytest.param([(20, 30)], (29, 30), True, id="shares-the-end"),
    pytest.param([(20, 30)], (10, 40), True, id="contains-the-absence"),
    pytest.param([(0, 10), (20, 30)], (10, 20), False, id="fills-the-gap-between-two"),
    pytest.param([(0, 10), (20, 30)], (12, 18), False, id="inside-the-gap"),
    pytest.param([(0, 10), (20, 30)], (12, 22), True, id="from-the-gap-into-the-next"),
    pytest.param([(0, 10), (20, 30)], (5, 25), True, id="spans-the-gap"),
    pytest.param([(0, 20), (10, 30)], (25, 35), True, id="overlapping-absences-merge"),
    pytest.param([(0, 20), (10, 30)], (30, 40), False, id="merged-absences-end-touched"),
    pytest.param([(0, 10), (10, 20)], (5, 15), True, id="touching-absences-merge"),
    pytest.param([(0, 30), (10, 20)], (25, 35), True, id="nested-absence-keeps-the-outer-end"),
    pytest.param([(20, 30), (0, 10)], (25, 26), True, id="unsorted-absences"),
    pytest.param([(15, 15)], (10, 20), False, id="empty-absence-holds-no-time"),
    pytest.param([(20, 10)], (0, 30), False, id="inverted-absence-holds-no-time"),
    pytest.param([(0, 30)], (10, 10), False, id="empty-query-shares-no-time"),
]


@pytest.mark.parametrize(("absences", "query", "expected"), OVERLAP_CASES)
def test_interval_set_overlaps_only_when_time_is_shared(absences, query, expected):
    intervals = IntervalSet(_minutes(*absence) for absence in absences)

    assert intervals.overlaps(*_minutes(*query)) is expected


def test_interval_set_compares_instants_across_zones():
    # 11:00-12:00 in Berlin summer time is 09:00-10:00 UTC.
    intervals = IntervalSet([(_local(ORDINARY_DAY, "11:00"), _local(ORDINARY_DAY, "12:00"))])

    assert intervals.overlaps(_utc("2026-06-10 09:59"), _utc("2026-06-10 10:30"))
    assert not intervals.overlaps(_utc("2026-06-10 10:00"), _utc("2026-06-10 10:30"))


# --- properties --------------------------------------------------------------------------------------

ZONES = [BERLIN, NEW_YORK, MOSCOW, UTC_ZONE]
TRANSITION_DAYS = {BERLIN: [BERLIN_SPRING, BERLIN_FALL], NEW_YORK: [NEW_YORK_SPRING, NEW_YORK_FALL]}
# No deadline and no too_slow check: a busy CI machine must not fail a correct planner.
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _minute_of_day(minute: int) -> time:
    return time(minute // 60, minute % 60)


# Boundaries anywhere in the day, on quarter hours, or in the small hours where clocks change.
day_minutes = st.one_of(
    st.integers(0, 24 * 60 - 1),
    st.integers(0, 95).map(lambda quarter: quarter * 15),
    st.integers(0, 5 * 60),
    st.integers(0, 20).map(lambda quarter: quarter * 15),
)


@st.composite
def weekly_hours(draw, night_shift_on_sunday=False):
    """Non-overlapping (possibly touching) working intervals for each weekday.

    A night shift on Sunday (every 2026 transition above is on a Sunday) works through 02:30, where
    clocks change in both DST zones.
    """
    hours = []
    if night_shift_on_sunday:
        night_shift = (draw(st.integers(0, 150)), draw(st.integers(151, 6 * 60)))
        hours.append(WorkingInterval(6, *map(_minute_of_day, night_shift)))
    for weekday in range(6 if night_shift_on_sunday else 7):
        boundaries = sorted(draw(st.sets(day_minutes, max_size=5)))
        for start, end in zip(boundaries, boundaries[1:], strict=False):
            if draw(st.booleans()):
                hours.append(WorkingInterval(weekday, _minute_of_day(start), _minute_of_day(end)))
    return hours


@st.composite
def nows(draw, zone, horizon_days, near_transition):
    """Any instant, or one whose horizon reaches one of the zone's transition days."""
    if not near_transition:
        return draw(
            st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
        )
    day = draw(st.sampled_from(TRANSITION_DAYS[zone])) - timedelta(days=draw(st.integers(0, horizon_days - 1)))
    # Often exactly on a five-minute mark, where slots start, to test "strictly after now".
    offset = draw(
        st.one_of(
            st.integers(0, 24 * 12 - 1).map(lambda marks: timedelta(minutes=5 * marks)),
            st.integers(0, 24 * 3600 * 10**6 - 1).map(lambda micros: timedelta(microseconds=micros)),
        )
    )
    return local_day_bounds(day, zone)[0] + offset


@st.composite
def absence_lists(draw, midnight):
    """Absences from a day before `midnight` to two weeks after, often on quarter hours or hours to touch slots."""
    minutes = st.one_of(
        st.integers(-24 * 60, 15 * 24 * 60),
        st.integers(-96, 15 * 96).map(lambda quarters: quarters * 15),
        st.integers(-24, 15 * 24).map(lambda hours: hours * 60),
    )
    lengths = st.one_of(
        st.integers(1, 3 * 24 * 60),
        st.integers(1, 16).map(lambda quarters: quarters * 15),
        st.integers(1, 8).map(lambda hours: hours * 60),
    )
    return [
        (midnight + timedelta(minutes=offset), midnight + timedelta(minutes=offset + length))
        for offset, length in draw(st.lists(st.tuples(minutes, lengths), max_size=5))
    ]


@st.composite
def plans(draw):
    """Keyword arguments for plan_slots."""
    zone = draw(st.sampled_from(ZONES))
    horizon_days = draw(st.integers(1, 14))
    # Three times in four, a DST zone plans across one of its transitions.
    near_transition = zone in TRANSITION_DAYS and draw(st.integers(0, 3)) > 0
    now = draw(nows(zone, horizon_days, near_transition))
    midnight = local_day_bounds(now.astimezone(zone).date(), zone)[0]
    return {
        "hours": draw(weekly_hours(night_shift_on_sunday=near_transition)),
        "absences": draw(absence_lists(midnight)),
        # Around a transition, lengths that fit the night shift more often than not.
        "slot_minutes": draw(
            st.one_of(st.sampled_from([5, 15, 20, 30, 45, 60, 90]), st.integers(5, 150 if near_transition else 480))
        ),
        "horizon_days": horizon_days,
        "zone": zone,
        "now": now,
    }


def _first_instant_reading(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant the clocks read `at` or later on `day`: the jump itself when `at` is skipped."""
    wall = datetime.combine(day, at)
    # fold=0 is the first occurrence of a repeated time; a skipped time does not survive the round trip.
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if _wall(instant, zone) == wall:
        return instant
    # fold=1 maps a skipped time to before the gap; walk to the jump (transitions are on whole minutes).
    instant = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while _wall(instant, zone) < wall:
        instant += timedelta(minutes=1)
    return instant


@PROPERTY_SETTINGS
@given(plans())
def test_slots_come_sorted_never_overlap_and_last_exactly_slot_minutes(plan):
    slots = plan_slots(**plan)

    assert slots == sorted(slots)
    assert all(previous.stop <= following.start for previous, following in zip(slots, slots[1:], strict=False))
    assert all(slot.stop - slot.start == timedelta(minutes=plan["slot_minutes"]) for slot in slots)
    assert all(slot.start.utcoffset() == timedelta(0) for slot in slots)


@PROPERTY_SETTINGS
@given(plans())
def test_every_slot_lies_inside_a_working_interval_of_its_local_day(plan):
    zone, length = plan["zone"], timedelta(minutes=plan["slot_minutes"])

    for slot in plan_slots(**plan):
        wall_start = _wall(slot.start, zone)
        # The clock as seen from inside the slot: one ending as clocks spring forward ends at 02:00.
        wall_end = _wall(slot.stop - TICK, zone) + TICK
        day = wall_start.date()
        containing = [
            interval
            for interval in plan["hours"]
            if interval.weekday == day.weekday()
            and datetime.combine(day, interval.start) <= wall_start < datetime.combine(day, interval.end)
            and wall_end <= datetime.combine(day, interval.end)
        ]
        assert len(containing) == 1, (slot, wall_start, wall_end)
        interval = containing[0]
        # On the interval's wall-clock grid, at the first occurrence of that wall time.
        assert (wall_start - datetime.combine(day, interval.start)) % length == timedelta(0)
        assert slot.start.astimezone(zone).fold == 0
        # And within the real time between the clocks first reading the interval's start and end.
        assert _first_instant_reading(day, interval.start, zone) <= slot.start
        assert slot.stop <= _first_instant_reading(day, interval.end, zone)


def _clear_of(slot: Slot, absences) -> bool:
    """True when the slot shares no time with any absence (touching one is fine)."""
    return all(slot.stop <= start or end <= slot.start for start, end in absences)


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_absences_remove_exactly_the_slots_they_overlap_and_none_they_touch(plan, data):
    unblocked = plan_slots(**{**plan, "absences": []})
    absences = list(plan["absences"])
    # Random absences seldom meet a slot's edge exactly, so add some that end where a slot starts,
    # start where one stops, or sit inside one.
    for slot in data.draw(st.lists(st.sampled_from(unblocked), max_size=4) if unblocked else st.just([])):
        minutes = timedelta(minutes=data.draw(st.integers(1, 120), label="minutes"))
        touching_or_inside = [
            (slot.start - minutes, slot.start),
            (slot.stop, slot.stop + minutes),
            (slot.start + TICK, slot.stop),
        ]
        absences.append(data.draw(st.sampled_from(touching_or_inside), label="absence"))

    slots = plan_slots(**{**plan, "absences": absences})

    assert all(_clear_of(slot, absences) for slot in slots)
    assert slots == [slot for slot in unblocked if _clear_of(slot, absences)]


@PROPERTY_SETTINGS
@given(plans())
def test_every_slot_starts_after_now_on_a_date_within_the_horizon(plan):
    zone = plan["zone"]
    today = plan["now"].astimezone(zone).date()

    for slot in plan_slots(**plan):
        assert slot.start > plan["now"]
        assert today <= _wall(slot.start, zone).date() < today + timedelta(days=plan["horizon_days"])


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_a_later_now_on_the_same_day_only_drops_slots_starting_until_then(plan, data):
    zone = plan["zone"]
    today = plan["now"].astimezone(zone).date()
    from_midnight = plan_slots(**{**plan, "now": local_day_bounds(today, zone)[0]})
    # The drawn now, or exactly the start of one of today's slots.
    starts_today = [slot.start for slot in from_midnight if _wall(slot.start, zone).date() == today]
    now = data.draw(st.sampled_from([plan["now"], *starts_today]), label="now")

    assert plan_slots(**{**plan, "now": now}) == [slot for slot in from_midnight if slot.start > now]


@PROPERTY_SETTINGS
@given(plans())
def test_no_slot_is_missing_where_one_would_fit(plan):
    zone, length = plan["zone"], timedelta(minutes=plan["slot_minutes"])
    today = plan["now"].astimezone(zone).date()
    # From just before today's midnight, without absences: nothing is left out for being past or blocked.
    now = local_day_bounds(today, zone)[0] - TICK
    slots = plan_slots(**{**plan, "absences": [], "now": now, "horizon_days": plan["horizon_days"] + 1})
    starts = [slot.start for slot in slots]

    for day in (today + timedelta(days=offset) for offset in range(plan["horizon_days"])):
        for interval in (interval for interval in plan["hours"] if interval.weekday == day.weekday()):
            wall, end = datetime.combine(day, interval.start), datetime.combine(day, interval.end)
            # Every step of the wall-clock grid that exists and ends within the interval...
            while wall + length <= end:
                start = _first_instant_reading(day, wall.time(), zone)
                stop = start + length
                if _wall(start, zone) == wall and _wall(stop - TICK, zone) + TICK <= end:
                    # ...is a slot, or overlaps the slot before it (after a spring-forward gap).
                    before = bisect_left(starts, stop) - 1
                    assert before >= 0 and start < slots[before].stop, (day, interval, wall)
                    assert slots[before] == Slot(start, stop) or slots[before].start < start
                wall += length


@PROPERTY_SETTINGS
@given(plans())
def test_planning_twice_or_in_another_order_gives_equal_results(plan):
    first = plan_slots(**plan)

    assert plan_slots(**plan) == first
    reordered = {**plan, "hours": plan["hours"][::-1], "absences": plan["absences"][::-1]}
    assert plan_slots(**reordered) == first


@PROPERTY_SETTINGS
@given(plans(), st.data())
def test_a_dates_own_hours_change_that_date_alone(plan, data):
    zone = plan["zone"]
    first, last = planned_dates(now=plan["now"], horizon_days=plan["horizon_days"], zone=zone)
    dates = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    weekly = by_weekday(plan["hours"])
    same = {day: hours_on(day, weekly=weekly) for day in data.draw(st.sets(st.sampled_from(dates)))}
    closed = data.draw(st.sampled_from(dates))

    assert plan_slots(**plan, date_hours=same) == plan_slots(**plan)
    assert plan_slots(**plan, date_hours={closed: []}) == [
        slot for slot in plan_slots(**plan) if slot.start.astimezone(zone).date() != closed
    ]
