"""The patient's journey through the API: schedule, generate, list, book, conflict, cancel."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.generation import slots_generate_for_doctor
from appointments.models import AppointmentAction, AppointmentEvent, Timetable

pytestmark = pytest.mark.django_db


def test_create_a_doctor_schedule_generate_list_book_conflict_cancel(login, admin_user, alice, bob, settings):
    admin = login(admin_user)
    response = admin.post(
        "/api/user/create",
        {
            "username": "dr_house",
            "password": "a long and unusual passphrase 42",
            "last_name": "House",
            "first_name": "Gregory",
            "sex": "male",
            "birth_date": "1959-06-11",
            "groups": ["doctor"],
        },
        format="json",
    )
    assert response.status_code == 201
    doctor_id = response.json()["id"]

    every_day = [{"weekday": day, "start": "11:00", "end": "13:00"} for day in range(7)]
    response = admin.put(
        f"/api/doctors/{doctor_id}/schedule",
        {"slot_minutes": 20, "horizon_days": 3, "working_hours": every_day},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["working_hours"][0] == {"weekday": 0, "start": "11:00", "end": "13:00"}

    result = slots_generate_for_doctor(doctor_id=doctor_id)
    assert result.created > 0

    patient = login(alice)
    slots = patient.get(f"/api/doctor/slots/get/{doctor_id}").json()
    assert len(slots) == result.created
    assert list(slots[0]) == ["id", "start_time", "stop_time"]
    starts = [row["start_time"] for row in slots]
    assert starts == sorted(starts)
    # Datetimes carry the clinic's offset.
    offset = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).strftime("%z")
    assert slots[0]["start_time"].endswith(offset[:3] + ":" + offset[3:])
    tomorrow_11 = [
        row
        for row in slots
        if datetime.datetime.fromisoformat(row["start_time"]).astimezone(ZoneInfo(settings.TIME_ZONE)).time()
        == datetime.time(11, 0)
    ]
    slot_id = tomorrow_11[0]["id"]

    booked = patient.post(f"/api/doctor/appointment/{slot_id}")
    assert booked.status_code == 201
    assert booked.json()["client"] == alice.pk
    assert booked.json()["doctor"] == doctor_id

    again = patient.post(f"/api/doctor/appointment/{slot_id}")
    assert again.status_code == 409
    assert again.json()["code"] == "slot_taken"
    other = login(bob).post(f"/api/doctor/appointment/{slot_id}")
    assert other.status_code == 409

    listed = [row["id"] for row in patient.get(f"/api/doctor/slots/get/{doctor_id}").json()]
    assert slot_id not in listed
    mine = patient.get("/api/appointments/").json()["results"]
    assert [row["id"] for row in mine] == [slot_id]

    # Bob cannot cancel Alice's appointment.
    assert login(bob).post(f"/api/doctor/appointment/undo/{slot_id}").status_code == 404
    cancelled = patient.post(f"/api/doctor/appointment/undo/{slot_id}")
    assert cancelled.status_code == 200
    assert cancelled.json()["client"] is None
    assert slot_id in [row["id"] for row in patient.get(f"/api/doctor/slots/get/{doctor_id}").json()]

    slot = Timetable.objects.get(pk=slot_id)
    assert slot.client is None
    history = list(
        AppointmentEvent.objects.filter(slot_id=slot_id).order_by("at", "id").values_list("action", flat=True)
    )
    assert history == [AppointmentAction.BOOKED, AppointmentAction.CANCELLED]
    assert timezone.is_aware(slot.start_time)
