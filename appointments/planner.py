"""The slot planner: weekly hours (or a date's own hours) minus absences -> slot intervals. Pure: no ORM, no clock.

Planning happens in the clinic's zone (wall-clock working hours), results are aware UTC datetimes.
A date may have hours of its own (`date_hours`: a doctor's date override, or none at all on a day
the clinic is closed); they replace that date's weekly hours and follow the same rules below.

Daylight saving rules:
- slots are laid out on the wall clock from each interval's start, one every `slot_minutes`;
- a wall-clock start that does not exist (spring forward) gives no slot;
- a wall-clock start that occurs twice (fall back) gives one slot, at its first occurrence;
- every slot lasts exactly `slot_minutes` of real time, and must end (on the wall clock) within
  its working interval; the wall clock is read just before the end, so a slot ending as the clocks
  spring forward ends at the old time (02:00, not 03:00);
- a start also needs `slot_minutes` of wall-clock time before its interval's end, so the repeated
  hour of a fall-back day adds no slots.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

# The smallest step a datetime can take: "just before" an instant.
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, order=True)
class WorkingInterval:
    weekday: int  # Monday = 0 .. Sunday = 6
    start: time
    end: time


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware, UTC
    stop: datetime  # aware, UTC


# One date's working intervals, wall-clock (start, end); empty = no work that date.
DayHours = Sequence[tuple[time, time]]


def resolve_wall_time(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None when the zone skips it (spring forward).

    fold=0 picks the first of two occurrences (fall back), so each wall time maps to one instant.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day as UTC instants (23 or 25 hours long on DST days)."""
    return _day_start(day, zone), _day_start(day + timedelta(days=1), zone)


def _wall_end(stop: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time at which a slot ending at `stop` ends, as seen from inside the slot."""
    # Read the clock a tick before the end: at the spring-forward instant the clock already shows
    # 03:00, yet a slot that ends then ran until 02:00 on its own wall clock.
    return (stop - _TICK).astimezone(zone).replace(tzinfo=None) + _TICK


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    # Where midnight itself is skipped (a few zones switch at 00:00), the day starts at the
    # first instant after the gap; fold=0 on a skipped time maps past it.
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


# Instants: aware datetimes, or microseconds since the epoch (generation compares those in bulk).
Instant = TypeVar("Instant", datetime, int)


class IntervalSet(Generic[Instant]):
    """Intervals (absences, booked slots) merged into disjoint ones, for O(log n) overlap checks."""

    def __init__(self, intervals: Iterable[tuple[Instant, Instant]]):
        merged: list[list[Instant]] = []
        # An interval that does not end after it starts holds no time, so it blocks nothing.
        for start, end in sorted(interval for interval in intervals if interval[0] < interval[1]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts: list[Instant] = [start for start, _ in merged]
        self.ends: list[Instant] = [end for _, end in merged]

    def overlaps(self, start: Instant, stop: Instant) -> bool:
        """True when [start, stop) shares time with an absence; touching an edge is not overlapping."""
        if start >= stop:
            return False
        index = bisect_right(self.starts, start) - 1
        if index >= 0 and self.ends[index] > start:
            return True
        following = index + 1
        return following < len(self.starts) and self.starts[following] < stop


def planned_dates(*, now: datetime, horizon_days: int, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local date a plan covers: today through today + horizon - 1."""
    today = now.astimezone(zone).date()
    return today, today + timedelta(days=horizon_days - 1)


def weekly_hours(hours: Iterable[WorkingInterval]) -> dict[int, list[tuple[time, time]]]:
    """Weekly intervals by weekday (Monday = 0), each day's sorted."""
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for interval in sorted(hours):
        by_weekday.setdefault(interval.weekday, []).append((interval.start, interval.end))
    return by_weekday


def hours_on(
    day: date, *, weekly: Mapping[int, DayHours], date_hours: Mapping[date, DayHours] | None = None
) -> list[tuple[time, time]]:
    """The intervals in force on a date, sorted: its own if it has an entry (even empty), else its weekday's."""
    if date_hours is not None and day in date_hours:
        return sorted(date_hours[day])
    return list(weekly.get(day.weekday(), ()))


def day_slots(*, day: date, intervals: Iterable[tuple[time, time]], slot_minutes: int, zone: ZoneInfo) -> list[Slot]:
    """Every slot the intervals give on one local date, by the DST rules above, before absences and the clock."""
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    length = timedelta(minutes=slot_minutes)
    slots: list[Slot] = []
    for interval_start, interval_end_time in sorted(intervals):
        interval_end = datetime.combine(day, interval_end_time)
        wall = datetime.combine(day, interval_start)
        previous_stop = None
        while wall + length <= interval_end:
            start = resolve_wall_time(day, wall.time(), zone)
            wall += length
            if start is None:
                continue
            stop = start + length
            # After a spring-forward gap a slot that began before it ends later on the wall
            # clock than the next step; skip steps that would overlap it in real time.
            if previous_stop is not None and start < previous_stop:
                continue
            if _wall_end(stop, zone) > interval_end:
                continue
            previous_stop = stop
            slots.append(Slot(start, stop))
    return slots


def plan_slots(
    *,
    hours: Iterable[WorkingInterval],
    absences: Iterable[tuple[datetime, datetime]],
    slot_minutes: int,
    horizon_days: int,
    zone: ZoneInfo,
    now: datetime,
    date_hours: Mapping[date, DayHours] | None = None,
) -> list[Slot]:
    """Slots for each local date from today through today + horizon - 1, starting after `now`.

    A date in `date_hours` is planned from its own intervals instead of its weekday's (none: no slots).
    """
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    weekly = weekly_hours(hours)
    blocked = IntervalSet(absences)
    today, _last = planned_dates(now=now, horizon_days=horizon_days, zone=zone)

    slots: list[Slot] = []
    for offset in range(horizon_days):
        day = today + timedelta(days=offset)
        intervals = hours_on(day, weekly=weekly, date_hours=date_hours)
        slots.extend(
            plan_day(day=day, intervals=intervals, blocked=blocked, slot_minutes=slot_minutes, zone=zone, now=now)
        )
    slots.sort()
    return slots


def plan_day(
    *,
    day: date,
    intervals: Iterable[tuple[time, time]],
    blocked: IntervalSet,
    slot_minutes: int,
    zone: ZoneInfo,
    now: datetime,
) -> list[Slot]:
    """One date of a plan: the slots its intervals give that start after `now` and overlap nothing blocked."""
    return [
        slot
        for slot in day_slots(day=day, intervals=intervals, slot_minutes=slot_minutes, zone=zone)
        if slot.start > now and not blocked.overlaps(slot.start, slot.stop)
    ]
