"""Outcome statistics: per local day of the slot's start, by status and by who cancelled, against hand counts."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from appointments.models import AppointmentAction, AppointmentEvent, CancelledBy, Timetable

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
OUTCOMES = "/api/stats/outcomes"


def local(day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime.datetime:
    """A Berlin wall-clock time of October 2026, as a UTC instant (arithmetic on it is then real time)."""
    return datetime.datetime(2026, 10, day, hour, minute, tzinfo=BERLIN, fold=fold).astimezone(datetime.UTC)


def appointment(doctor, start, patient, status):
    return Timetable.objects.create(
        doctor=doctor, client=patient, status=status, start_time=start, stop_time=start + datetime.timedelta(minutes=20)
    )


def history(doctor, start, patient, action, cancelled_by=None):
    return AppointmentEvent.objects.create(
        slot_id=0,
        action=action,
        doctor=doctor,
        patient=patient,
        start_time=start,
        stop_time=start + datetime.timedelta(minutes=20),
        cancelled_by=cancelled_by,
        reason="ill" if cancelled_by == CancelledBy.CLINIC else "",
    )


@pytest.fixture
def october(settings, dr_carol, dr_dave, alice, bob):
    """A week around Berlin's fall-back day (2026-10-25, 25 hours long), counted by hand below."""
    settings.TIME_ZONE = "Europe/Berlin"
    # The 24th.
    appointment(dr_carol, local(24, 23, 50), bob, "noshow")  # 21:50 UTC
    history(dr_carol, local(24, 12), alice, AppointmentAction.CANCELLED, CancelledBy.CLINIC)
    # The 25th: 00:30 local is 22:30 UTC on the 24th; 02:30 happens twice (CEST, then CET).
    appointment(dr_carol, local(25, 0, 30), alice, "fulfilled")
    appointment(dr_carol, local(25, 2, 30, fold=0), bob, "noshow")
    appointment(dr_carol, local(25, 2, 30, fold=1), alice, "arrived")
    appointment(dr_carol, local(25, 23, 30), bob, "booked")  # 22:30 UTC, the 25th
    appointment(dr_dave, local(25, 10), alice, "booked")
    history(dr_carol, local(25, 23, 40), alice, AppointmentAction.CANCELLED, CancelledBy.PATIENT)
    history(dr_carol, local(25, 9), bob, AppointmentAction.RELEASED)  # a blocked patient's: neither
    history(dr_carol, local(25, 9), bob, AppointmentAction.BOOKED)
    # The 26th: 00:10 local is 23:10 UTC on the 25th.
    appointment(dr_carol, local(26, 0, 10), alice, "fulfilled")
    history(dr_carol, local(26, 0, 20), bob, AppointmentAction.CANCELLED, CancelledBy.CLINIC)
    # The 27th: only a cancellation. The 28th: only a free slot, so nothing.
    history(dr_dave, local(27, 10), bob, AppointmentAction.CANCELLED, CancelledBy.PATIENT)
    Timetable.objects.create(doctor=dr_carol, start_time=local(28, 10), stop_time=local(28, 10, 20))


def row(day, booked=0, arrived=0, fulfilled=0, noshow=0, by_patient=0, by_clinic=0, rate=None):
    return {
        "day": f"2026-10-{day}",
        "booked": booked,
        "arrived": arrived,
        "fulfilled": fulfilled,
        "noshow": noshow,
        "cancelled_by_patient": by_patient,
        "cancelled_by_clinic": by_clinic,
        "no_show_rate": rate,
    }


@pytest.fixture
def admin_api(login, admin_user):
    return login(admin_user)


def test_outcomes_are_counted_per_local_day_across_a_dst_day_and_local_midnight(october, admin_api):
    response = admin_api.get(OUTCOMES)

    assert response.status_code == 200
    assert response.json() == [
        row(24, noshow=1, by_clinic=1, rate=1.0),
        row(25, booked=2, arrived=1, fulfilled=1, noshow=1, by_patient=1, rate=1 / 3),
        row(26, fulfilled=1, by_clinic=1, rate=0.0),
        row(27, by_patient=1),
    ]


def test_one_doctors_outcomes(october, admin_api, dr_dave):
    response = admin_api.get(OUTCOMES, {"doctor": dr_dave.pk})

    assert response.json() == [row(25, booked=1), row(27, by_patient=1)]


def test_date_bounds_are_inclusive_local_days(october, admin_api):
    response = admin_api.get(OUTCOMES, {"date_from": "2026-10-25", "date_to": "2026-10-25"})

    assert response.json() == [row(25, booked=2, arrived=1, fulfilled=1, noshow=1, by_patient=1, rate=1 / 3)]


def test_a_doctor_sees_only_their_own(october, login, dr_dave, dr_carol):
    client = login(dr_dave)

    assert client.get(OUTCOMES).json() == [row(25, booked=1), row(27, by_patient=1)]
    assert client.get(OUTCOMES, {"doctor": dr_carol.pk}).json() == []


def test_patients_get_403_and_anonymous_callers_401(api, login, alice):
    assert login(alice).get(OUTCOMES).status_code == 403
    assert api.get(OUTCOMES).status_code == 401


@pytest.mark.parametrize(
    "query",
    [{"date_from": "2026-1-1"}, {"date_to": ""}, {"doctor": "x"}, {"date_from": "2026-10-26", "date_to": "2026-10-25"}],
)
def test_bad_filters_get_400(admin_api, query):
    assert admin_api.get(OUTCOMES, query).status_code == 400


def test_the_trailing_slash_answers_too(october, admin_api):
    assert admin_api.get(OUTCOMES + "/").json() == admin_api.get(OUTCOMES).json()


def test_it_is_grouped_in_the_database_two_queries_whatever_the_rows(october, admin_api, django_assert_num_queries):
    from appointments import statistics

    with django_assert_num_queries(2):
        rows = statistics.outcomes_per_day()

    assert [r["day"].day for r in rows] == [24, 25, 26, 27]
