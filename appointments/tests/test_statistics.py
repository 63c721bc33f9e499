"""Statistics: appointments and utilisation per clinic-local day, scoping, validation, query count."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.filters import DATE_RANGE_REVERSED
from appointments.models import Timetable
from staff.roles import Role
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def slot(doctor, local_start, zone=MOSCOW, client=None, minutes=20):
    start = local_start.replace(tzinfo=zone)
    return Timetable.objects.create(
        doctor=doctor,
        client=client,
        start_time=start,
        stop_time=start + datetime.timedelta(minutes=minutes),
        status="booked" if client else None,
    )


@pytest.fixture
def admin_api(login, admin_user):
    return login(admin_user)


def test_it_counts_booked_slots_per_local_day_ascending(admin_api, dr_carol, alice, bob):
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 0), client=alice)
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 20), client=bob)
    slot(dr_carol, datetime.datetime(2026, 7, 19, 9, 0), client=alice)
    slot(dr_carol, datetime.datetime(2026, 7, 21, 9, 0))  # free: not counted
    response = admin_api.get("/api/doctor/entries/all")
    assert response.status_code == 200
    assert response.json() == [{"day": "2026-07-19", "count": 1}, {"day": "2026-07-20", "count": 2}]


def test_a_late_evening_appointment_counts_on_its_local_day(admin_api, dr_carol, alice, bob):
    # 23:30 in Moscow is 20:30 UTC the same day; 00:30 local is 21:30 UTC of the previous day.
    slot(dr_carol, datetime.datetime(2026, 7, 20, 23, 30), client=alice)
    slot(dr_carol, datetime.datetime(2026, 7, 21, 0, 30), client=bob)
    assert admin_api.get("/api/doctor/entries/all").json() == [
        {"day": "2026-07-20", "count": 1},
        {"day": "2026-07-21", "count": 1},
    ]


def test_days_follow_the_clinic_zone_across_a_dst_change(admin_api, dr_carol, alice, bob, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    # 2026-10-25: Berlin falls back from CEST (+02) to CET (+01); the day has 25 hours.
    slot(dr_carol, datetime.datetime(2026, 10, 25, 0, 30), zone=BERLIN, client=alice)  # 22:30 UTC on the 24th
    slot(dr_carol, datetime.datetime(2026, 10, 25, 23, 30), zone=BERLIN, client=bob)  # 22:30 UTC on the 25th
    slot(dr_carol, datetime.datetime(2026, 3, 29, 23, 30), zone=BERLIN, client=alice)  # after spring forward
    slot(dr_carol, datetime.datetime(2026, 3, 29, 0, 30), zone=BERLIN, client=bob)  # before it
    assert admin_api.get("/api/doctor/entries/all").json() == [
        {"day": "2026-03-29", "count": 2},
        {"day": "2026-10-25", "count": 2},
    ]
    window = admin_api.get("/api/doctor/entries/all", {"date_from": "2026-10-25", "date_to": "2026-10-25"})
    assert window.json() == [{"day": "2026-10-25", "count": 2}]


def test_date_bounds_are_inclusive_local_days(admin_api, dr_carol, alice):
    for day in (19, 20, 21, 22):
        slot(dr_carol, datetime.datetime(2026, 7, day, 23, 50), client=alice)
    response = admin_api.get("/api/doctor/entries/all", {"date_from": "2026-07-20", "date_to": "2026-07-21"})
    assert [row["day"] for row in response.json()] == ["2026-07-20", "2026-07-21"]
    only_from = admin_api.get("/api/doctor/entries/all", {"date_from": "2026-07-22"})
    assert [row["day"] for row in only_from.json()] == ["2026-07-22"]


def test_the_doctor_filter(admin_api, dr_carol, dr_dave, alice, bob):
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 0), client=alice)
    slot(dr_dave, datetime.datetime(2026, 7, 20, 10, 0), client=bob)
    slot(dr_dave, datetime.datetime(2026, 7, 21, 10, 0), client=bob)
    response = admin_api.get("/api/doctor/entries/all", {"doctor": dr_dave.pk})
    assert response.json() == [{"day": "2026-07-20", "count": 1}, {"day": "2026-07-21", "count": 1}]


def test_a_doctor_sees_only_their_own(login, dr_carol, dr_dave, alice, bob):
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 0), client=alice)
    slot(dr_dave, datetime.datetime(2026, 7, 20, 11, 0), client=bob)
    carol = login(dr_carol)
    assert carol.get("/api/doctor/entries/all").json() == [{"day": "2026-07-20", "count": 1}]
    assert carol.get("/api/doctor/entries/all", {"doctor": dr_dave.pk}).json() == []


@pytest.mark.parametrize(
    ("caller", "expected"), [("anonymous", 401), ("patient", 403), ("doctor", 200), ("administrator", 200)]
)
@pytest.mark.parametrize("path", ["/api/doctor/entries/all", "/api/stats/utilisation"])
def test_who_may_read_statistics(api, login, alice, dr_carol, admin_user, caller, expected, path):
    client = (
        api
        if caller == "anonymous"
        else login({"patient": alice, "doctor": dr_carol, "administrator": admin_user}[caller])
    )
    assert client.get(path).status_code == expected


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-13-01"},
        {"date_to": "20.07.2026"},
        {"date_from": "2026-07-21", "date_to": "2026-07-20"},
        {"doctor": "carol"},
        {"doctor": "0"},
        {"doctor": "99999999999999999999999"},
    ],
)
@pytest.mark.parametrize("path", ["/api/doctor/entries/all", "/api/stats/utilisation"])
def test_bad_filters_get_400(admin_api, query, path):
    response = admin_api.get(path, query)
    assert response.status_code == 400
    assert response.json()["code"]
    assert "fields" in response.json()


def test_a_reversed_range_has_a_clear_message(admin_api):
    response = admin_api.get("/api/doctor/entries/all", {"date_from": "2026-07-21", "date_to": "2026-07-20"})
    assert response.json()["fields"]["date_from"] == [str(DATE_RANGE_REVERSED)]


@pytest.mark.parametrize("rows", [3, 60])
def test_one_query_whatever_the_row_count(admin_api, dr_carol, rows, django_assert_num_queries, admin_user):
    patients = [UserFactory(roles=[Role.PATIENT]) for _ in range(3)]
    base = datetime.datetime(2026, 7, 1, 9, 0)
    for i in range(rows):
        slot(dr_carol, base + datetime.timedelta(hours=i * 5), client=patients[i % 3])
    # One query authenticates the token (knox: token + user), one reads the roles, one groups.
    with CaptureQueriesContext(connection) as captured:
        response = admin_api.get("/api/doctor/entries/all")
    assert response.status_code == 200
    grouping = [q["sql"] for q in captured.captured_queries if "appointments_timetable" in q["sql"]]
    assert len(grouping) == 1
    assert "GROUP BY" in grouping[0].upper()
    assert sum(row["count"] for row in response.json()) == rows
    with django_assert_num_queries(len(captured.captured_queries)):
        admin_api.get("/api/doctor/entries/all")


def test_utilisation_per_day(admin_api, dr_carol, alice, bob):
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 0), client=alice)
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 20))
    slot(dr_carol, datetime.datetime(2026, 7, 20, 10, 40))
    slot(dr_carol, datetime.datetime(2026, 7, 21, 10, 0), client=bob)
    response = admin_api.get("/api/stats/utilisation", {"doctor": dr_carol.pk})
    assert response.json() == [
        {"day": "2026-07-20", "total": 3, "booked": 1, "free": 2, "utilisation": 33.3},
        {"day": "2026-07-21", "total": 1, "booked": 1, "free": 0, "utilisation": 100.0},
    ]
