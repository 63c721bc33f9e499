"""Booking and cancelling through the API: every refusal, and the lists patients and doctors read."""

import datetime

import pytest
from django.utils import timezone

from appointments.models import Timetable
from appointments.services import SLOT_OVERLAPS_YOURS, SLOT_TAKEN
from appointments.tests.factories import SlotFactory
from staff.roles import Role
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def in_hours(hours, minutes=20):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=hours)
    return start, start + datetime.timedelta(minutes=minutes)


@pytest.fixture
def slot(dr_carol):
    start, stop = in_hours(24)
    return SlotFactory(doctor=dr_carol, start_time=start, stop_time=stop)


def test_it_books_a_free_slot_for_the_caller(login, alice, slot):
    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}")
    assert response.status_code == 201
    assert response.json() == {
        "id": slot.pk,
        "doctor": slot.doctor_id,
        "client": alice.pk,
        "start_time": timezone.localtime(slot.start_time).isoformat(),
        "stop_time": timezone.localtime(slot.stop_time).isoformat(),
        "status": "booked",
    }
    slot.refresh_from_db()
    assert slot.client == alice
    assert slot.status == "booked"
    assert slot.booked_at is not None


def test_it_rejects_a_taken_slot_even_for_its_holder(login, alice, bob, slot):
    login(alice).post(f"/api/doctor/appointment/{slot.pk}")
    for patient in (alice, bob):
        response = login(patient).post(f"/api/doctor/appointment/{slot.pk}")
        assert response.status_code == 409
        assert response.json()["detail"] == str(SLOT_TAKEN)
    slot.refresh_from_db()
    assert slot.client == alice


def test_it_rejects_a_slot_overlapping_the_callers_appointment(login, alice, dr_carol, dr_dave):
    start, stop = in_hours(30)
    first = SlotFactory(doctor=dr_carol, start_time=start, stop_time=stop)
    overlapping = SlotFactory(
        doctor=dr_dave,
        start_time=start + datetime.timedelta(minutes=10),
        stop_time=stop + datetime.timedelta(minutes=10),
    )
    touching = SlotFactory(doctor=dr_dave, start_time=stop, stop_time=stop + datetime.timedelta(minutes=20))
    client = login(alice)
    assert client.post(f"/api/doctor/appointment/{first.pk}").status_code == 201
    response = client.post(f"/api/doctor/appointment/{overlapping.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == str(SLOT_OVERLAPS_YOURS)
    assert Timetable.objects.get(pk=overlapping.pk).client is None
    assert client.post(f"/api/doctor/appointment/{touching.pk}").status_code == 201


def test_it_rejects_a_slot_in_the_past(login, alice, dr_carol):
    start, stop = in_hours(-1)
    past = SlotFactory(doctor=dr_carol, start_time=start, stop_time=stop)
    response = login(alice).post(f"/api/doctor/appointment/{past.pk}")
    assert response.status_code == 400
    assert response.json()["code"] == "slot_in_past"
    past.refresh_from_db()
    assert past.client is None


def test_unknown_slots_and_blocked_doctors_are_404(login, alice, slot, dr_carol):
    client = login(alice)
    assert client.post("/api/doctor/appointment/999999").status_code == 404
    dr_carol.is_active = False
    dr_carol.save()
    assert client.post(f"/api/doctor/appointment/{slot.pk}").status_code == 404
    assert client.get(f"/api/doctor/slots/get/{dr_carol.pk}").status_code == 404


@pytest.mark.parametrize("who", ["doctor", "administrator"])
def test_only_patients_book_and_cancel(login, dr_carol, admin_user, slot, who):
    client = login(dr_carol if who == "doctor" else admin_user)
    assert client.post(f"/api/doctor/appointment/{slot.pk}").status_code == 403
    assert client.post(f"/api/doctor/appointment/undo/{slot.pk}").status_code == 403
    slot.refresh_from_db()
    assert slot.client is None


def test_anonymous_callers_get_401(api, slot, dr_carol):
    assert api.post(f"/api/doctor/appointment/{slot.pk}").status_code == 401
    assert api.post(f"/api/doctor/appointment/undo/{slot.pk}").status_code == 401
    assert api.get(f"/api/doctor/slots/get/{dr_carol.pk}").status_code == 401


def test_booking_takes_no_body_and_ignores_one(login, alice, bob, slot):
    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}", {"client": bob.pk}, format="json")
    assert response.status_code == 201
    slot.refresh_from_db()
    assert slot.client == alice


def test_cancelling_a_started_appointment_is_400(login, alice, dr_carol):
    start, stop = in_hours(-0.1)
    started = SlotFactory(doctor=dr_carol, start_time=start, stop_time=stop, client=alice)
    response = login(alice).post(f"/api/doctor/appointment/undo/{started.pk}")
    assert response.status_code == 400
    assert response.json()["code"] == "appointment_started"
    started.refresh_from_db()
    assert started.client == alice


