"""Schedules and absences through the API: reading, replacing, validating, regenerating."""

import datetime

import pytest

from appointments.models import Absence, DoctorSchedule, WorkingHours
from appointments.tests.factories import ScheduleFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_18_WITH_LUNCH = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("09:00", "13:00"), ("14:00", "18:00"))
]


def test_a_new_doctor_has_the_default_schedule(login, alice, dr_carol):
    response = login(alice).get(f"/api/doctors/{dr_carol.pk}/schedule")
    assert response.status_code == 200
    assert response.json() == {"slot_minutes": 20, "horizon_days": 7, "working_hours": []}


def test_put_replaces_hours_and_enqueues_regeneration_on_commit(
    admin_api, dr_carol, sent, django_capture_on_commit_callbacks
):
    ScheduleFactory(doctor=dr_carol)
    WorkingHoursFactory(schedule=dr_carol.schedule, weekday=6, start=datetime.time(8), end=datetime.time(9))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.put(
            f"/api/doctors/{dr_carol.pk}/schedule",
            {"slot_minutes": 30, "horizon_days": 14, "working_hours": WEEKDAYS_9_TO_18_WITH_LUNCH},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["slot_minutes"] == 30
    assert len(response.json()["working_hours"]) == 10
    schedule = DoctorSchedule.objects.get(doctor=dr_carol)
    assert (schedule.slot_minutes, schedule.horizon_days) == (30, 14)
    assert not WorkingHours.objects.filter(schedule=schedule, weekday=6).exists()
    assert sent.batches == [[dr_carol.pk]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slot_minutes": 4}, "slot_minutes"),
        ({"slot_minutes": 481}, "slot_minutes"),
        ({"horizon_days": 0}, "horizon_days"),
        ({"horizon_days": 367}, "horizon_days"),
        ({"working_hours": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "working_hours"),
        ({"working_hours": [{"weekday": 0, "start": "10:00", "end": "09:00"}]}, "working_hours"),
        ({"working_hours": [{"weekday": 0, "start": "10:00", "end": "10:00"}]}, "working_hours"),
        ({"working_hours": [{"weekday": 0, "start": "9am", "end": "10:00"}]}, "working_hours"),
        ({"working_hours": "mon 9-5"}, "working_hours"),
        ({"working_hours": [{"weekday": 0, "start": "09:00", "end": "10:00"}] * 169}, "working_hours"),
    ],
)
def test_bad_schedules_get_400_and_change_nothing(admin_api, dr_carol, body, field, sent):
    full = {"slot_minutes": 20, "horizon_days": 7, "working_hours": [], **body}
    response = admin_api.put(f"/api/doctors/{dr_carol.pk}/schedule", full, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not WorkingHours.objects.exists()
    assert sent == []


def test_overlapping_hours_get_400_with_the_reason(admin_api, dr_carol):
    hours = [{"weekday": 2, "start": "09:00", "end": "13:00"}, {"weekday": 2, "start": "12:00", "end": "15:00"}]
    response = admin_api.put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 20, "horizon_days": 7, "working_hours": hours},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "overlapping_hours"
    assert "09:00-13:00" in response.json()["detail"]
    assert not WorkingHours.objects.exists()


def test_touching_intervals_are_allowed(admin_api, dr_carol):
    hours = [{"weekday": 2, "start": "09:00", "end": "13:00"}, {"weekday": 2, "start": "13:00", "end": "15:00"}]
    response = admin_api.put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 20, "horizon_days": 7, "working_hours": hours},
        format="json",
    )
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_only_administrators_change_schedules(login, alice, dr_carol, who):
    client = login(alice if who == "patient" else dr_carol)
    response = client.put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 20, "horizon_days": 7, "working_hours": []},
        format="json",
    )
    assert response.status_code == 403


def test_schedules_of_non_doctors_are_404(admin_api, alice):
    assert admin_api.get(f"/api/doctors/{alice.pk}/schedule").status_code == 404
    assert admin_api.get("/api/doctors/999999/schedule").status_code == 404
    assert admin_api.get(f"/api/doctors/{alice.pk}/absences").status_code == 404


def test_absences_are_created_listed_and_deleted(
    admin_api, login, alice, dr_carol, sent, django_capture_on_commit_callbacks
):
    body = {
        "kind": "vacation",
        "start": "2026-12-01T00:00:00+03:00",
        "end": "2026-12-15T00:00:00+03:00",
        "comment": "sea",
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_api.post(f"/api/doctors/{dr_carol.pk}/absences", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["start"] == "2026-12-01T00:00:00+03:00"
    absence_id = created.json()["id"]
    assert sent.batches == [[dr_carol.pk]]

    listed = login(alice).get(f"/api/doctors/{dr_carol.pk}/absences")
    assert [row["id"] for row in listed.json()] == [absence_id]
    assert listed.json()[0]["kind"] == "vacation"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin_api.delete(f"/api/doctors/{dr_carol.pk}/absences/{absence_id}").status_code == 204
    assert not Absence.objects.exists()
    assert sent.batches == [[dr_carol.pk], [dr_carol.pk]]
    assert admin_api.delete(f"/api/doctors/{dr_carol.pk}/absences/{absence_id}").status_code == 404


def test_a_naive_absence_time_is_read_in_the_clinic_zone(admin_api, dr_carol):
    body = {"kind": "break", "start": "2026-12-01T13:00", "end": "2026-12-01T14:00"}
    response = admin_api.post(f"/api/doctors/{dr_carol.pk}/absences", body, format="json")
    assert response.status_code == 201
    absence = Absence.objects.get()
    assert absence.start == datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}, "end"),
        ({"start": "2026-12-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}, "end"),
        ({"start": "yesterday", "end": "2026-12-01T00:00:00Z"}, "start"),
        ({"kind": "holiday", "start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}, "kind"),
        ({"comment": "x" * 501, "start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}, "comment"),
    ],
)
def test_bad_absences_get_400_and_write_nothing(admin_api, dr_carol, body, field):
    response = admin_api.post(f"/api/doctors/{dr_carol.pk}/absences", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Absence.objects.exists()


def test_another_doctors_absence_is_404(admin_api, dr_carol, dr_dave):
    from appointments.tests.factories import AbsenceFactory

    absence = AbsenceFactory(doctor=dr_dave)
    assert admin_api.delete(f"/api/doctors/{dr_carol.pk}/absences/{absence.pk}").status_code == 404
    assert Absence.objects.filter(pk=absence.pk).exists()
