"""Booking rules: the clinic's and a doctor's through the API and the admin, each rule at its boundary."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments import rules, selectors
from appointments.models import AppointmentEvent, ClinicBookingRules, DoctorBookingRules, Timetable
from appointments.rules import (
    DAILY_LIMIT_REACHED,
    TOO_LATE_TO_BOOK,
    TOO_LATE_TO_CANCEL,
    TOO_MANY_APPOINTMENTS,
    DailyLimitReached,
    TooLateToBook,
    TooLateToCancel,
    TooManyAppointments,
    clinic_rules_update,
    doctor_rules_update,
)
from appointments.services import slot_book, slot_cancel
from appointments.tests.factories import SlotFactory, local
from appointments.tests.test_admin import doctor_form, doctor_url, page_messages, run_action

pytestmark = pytest.mark.django_db

NONE = {
    "min_notice_minutes": 0,
    "cancel_cutoff_minutes": 0,
    "max_active_per_patient": None,
    "max_per_patient_per_day": None,
}
MICROSECOND = datetime.timedelta(microseconds=1)


def clinic(**values):
    return clinic_rules_update(**{**NONE, **values})


def doctor(user, **values):
    return doctor_rules_update(doctor=user, **{**dict.fromkeys(NONE), **values})


def slot_at(doctor_user, start, minutes=20, **extra):
    return SlotFactory(
        doctor=doctor_user, start_time=start, stop_time=start + datetime.timedelta(minutes=minutes), **extra
    )


def soon(minutes: float) -> datetime.datetime:
    return timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=minutes)


@pytest.fixture
def admin_api(login, admin_user):
    return login(admin_user)


# --- the clinic's rules through the API ---------------------------------------------------------------


def test_the_clinic_defaults_are_no_notice_no_cutoff_and_no_caps(login, alice):
    response = login(alice).get("/api/booking-rules")

    assert response.status_code == 200
    assert response.json() == NONE


def test_an_administrator_replaces_the_clinics_rules(admin_api, login, dr_carol):
    body = {
        "min_notice_minutes": 60,
        "cancel_cutoff_minutes": 1440,
        "max_active_per_patient": 3,
        "max_per_patient_per_day": 1,
    }

    response = admin_api.put("/api/booking-rules/", body, format="json")

    assert (response.status_code, response.json()) == (200, body)
    assert login(dr_carol).get("/api/booking-rules").json() == body
    stored = ClinicBookingRules.objects.values(*NONE).get()
    assert stored == body


def test_null_caps_mean_no_cap(admin_api):
    clinic(max_active_per_patient=3)
    body = {**NONE, "min_notice_minutes": 5}

    response = admin_api.put("/api/booking-rules", body, format="json")

    assert response.json() == body
    assert rules.clinic_rules().max_active_per_patient is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_notice_minutes", -1),
        ("cancel_cutoff_minutes", -30),
        ("max_active_per_patient", -1),
        ("max_per_patient_per_day", -2),
        ("min_notice_minutes", 1.5),
        ("min_notice_minutes", "60"),
        ("min_notice_minutes", True),
        ("max_active_per_patient", "three"),
        ("min_notice_minutes", None),
        ("cancel_cutoff_minutes", None),
        ("min_notice_minutes", 2**31),
        ("max_per_patient_per_day", [1]),
    ],
)
def test_a_negative_or_non_integer_value_is_a_400_and_changes_nothing(admin_api, field, value):
    before = rules.clinic_rules()

    response = admin_api.put("/api/booking-rules", {**NONE, field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert rules.clinic_rules() == before


@pytest.mark.parametrize("missing", list(NONE))
def test_put_takes_all_four_fields(admin_api, missing):
    body = {name: value for name, value in NONE.items() if name != missing}

    response = admin_api.put("/api/booking-rules", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [missing]


def test_only_administrators_change_the_rules(login, dr_carol, alice):
    for user in (dr_carol, alice):
        response = login(user).put("/api/booking-rules", {**NONE, "min_notice_minutes": 9}, format="json")
        assert response.status_code == 403
    assert rules.clinic_rules().min_notice_minutes == 0


def test_a_missing_clinic_row_reads_as_the_defaults():
    ClinicBookingRules.objects.all().delete()

    assert rules.clinic_rules() == rules.DEFAULTS
    clinic(min_notice_minutes=15)
    assert rules.clinic_rules().min_notice_minutes == 15


# --- a doctor's rules through the API -----------------------------------------------------------------


def test_a_doctor_without_overrides_follows_the_clinic(login, alice, dr_carol):
    clinic(min_notice_minutes=60, max_active_per_patient=3)

    response = login(alice).get(f"/api/doctors/{dr_carol.pk}/booking-rules")

    assert response.status_code == 200
    assert response.json() == {
        **dict.fromkeys(NONE),
        "effective": {**NONE, "min_notice_minutes": 60, "max_active_per_patient": 3},
    }


def test_a_doctors_overrides_win_and_null_follows_the_clinic(admin_api, dr_carol):
    clinic(min_notice_minutes=60, cancel_cutoff_minutes=120, max_active_per_patient=3)
    body = {
        "min_notice_minutes": 0,
        "cancel_cutoff_minutes": None,
        "max_active_per_patient": 5,
        "max_per_patient_per_day": 2,
    }

    response = admin_api.put(f"/api/doctors/{dr_carol.pk}/booking-rules/", body, format="json")

    assert response.status_code == 200
    assert response.json() == {
        **body,
        "effective": {
            "min_notice_minutes": 0,
            "cancel_cutoff_minutes": 120,
            "max_active_per_patient": 5,
            "max_per_patient_per_day": 2,
        },
    }
    assert rules.doctor_rules(doctor_id=dr_carol.pk) == rules.Rules(0, 120, 5, 2)
    # Clearing them all follows the clinic again.
    cleared = admin_api.put(f"/api/doctors/{dr_carol.pk}/booking-rules", dict.fromkeys(NONE), format="json")
    assert cleared.json()["effective"] == rules.clinic_rules().as_dict()
    assert rules.doctor_rules(doctor_id=dr_carol.pk) == rules.clinic_rules()


def test_doctor_rules_of_an_unknown_doctor_or_a_patient_are_404(admin_api, alice):
    for pk in (alice.pk, 999_999):
        assert admin_api.get(f"/api/doctors/{pk}/booking-rules").status_code == 404
        assert admin_api.put(f"/api/doctors/{pk}/booking-rules", dict.fromkeys(NONE), format="json").status_code == 404
    assert not DoctorBookingRules.objects.exists()


@pytest.mark.parametrize("body", [{**dict.fromkeys(NONE), "min_notice_minutes": -5}, {"min_notice_minutes": 5}])
def test_bad_doctor_rules_are_400(admin_api, dr_carol, body):
    response = admin_api.put(f"/api/doctors/{dr_carol.pk}/booking-rules", body, format="json")

    assert response.status_code == 400
    assert not DoctorBookingRules.objects.exists()


def test_only_administrators_change_a_doctors_rules(login, dr_carol):
    response = login(dr_carol).put(
        f"/api/doctors/{dr_carol.pk}/booking-rules", {**dict.fromkeys(NONE), "min_notice_minutes": 0}, format="json"
    )

    assert response.status_code == 403
    assert not DoctorBookingRules.objects.exists()


# --- minimum notice -----------------------------------------------------------------------------------


def test_min_notice_at_its_boundary(dr_carol, alice, bob):
    clinic(min_notice_minutes=60)
    now = timezone.now()
    exactly = slot_at(dr_carol, now + datetime.timedelta(minutes=60))
    just_inside = slot_at(dr_carol, now + datetime.timedelta(minutes=60) - MICROSECOND, minutes=10)

    with pytest.raises(TooLateToBook):
        slot_book(slot_id=just_inside.pk, patient=bob, now=now)
    slot_book(slot_id=exactly.pk, patient=alice, now=now)

    assert Timetable.objects.get(pk=exactly.pk).client == alice
    assert Timetable.objects.get(pk=just_inside.pk).client is None


def test_booking_within_the_notice_is_400_too_late_to_book(login, dr_carol, alice):
    clinic(min_notice_minutes=120)
    slot = slot_at(dr_carol, soon(90))

    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}")

    assert response.status_code == 400
    assert response.json() == {"detail": str(TOO_LATE_TO_BOOK), "code": "too_late_to_book"}
    assert Timetable.objects.get(pk=slot.pk).client is None
    assert not AppointmentEvent.objects.exists()


def test_a_started_slot_is_still_slot_in_past(login, dr_carol, alice):
    clinic(min_notice_minutes=120)
    slot = slot_at(dr_carol, soon(-5))

    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}")

    assert (response.status_code, response.json()["code"]) == (400, "slot_in_past")


def test_the_notice_in_force_is_the_slots_doctors(login, dr_carol, dr_dave, alice):
    clinic(min_notice_minutes=120)
    doctor(dr_dave, min_notice_minutes=0)
    carols, daves = slot_at(dr_carol, soon(60)), slot_at(dr_dave, soon(60))
    client = login(alice)

    assert client.post(f"/api/doctor/appointment/{carols.pk}").json()["code"] == "too_late_to_book"
    assert client.post(f"/api/doctor/appointment/{daves.pk}").status_code == 201


def test_free_slot_reads_offer_only_what_can_be_booked_now(login, dr_carol, dr_dave, alice, bob):
    clinic(min_notice_minutes=120)
    doctor(dr_dave, min_notice_minutes=30)
    carol_soon, carol_later = slot_at(dr_carol, soon(60)), slot_at(dr_carol, soon(180))
    dave_sooner, dave_soon = slot_at(dr_dave, soon(20)), slot_at(dr_dave, soon(60))
    slot_at(dr_dave, soon(300), client=bob)
    client = login(alice)

    def ids(path, **query):
        response = client.get(path, query)
        assert response.status_code == 200, response.json()
        rows = response.json()
        return {row["id"] for row in (rows["results"] if isinstance(rows, dict) else rows)}

    assert ids(f"/api/doctor/slots/get/{dr_carol.pk}") == {carol_later.pk}
    assert ids(f"/api/doctor/slots/get/{dr_dave.pk}") == {dave_soon.pk}
    assert ids("/api/slots/", free="true") == {carol_later.pk, dave_soon.pk}
    assert ids("/api/slots/", free="true", doctor=dr_dave.pk) == {dave_soon.pk}
    # The unfiltered list still shows every future slot, free or not, with its state.
    assert ids("/api/slots/") >= {carol_soon.pk, dave_sooner.pk}
    assert carol_soon.pk not in ids("/api/slots/", free="false")


def test_the_free_slot_list_includes_a_slot_exactly_at_the_notice(dr_carol):
    clinic(min_notice_minutes=60)
    now = timezone.now()
    exactly = slot_at(dr_carol, now + datetime.timedelta(minutes=60))
    slot_at(dr_carol, now + datetime.timedelta(minutes=60) - MICROSECOND, minutes=10)

    assert [row["id"] for row in selectors.free_slots(doctor=dr_carol, now=now)] == [exactly.pk]
    listed = selectors.free_slots_bookable_now(Timetable.objects.all(), now=now)
    assert list(listed.values_list("id", flat=True)) == [exactly.pk]


# --- cancellation cutoff ------------------------------------------------------------------------------


def test_cancel_cutoff_at_its_boundary(dr_carol, alice):
    clinic(cancel_cutoff_minutes=120)
    now = timezone.now()
    exactly = slot_at(dr_carol, now + datetime.timedelta(minutes=120), client=alice)
    just_inside = slot_at(dr_carol, now + datetime.timedelta(minutes=120) - MICROSECOND, minutes=10, client=alice)

    with pytest.raises(TooLateToCancel):
        slot_cancel(slot_id=just_inside.pk, patient=alice, now=now)
    slot_cancel(slot_id=exactly.pk, patient=alice, now=now)

    assert Timetable.objects.get(pk=exactly.pk).client is None
    assert Timetable.objects.get(pk=just_inside.pk).client == alice


def test_a_patient_cancelling_within_the_cutoff_is_400_too_late_to_cancel(login, dr_carol, alice):
    clinic(cancel_cutoff_minutes=24 * 60)
    slot = slot_at(dr_carol, soon(60), client=alice)

    response = login(alice).post(f"/api/doctor/appointment/undo/{slot.pk}")

    assert response.status_code == 400
    assert response.json() == {"detail": str(TOO_LATE_TO_CANCEL), "code": "too_late_to_cancel"}
    assert Timetable.objects.get(pk=slot.pk).client == alice


def test_the_clinic_is_not_bound_by_the_cutoff(login, admin_user, dr_carol, alice):
    clinic(cancel_cutoff_minutes=24 * 60)
    slot = slot_at(dr_carol, soon(60), client=alice)

    response = login(admin_user).post(
        f"/api/appointments/{slot.pk}/cancel", {"reason": "The doctor is ill"}, format="json"
    )

    assert response.status_code == 200
    assert Timetable.objects.get(pk=slot.pk).client is None


def test_the_cutoff_in_force_is_the_slots_doctors(login, dr_carol, dr_dave, alice):
    clinic(cancel_cutoff_minutes=0)
    doctor(dr_carol, cancel_cutoff_minutes=180)
    carols, daves = slot_at(dr_carol, soon(60), client=alice), slot_at(dr_dave, soon(90), client=alice)
    client = login(alice)

    assert client.post(f"/api/doctor/appointment/undo/{carols.pk}").json()["code"] == "too_late_to_cancel"
    assert client.post(f"/api/doctor/appointment/undo/{daves.pk}").status_code == 200


# --- caps ---------------------------------------------------------------------------------------------


def test_the_active_cap_at_its_boundary_counts_every_doctor(login, dr_carol, dr_dave, alice):
    clinic(max_active_per_patient=2)
    first, second, third = slot_at(dr_carol, soon(60)), slot_at(dr_dave, soon(120)), slot_at(dr_carol, soon(180))
    client = login(alice)

    assert client.post(f"/api/doctor/appointment/{first.pk}").status_code == 201
    assert client.post(f"/api/doctor/appointment/{second.pk}").status_code == 201
    refused = client.post(f"/api/doctor/appointment/{third.pk}")

    assert refused.status_code == 409
    assert refused.json() == {"detail": str(TOO_MANY_APPOINTMENTS), "code": "too_many_appointments"}
    assert Timetable.objects.get(pk=third.pk).client is None
    # Cancelling one frees a place.
    assert client.post(f"/api/doctor/appointment/undo/{first.pk}").status_code == 200
    assert client.post(f"/api/doctor/appointment/{third.pk}").status_code == 201


def test_the_active_cap_counts_only_appointments_that_have_not_started(dr_carol, alice):
    clinic(max_active_per_patient=1)
    now = timezone.now()
    slot_at(dr_carol, now - datetime.timedelta(hours=3), client=alice, status="fulfilled")
    slot_at(dr_carol, now - datetime.timedelta(minutes=5), client=alice)  # under way: started
    wanted = slot_at(dr_carol, now + datetime.timedelta(hours=2))

    slot_book(slot_id=wanted.pk, patient=alice, now=now)

    another = slot_at(dr_carol, now + datetime.timedelta(hours=3))
    with pytest.raises(TooManyAppointments):
        slot_book(slot_id=another.pk, patient=alice, now=now)


def test_a_cap_of_zero_refuses_every_booking(dr_carol, alice):
    clinic(max_active_per_patient=0)

    with pytest.raises(TooManyAppointments):
        slot_book(slot_id=slot_at(dr_carol, soon(60)).pk, patient=alice)


def test_the_daily_cap_at_its_boundary_counts_every_doctor_on_the_local_day(monday, dr_carol, dr_dave, alice, bob):
    clinic(max_per_patient_per_day=2)
    now = local(monday, 0, 5)
    # 00:10 Moscow is 21:10 UTC of the day before: it counts on its local day all the same.
    slot_book(slot_id=slot_at(dr_carol, local(monday, 0, 10)).pk, patient=alice, now=now)
    slot_book(slot_id=slot_at(dr_dave, local(monday, 23, 30)).pk, patient=alice, now=now)
    third = slot_at(dr_dave, local(monday, 12))

    with pytest.raises(DailyLimitReached):
        slot_book(slot_id=third.pk, patient=alice, now=now)
    # The next local day, and another patient the same day, are fine.
    slot_book(slot_id=slot_at(dr_carol, local(monday + datetime.timedelta(days=1), 0, 0)).pk, patient=alice, now=now)
    slot_book(slot_id=third.pk, patient=bob, now=now)


def test_the_daily_cap_counts_the_days_appointments_that_already_took_place(monday, dr_carol, alice):
    clinic(max_per_patient_per_day=1)
    now = local(monday, 12)
    slot_at(dr_carol, local(monday, 9), client=alice, status="fulfilled")
    later = slot_at(dr_carol, local(monday, 15))

    with pytest.raises(DailyLimitReached):
        slot_book(slot_id=later.pk, patient=alice, now=now)


def test_the_daily_limit_over_the_api_is_409_daily_limit_reached(login, dr_carol, dr_dave, alice):
    clinic(max_per_patient_per_day=1)
    first = slot_at(dr_carol, soon(24 * 60))
    same_day = slot_at(dr_dave, soon(24 * 60 + 40))
    client = login(alice)
    assert client.post(f"/api/doctor/appointment/{first.pk}").status_code == 201
    if timezone.localtime(first.start_time).date() != timezone.localtime(same_day.start_time).date():
        pytest.skip("the two slots straddle local midnight at this hour")

    response = client.post(f"/api/doctor/appointment/{same_day.pk}")

    assert response.status_code == 409
    assert response.json() == {"detail": str(DAILY_LIMIT_REACHED), "code": "daily_limit_reached"}


def test_the_caps_in_force_are_the_slots_doctors_but_count_every_doctor(dr_carol, dr_dave, alice):
    doctor(dr_carol, max_active_per_patient=1)
    slot_book(slot_id=slot_at(dr_dave, soon(60)).pk, patient=alice)

    with pytest.raises(TooManyAppointments):
        slot_book(slot_id=slot_at(dr_carol, soon(120)).pk, patient=alice)
    slot_book(slot_id=slot_at(dr_dave, soon(180)).pk, patient=alice)  # Dave's slots: the clinic's, no cap


def test_an_overlap_is_reported_before_a_cap(dr_carol, dr_dave, alice):
    clinic(max_active_per_patient=1)
    slot_book(slot_id=slot_at(dr_carol, soon(60)).pk, patient=alice)

    with pytest.raises(Exception) as refused:
        slot_book(slot_id=slot_at(dr_dave, soon(70)).pk, patient=alice)

    assert refused.value.code == "overlapping_appointment"


def test_the_rules_cost_the_booking_no_statement(dr_carol, alice, bob):
    def statements(patient, start):
        slot = slot_at(dr_carol, start)
        patient.refresh_from_db()  # no role cached
        with CaptureQueriesContext(connection) as queries:
            slot_book(slot_id=slot.pk, patient=patient)
        return len(queries)

    without = statements(alice, soon(120))
    clinic(min_notice_minutes=30, cancel_cutoff_minutes=60, max_active_per_patient=5, max_per_patient_per_day=3)
    doctor(dr_carol, min_notice_minutes=10)

    assert statements(bob, soon(240)) == without


# --- the admin ----------------------------------------------------------------------------------------


def test_the_clinics_rules_are_one_page_saved_through_the_service(staff_client):
    listing = staff_client.get("/admin/appointments/clinicbookingrules/")
    page = staff_client.get("/admin/appointments/clinicbookingrules/1/change/")

    response = staff_client.post(
        "/admin/appointments/clinicbookingrules/1/change/",
        {
            "min_notice_minutes": 30,
            "cancel_cutoff_minutes": 60,
            "max_active_per_patient": "",
            "max_per_patient_per_day": 2,
        },
    )

    assert (listing.status_code, page.status_code, response.status_code) == (200, 200, 302)
    assert rules.clinic_rules() == rules.Rules(30, 60, None, 2)
    assert staff_client.get("/admin/appointments/clinicbookingrules/add/").status_code == 403


def test_a_negative_value_in_the_admin_is_refused(staff_client):
    response = staff_client.post(
        "/admin/appointments/clinicbookingrules/1/change/",
        {
            "min_notice_minutes": -1,
            "cancel_cutoff_minutes": 0,
            "max_active_per_patient": "",
            "max_per_patient_per_day": "",
        },
    )

    assert response.status_code == 200
    assert "min_notice_minutes" in response.context["adminform"].form.errors
    assert rules.clinic_rules() == rules.DEFAULTS


def test_a_doctors_rules_are_edited_on_the_doctor_page(staff_client, dr_carol, sent, on_commit):
    clinic(min_notice_minutes=45)
    page = staff_client.get(doctor_url(dr_carol))
    assert "Empty: the clinic&#x27;s (now 45)." in page.content.decode() or "Empty: the clinic's (now 45)." in (
        page.content.decode()
    )

    with on_commit:
        response = staff_client.post(
            doctor_url(dr_carol), {**doctor_form(), "min_notice_minutes": 0, "max_per_patient_per_day": 1}
        )

    assert response.status_code == 302
    assert rules.doctor_overrides(doctor_id=dr_carol.pk) == {
        "min_notice_minutes": 0,
        "cancel_cutoff_minutes": None,
        "max_active_per_patient": None,
        "max_per_patient_per_day": 1,
    }
    assert rules.doctor_rules(doctor_id=dr_carol.pk) == rules.Rules(0, 0, None, 1)


def test_saving_a_doctor_page_without_rules_writes_no_rules_row(staff_client, dr_carol, sent, on_commit):
    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form())

    assert response.status_code == 302
    assert not DoctorBookingRules.objects.exists()


def test_the_admins_booking_obeys_the_rules(staff_client, dr_carol, alice):
    clinic(min_notice_minutes=120)
    slot = slot_at(dr_carol, soon(60))

    response = run_action(staff_client, "book_for_patient", [slot], patient=alice.pk)

    assert Timetable.objects.get(pk=slot.pk).client is None
    assert any(message.startswith(str(TOO_LATE_TO_BOOK)) for message in page_messages(response))


def test_refusals_come_in_the_patients_language(login, dr_carol, alice):
    clinic(min_notice_minutes=120)
    slot = slot_at(dr_carol, soon(60))

    response = login(alice).post(f"/api/doctor/appointment/{slot.pk}", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.json()["detail"] == "Этот слот начинается слишком скоро: клиника принимает запись заранее."