def test_cancelling_someone_elses_or_a_free_slot_is_404(login, alice, bob, slot):
    assert login(bob).post(f"/api/doctor/appointment/undo/{slot.pk}").status_code == 404
    login(alice).post(f"/api/doctor/appointment/{slot.pk}")
    assert login(bob).post(f"/api/doctor/appointment/undo/{slot.pk}").status_code == 404
    slot.refresh_from_db()
    assert slot.client == alice


def test_free_slots_are_future_free_and_filtered_by_local_dates(login, alice, bob, dr_carol, settings):
    now = timezone.now()
    past = SlotFactory(
        doctor=dr_carol, start_time=now - datetime.timedelta(hours=2), stop_time=now - datetime.timedelta(hours=1)
    )
    booked = SlotFactory(doctor=dr_carol, client=bob)
    free = [SlotFactory(doctor=dr_carol) for _ in range(3)]
    client = login(alice)
    ids = [row["id"] for row in client.get(f"/api/doctor/slots/get/{dr_carol.pk}").json()]
    assert ids == [slot.pk for slot in free]
    assert past.pk not in ids and booked.pk not in ids
    local_day = timezone.localtime(free[0].start_time).date()
    same_day = client.get(f"/api/doctor/slots/get/{dr_carol.pk}", {"date_from": local_day, "date_to": local_day}).json()
    assert {row["id"] for row in same_day} <= {slot.pk for slot in free}
    assert client.get(f"/api/doctor/slots/get/{dr_carol.pk}", {"date_from": "2026-02-30"}).status_code == 400
    reversed_range = client.get(
        f"/api/doctor/slots/get/{dr_carol.pk}", {"date_from": "2030-01-02", "date_to": "2030-01-01"}
    )
    assert reversed_range.status_code == 400


def test_free_slots_of_a_non_doctor_are_404(login, alice, bob):
    assert login(alice).get(f"/api/doctor/slots/get/{bob.pk}").status_code == 404


def test_appointments_are_scoped_to_the_caller(login, alice, bob, dr_carol, dr_dave, admin_user):
    mine = SlotFactory(doctor=dr_carol, client=alice)
    bobs = SlotFactory(doctor=dr_dave, client=bob)
    SlotFactory(doctor=dr_carol)  # free: never an appointment

    def ids(user, **query):
        response = login(user).get("/api/appointments/", query)
        assert response.status_code == 200
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(alice) == [mine.pk]
    assert ids(bob) == [bobs.pk]
    assert ids(dr_carol) == [mine.pk]
    assert ids(admin_user) == sorted([mine.pk, bobs.pk])
    assert ids(admin_user, doctor=dr_dave.pk) == [bobs.pk]
    assert ids(admin_user, patient=alice.pk) == [mine.pk]
    row = login(alice).get("/api/appointments/").json()["results"][0]
    assert set(row) == {
        "id",
        "doctor",
        "doctor_name",
        "client",
        "client_name",
        "start_time",
        "stop_time",
        "conflict",
        "status",
    }


def test_a_doctor_who_is_also_a_patient_sees_both(login, dr_carol, dr_dave):
    both = UserFactory(username="dr_both", roles=[Role.DOCTOR, Role.PATIENT])
    as_patient = SlotFactory(doctor=dr_carol, client=both)
    as_doctor = SlotFactory(doctor=both, client=dr_dave)
    rows = login(both).get("/api/appointments/").json()["results"]
    assert sorted(row["id"] for row in rows) == sorted([as_patient.pk, as_doctor.pk])


def test_doctors_and_slots_lists(login, alice, dr_carol, dr_dave):
    dr_dave.is_active = False
    dr_dave.save()
    client = login(alice)
    doctors = client.get("/api/doctors/", {"search": "smirn"}).json()["results"]
    assert [row["id"] for row in doctors] == [dr_carol.pk]
    assert client.get("/api/doctors/").json()["count"] == 1
    assert client.get(f"/api/doctors/{dr_dave.pk}/").status_code == 404

    free = SlotFactory(doctor=dr_carol)
    taken = SlotFactory(doctor=dr_carol, client=alice)
    rows = client.get("/api/slots/", {"doctor": dr_carol.pk}).json()["results"]
    assert {row["id"]: row["free"] for row in rows} == {free.pk: True, taken.pk: False}
    assert "client" not in rows[0]
    only_free = client.get("/api/slots/", {"doctor": dr_carol.pk, "free": "true"}).json()["results"]
    assert [row["id"] for row in only_free] == [free.pk]
    assert client.get("/api/slots/", {"date_from": "nope"}).status_code == 400


def test_free_slots_render_exactly_as_the_serializer_documents_them(login, alice, dr_carol):
    from appointments.serializers import FreeSlotSerializer

    slots = [SlotFactory(doctor=dr_carol) for _ in range(3)]
    expected = FreeSlotSerializer(sorted(slots, key=lambda slot: slot.start_time), many=True).data
    assert login(alice).get(f"/api/doctor/slots/get/{dr_carol.pk}").json() == [dict(row) for row in expected]
