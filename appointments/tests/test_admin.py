"""The admin: dashboard, the doctor's page, Timetable booking and cancelling, booking history, CSV import."""

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from appointments import outcomes, planner, services
from appointments.admin.timetable import CHOOSE_PATIENT, FREE_NOT_CANCELLED
from appointments.models import Absence, AppointmentAction, AppointmentEvent, DoctorSchedule, WorkingHours
from appointments.templatetags.dashboard import FILTERS_NOT_APPLIED, RANGE_REVERSED, RANGE_TOO_LONG
from appointments.tests.factories import AbsenceFactory, ScheduleFactory, SlotFactory, WorkingHoursFactory, every_day
from appointments.zone import clinic_zone
from hospital.admin_base import IMPORT_ABORTED
from staff.models import User

FIXTURES = settings.BASE_DIR / "fixtures"
TIMETABLE = "/admin/appointments/timetable/"


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def doctor_url(doctor) -> str:
    return f"/admin/appointments/doctor/{doctor.pk}/change/"


def doctor_form(
    *,
    slot_minutes=20,
    horizon_days=7,
    hours=(),
    absences=(),
    overrides=(),
    initial_hours=0,
    initial_absences=0,
    initial_overrides=0,
):
    """POST data of the doctor's page: hours as dicts of weekday/start/end (id, DELETE); the others likewise."""
    data = {
        "slot_minutes": slot_minutes,
        "horizon_days": horizon_days,
        "working_hours-TOTAL_FORMS": len(hours),
        "working_hours-INITIAL_FORMS": initial_hours,
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 1000,
        "absences-TOTAL_FORMS": len(absences),
        "absences-INITIAL_FORMS": initial_absences,
        "absences-MIN_NUM_FORMS": 0,
        "absences-MAX_NUM_FORMS": 1000,
        "date_overrides-TOTAL_FORMS": len(overrides),
        "date_overrides-INITIAL_FORMS": initial_overrides,
        "date_overrides-MIN_NUM_FORMS": 0,
        "date_overrides-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for index, row in enumerate(hours):
        data.update({f"working_hours-{index}-{key}": value for key, value in row.items()})
    for index, row in enumerate(absences):
        data.update({f"absences-{index}-{key}": value for key, value in row.items()})
    for index, row in enumerate(overrides):
        data.update({f"date_overrides-{index}-{key}": value for key, value in row.items()})
    return data


def local(day_offset: int, at: time):
    """An aware datetime `day_offset` days from today at a clinic wall-clock time."""
    day = timezone.localdate() + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, at))


# --- the dashboard --------------------------------------------------------------------------------


def test_the_dashboard_shows_todays_appointments_and_svg_charts(staff_client, dr_carol, alice):
    today_start = planner.local_day_bounds(timezone.localdate(), clinic_zone())[0]
    SlotFactory(doctor=dr_carol, client=alice, start_time=today_start + timedelta(hours=1))
    SlotFactory(doctor=dr_carol, start_time=today_start + timedelta(hours=2))

    response = staff_client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    assert "Appointments per day" in html and "Utilisation per doctor" in html and "Utilisation this week" in html
    assert "Ivanova Alice" in html  # today's appointments
    assert "Smirnova Carol" in html  # utilisation per doctor
    assert "50.0%" in html  # one of the doctor's two slots is booked
    assert "cdn" not in html.lower()  # the charts need no internet access


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2024-05-02&date_to=2024-05-01", RANGE_REVERSED),
        ("date_from=2000-01-01&date_to=2030-01-01", RANGE_TOO_LONG % {"days": 366}),
        ("date_from=yesterday", "Enter a valid date."),
        ("doctor=abc", "Select a valid choice."),
        ("doctor=99999999999999999999", "Select a valid choice."),
    ],
)
def test_bad_dashboard_filters_show_a_message_not_an_error(staff_client, query, message):
    response = staff_client.get(f"/admin/?{query}")

    assert response.status_code == 200
    html = response.content.decode()
    assert str(FILTERS_NOT_APPLIED) in html
    assert str(message).split("%")[0][:30] in html
    assert "<svg" in html


def test_the_dashboard_charts_one_doctor_over_a_chosen_range(staff_client, dr_carol, dr_dave, alice):
    start = local(2, time(10))
    SlotFactory(doctor=dr_carol, client=alice, start_time=start, stop_time=start + timedelta(minutes=20))
    day = timezone.localdate() + timedelta(days=2)

    response = staff_client.get(f"/admin/?date_from={day:%Y-%m-%d}&date_to={day:%Y-%m-%d}&doctor={dr_carol.pk}")

    html = response.content.decode()
    assert str(FILTERS_NOT_APPLIED) not in html
    assert f"Appointments per day of Smirnova Carol, {day:%Y-%m-%d}" in html
    assert f"{day:%Y-%m-%d}: 1</title>" in html  # the one bar's tooltip


def test_a_staff_member_without_permissions_sees_no_dashboard(client, db):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk, backend="django.contrib.auth.backends.ModelBackend")

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "<svg" not in response.content.decode()


# --- the doctor's page ----------------------------------------------------------------------------


def test_the_doctor_list_shows_doctors_only(staff_client, dr_carol, alice):
    ScheduleFactory(doctor=dr_carol, slot_minutes=25)

    response = staff_client.get("/admin/appointments/doctor/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "dr_carol" in html and ">25<" in html
    assert "alice" not in html


def test_the_doctor_page_saves_hours_and_absences_and_enqueues_regeneration(
    staff_client, dr_carol, sent, django_capture_on_commit_callbacks
):
    hours = [
        {"weekday": 0, "start": "09:00", "end": "13:00"},
        {"weekday": 0, "start": "14:00", "end": "18:00"},
        {"weekday": 2, "start": "10:00", "end": "12:00"},
    ]
    absences = [
        {
            "kind": "vacation",
            "start_0": "2030-01-10",
            "start_1": "00:00",
            "end_0": "2030-01-20",
            "end_1": "00:00",
            "comment": "ski",
        }
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            doctor_url(dr_carol), doctor_form(slot_minutes=30, horizon_days=14, hours=hours, absences=absences)
        )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    schedule = DoctorSchedule.objects.get(doctor=dr_carol)
    assert (schedule.slot_minutes, schedule.horizon_days) == (30, 14)
    assert list(schedule.working_hours.values_list("weekday", "start", "end")) == [
        (0, time(9), time(13)),
        (0, time(14), time(18)),
        (2, time(10), time(12)),
    ]
    absence = Absence.objects.get(doctor=dr_carol)
    assert (absence.kind, absence.comment) == ("vacation", "ski")
    assert timezone.localtime(absence.start).date().isoformat() == "2030-01-10"
    assert dr_carol.pk in sent.doctor_ids


def test_the_doctor_page_replaces_edited_hours_and_deletes_absences(
    staff_client, dr_carol, sent, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(doctor=dr_carol)
    monday = WorkingHoursFactory(schedule=schedule, weekday=0, start=time(9), end=time(13))
    tuesday = WorkingHoursFactory(schedule=schedule, weekday=1, start=time(9), end=time(13))
    absence = AbsenceFactory(doctor=dr_carol)
    hours = [
        # Monday's row is deleted and a new row takes its start: not a duplicate.
        {"id": monday.pk, "schedule": dr_carol.pk, "weekday": 0, "start": "09:00", "end": "13:00", "DELETE": "on"},
        {"id": tuesday.pk, "schedule": dr_carol.pk, "weekday": 1, "start": "08:00", "end": "12:00"},
        {"weekday": 0, "start": "09:00", "end": "11:00"},
    ]
    start, end = timezone.localtime(absence.start), timezone.localtime(absence.end)
    absences = [
        {
            "id": absence.pk,
            "doctor": dr_carol.pk,
            "kind": absence.kind,
            "start_0": f"{start:%Y-%m-%d}",
            "start_1": f"{start:%H:%M:%S}",
            "end_0": f"{end:%Y-%m-%d}",
            "end_1": f"{end:%H:%M:%S}",
            "comment": "",
            "DELETE": "on",
        }
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            doctor_url(dr_carol), doctor_form(hours=hours, absences=absences, initial_hours=2, initial_absences=1)
        )

    assert response.status_code == 302
    assert list(WorkingHours.objects.filter(schedule=schedule).values_list("weekday", "start", "end")) == [
        (0, time(9), time(11)),
        (1, time(8), time(12)),
    ]
    assert not Absence.objects.filter(doctor=dr_carol).exists()
    assert dr_carol.pk in sent.doctor_ids


def test_an_edited_absence_is_saved_with_its_new_times(staff_client, dr_carol, django_capture_on_commit_callbacks):
    absence = AbsenceFactory(doctor=dr_carol, comment="old")
    absences = [
        {
            "id": absence.pk,
            "doctor": dr_carol.pk,
            "kind": "sick_leave",
            "start_0": "2031-03-01",
            "start_1": "09:00",
            "end_0": "2031-03-02",
            "end_1": "18:00",
            "comment": "new",
        }
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(doctor_url(dr_carol), doctor_form(absences=absences, initial_absences=1))

    assert response.status_code == 302
    saved = Absence.objects.get(doctor=dr_carol)
    assert (saved.kind, saved.comment) == ("sick_leave", "new")
    assert f"{timezone.localtime(saved.end):%Y-%m-%d %H:%M}" == "2031-03-02 18:00"


def test_overlapping_hours_show_a_form_error_and_save_nothing(staff_client, dr_carol, sent):
    hours = [
        {"weekday": 0, "start": "09:00", "end": "13:00"},
        {"weekday": 0, "start": "12:00", "end": "16:00"},
    ]

    response = staff_client.post(doctor_url(dr_carol), doctor_form(slot_minutes=30, hours=hours))

    assert response.status_code == 200
    assert "Working hours overlap on Monday: 09:00-13:00 and 12:00-16:00." in response.content.decode()
    assert not DoctorSchedule.objects.filter(doctor=dr_carol).exists()
    assert sent == []


def test_hours_ending_before_they_start_show_a_form_error(staff_client, dr_carol):
    response = staff_client.post(
        doctor_url(dr_carol), doctor_form(hours=[{"weekday": 3, "start": "13:00", "end": "09:00"}])
    )

    assert response.status_code == 200
    assert str(services.HOURS_END_NOT_AFTER_START) in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_an_absence_ending_before_it_starts_shows_a_form_error(staff_client, dr_carol):
    absences = [{"kind": "break", "start_0": "2030-01-10", "start_1": "14:00", "end_0": "2030-01-10", "end_1": "13:00"}]

    response = staff_client.post(doctor_url(dr_carol), doctor_form(absences=absences))

    assert response.status_code == 200
    assert str(services.ABSENCE_END_NOT_AFTER_START) in response.content.decode()
    assert not Absence.objects.exists()


def test_a_slot_length_out_of_range_shows_a_form_error(staff_client, dr_carol):
    response = staff_client.post(doctor_url(dr_carol), doctor_form(slot_minutes=1))

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 5." in response.content.decode()


def test_the_doctor_page_previews_the_coming_week_and_charts_the_load(staff_client, dr_carol, alice):
    every_day(ScheduleFactory(doctor=dr_carol), start=time(9), end=time(10))
    start = local(1, time(9))
    SlotFactory(doctor=dr_carol, client=alice, start_time=start, stop_time=start + timedelta(minutes=20))

    response = staff_client.get(doctor_url(dr_carol))

    assert response.status_code == 200
    html = response.content.decode()
    assert "hospital-week-preview" in html
    assert "09:20&ndash;09:40" in html  # a planned slot of tomorrow
    assert 'title="Ivanova Alice">09:00&ndash;09:20' in html  # the booked one, marked
    assert "<svg" in html and "Appointments per day of Smirnova Carol" in html


def test_the_doctor_page_of_a_doctor_without_schedule_says_so(staff_client, dr_dave):
    response = staff_client.get(doctor_url(dr_dave))

    assert response.status_code == 200
    assert "No schedule yet" in response.content.decode()


def test_doctors_are_neither_added_nor_deleted_on_the_doctors_page(staff_client, dr_carol):
    assert staff_client.get("/admin/appointments/doctor/add/").status_code == 403
    assert staff_client.post(f"/admin/appointments/doctor/{dr_carol.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=dr_carol.pk).exists()


# --- the Timetable --------------------------------------------------------------------------------


def run_action(client, action: str, slots, **extra):
    data = {"action": action, "_selected_action": [slot.pk for slot in slots], "index": 0, **extra}
    return client.post(TIMETABLE, data, follow=True)


def test_an_administrator_books_a_slot_for_a_patient(staff_client, admin_user, dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol)

    response = run_action(staff_client, "book_for_patient", [slot], patient=alice.pk)

    slot.refresh_from_db()
    assert slot.client == alice
    event = AppointmentEvent.objects.get(slot_id=slot.pk)
    assert (event.action, event.patient, event.actor) == (AppointmentAction.BOOKED, alice, admin_user)
    assert "1 slot(s) booked for Ivanova Alice." in page_messages(response)


def test_booking_a_taken_slot_shows_the_service_error(staff_client, dr_carol, alice, bob):
    slot = SlotFactory(doctor=dr_carol, client=bob)

    response = run_action(staff_client, "book_for_patient", [slot], patient=alice.pk)

    slot.refresh_from_db()
    assert slot.client == bob
    assert any(message.startswith(str(services.SLOT_TAKEN)) for message in page_messages(response))
    assert not AppointmentEvent.objects.exists()


def test_booking_a_past_slot_shows_the_service_error(staff_client, dr_carol, alice):
    start = timezone.now() - timedelta(hours=2)
    slot = SlotFactory(doctor=dr_carol, start_time=start, stop_time=start + timedelta(minutes=20))

    response = run_action(staff_client, "book_for_patient", [slot], patient=alice.pk)

    slot.refresh_from_db()
    assert slot.client is None
    assert any(message.startswith(str(services.SLOT_IN_PAST)) for message in page_messages(response))


@pytest.mark.parametrize("who", ["nobody", "doctor", "blocked"])
def test_booking_needs_an_active_patient(staff_client, dr_carol, dr_dave, blocked_user, who):
    slot = SlotFactory(doctor=dr_carol)
    patient = {"nobody": "", "doctor": dr_dave.pk, "blocked": blocked_user.pk}[who]

    response = run_action(staff_client, "book_for_patient", [slot], patient=patient)

    slot.refresh_from_db()
    assert slot.client is None
    assert str(CHOOSE_PATIENT) in page_messages(response)


def test_an_administrator_cancels_an_appointment(staff_client, admin_user, dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol, client=alice, booked_at=timezone.now())
    free = SlotFactory(doctor=dr_carol)

    response = run_action(staff_client, "cancel_appointments", [slot, free], reason="The doctor is ill")

    slot.refresh_from_db()
    assert (slot.client, slot.status) == (None, None)
    event = AppointmentEvent.objects.get(slot_id=slot.pk)
    assert (event.action, event.patient, event.actor) == (AppointmentAction.CANCELLED, alice, admin_user)
    assert (event.cancelled_by, event.reason) == ("clinic", "The doctor is ill")
    assert "1 appointment(s) cancelled." in page_messages(response)
    assert str(FREE_NOT_CANCELLED % {"count": 1}) in page_messages(response)
    assert not AppointmentEvent.objects.filter(slot_id=free.pk).exists()


def test_cancelling_a_started_appointment_shows_the_service_error(staff_client, dr_carol, alice):
    start = timezone.now() - timedelta(minutes=5)
    slot = SlotFactory(doctor=dr_carol, client=alice, start_time=start, stop_time=start + timedelta(minutes=20))

    response = run_action(staff_client, "cancel_appointments", [slot], reason="The doctor is ill")

    slot.refresh_from_db()
    assert slot.client == alice
    assert any(message.startswith(str(services.APPOINTMENT_STARTED)) for message in page_messages(response))


def test_the_timetable_filters_by_doctor_state_and_conflict_and_searches_patients(
    staff_client, dr_carol, dr_dave, alice, bob
):
    carol_booked = SlotFactory(doctor=dr_carol, client=alice)
    carol_free = SlotFactory(doctor=dr_carol)
    dave_conflict = SlotFactory(doctor=dr_dave, client=bob, conflict=True)

    def listed(query):
        response = staff_client.get(f"{TIMETABLE}?{query}")
        assert response.status_code == 200
        return {slot.pk for slot in response.context["cl"].result_list}

    assert listed(f"doctor={dr_carol.pk}") == {carol_booked.pk, carol_free.pk}
    assert listed("booked=free") == {carol_free.pk}
    assert listed("booked=booked") == {carol_booked.pk, dave_conflict.pk}
    assert listed("conflict__exact=1") == {dave_conflict.pk}
    assert listed("q=Ivanova") == {carol_booked.pk}
    assert listed("q=bob") == {dave_conflict.pk}
    day = timezone.localtime(carol_free.start_time)
    assert carol_free.pk in listed(
        f"start_time__year={day.year}&start_time__month={day.month}&start_time__day={day.day}"
    )
    assert listed("doctor=abc") == {carol_booked.pk, carol_free.pk, dave_conflict.pk}


def test_a_slot_page_is_read_only(staff_client, dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol)

    assert staff_client.get(f"{TIMETABLE}{slot.pk}/change/").status_code == 200
    response = staff_client.post(f"{TIMETABLE}{slot.pk}/change/", {"client": alice.pk})

    assert response.status_code == 403
    slot.refresh_from_db()
    assert slot.client is None
    assert staff_client.get(f"{TIMETABLE}add/").status_code == 403


def test_the_patient_picker_offers_active_patients_only(staff_client, alice, dr_dave, blocked_user):
    response = staff_client.get(
        "/admin/autocomplete/", {"app_label": "appointments", "model_name": "timetable", "field_name": "client"}
    )

    ids = {int(result["id"]) for result in response.json()["results"]}
    assert alice.pk in ids
    assert dr_dave.pk not in ids and blocked_user.pk not in ids


# --- booking history -------------------------------------------------------------------------------


def test_the_booking_history_is_read_only(staff_client, dr_carol, alice):
    slot = SlotFactory(doctor=dr_carol)
    services.slot_book(slot_id=slot.pk, patient=alice)
    event = AppointmentEvent.objects.get()
    url = "/admin/appointments/appointmentevent/"

    assert staff_client.get(url).status_code == 200
    assert staff_client.get(f"{url}{event.pk}/change/").status_code == 200  # a view page
    assert staff_client.get(f"{url}add/").status_code == 403
    assert staff_client.post(f"{url}{event.pk}/change/", {"action": "cancelled"}).status_code == 403
    assert staff_client.post(f"{url}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == AppointmentAction.BOOKED


def test_the_booking_history_exports_csv(staff_client, dr_carol, alice, admin_user):
    slot = SlotFactory(doctor=dr_carol)
    services.slot_book(slot_id=slot.pk, patient=alice)
    outcomes.appointment_cancel(slot_id=slot.pk, actor=admin_user, reason="The doctor is ill")

    response = staff_client.post(
        "/admin/appointments/appointmentevent/export/",
        {
            "format": "0",
            "resource": "0",
            "appointmenteventresource_action": "on",
            "appointmenteventresource_cancelled_by": "on",
            "appointmenteventresource_reason": "on",
            "appointmenteventresource_patient": "on",
        },
    )

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "booked,,,Ivanova Alice" in text
    assert "cancelled,clinic,The doctor is ill,Ivanova Alice" in text


def test_absences_are_listed_read_only(staff_client, dr_carol):
    absence = AbsenceFactory(doctor=dr_carol)

    response = staff_client.get("/admin/appointments/absence/")

    assert response.status_code == 200
    assert doctor_url(dr_carol) in response.content.decode()
    assert staff_client.post(f"/admin/appointments/absence/{absence.pk}/delete/", {"post": "yes"}).status_code == 403


# --- import through the admin ----------------------------------------------------------------------


def preview(client, url: str, path: Path, resource: str = "0"):
    with path.open("rb") as handle:
        return client.post(url, {"import_file": handle, "format": "0", "resource": resource})


def confirm(client, url: str, response):
    return client.post(url, response.context["confirm_form"].initial, follow=True)


def test_doctors_import_previews_then_confirms_in_the_admin(
    staff_client, demo_specialties, sent, django_capture_on_commit_callbacks
):
    page = staff_client.get("/admin/appointments/doctor/import/").content.decode()
    assert "slot_minutes, horizon_days, mon, tue, wed, thu, fri, sat, sun" in page  # the columns it needs

    shown = preview(staff_client, "/admin/appointments/doctor/import/", FIXTURES / "doctors.csv")

    assert shown.status_code == 200
    assert shown.context["confirm_form"] is not None
    html = shown.content.decode()
    assert "Соколова" in html and "09:00-13:00;14:00-18:00" in html  # the preview shows the schedules
    assert not User.objects.filter(username__startswith="dr.").exists()  # a preview writes nothing
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(staff_client, "/admin/appointments/doctor/process_import/", shown)

    assert done.status_code == 200
    assert any("Import finished: 6 new" in message for message in page_messages(done))
    doctors = User.objects.filter(username__startswith="dr.")
    assert doctors.count() == 6
    assert all(doctor.is_doctor and not doctor.has_usable_password() for doctor in doctors)
    assert DoctorSchedule.objects.count() == 6
    assert set(sent.doctor_ids) == set(doctors.values_list("pk", flat=True))


def test_a_bad_file_in_the_admin_names_the_row_and_offers_no_confirm(staff_client):
    response = preview(staff_client, "/admin/appointments/doctor/import/", FIXTURES / "doctors_bad_row.csv")

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    html = response.content.decode()
    assert "Working hours overlap on Monday: 09:00-13:00 and 12:00-16:00." in html
    assert not User.objects.filter(username__startswith="dr.").exists()


def test_a_file_that_turns_bad_before_confirm_writes_nothing(staff_client, demo_specialties):
    shown = preview(staff_client, "/admin/appointments/doctor/import/", FIXTURES / "doctors.csv")
    # The confirm step reads the file saved at preview: spoil it in between.
    saved = Path(tempfile.gettempdir()) / shown.context["confirm_form"].initial["import_file_name"]
    saved.write_bytes((FIXTURES / "doctors_bad_row.csv").read_bytes())

    done = confirm(staff_client, "/admin/appointments/doctor/process_import/", shown)

    messages = page_messages(done)
    assert str(IMPORT_ABORTED) in messages
    assert any(message.startswith("Line 3: mon:") for message in messages)
    assert not User.objects.filter(username__startswith="dr.").exists()
    assert not DoctorSchedule.objects.exists()


def test_patients_import_from_the_users_page_and_doctors_from_the_doctors_page(staff_client, demo_specialties):
    shown = preview(staff_client, "/admin/staff/user/import/", FIXTURES / "patients.csv", resource="0")
    confirm(staff_client, "/admin/staff/user/process_import/", shown)
    shown = preview(staff_client, "/admin/appointments/doctor/import/", FIXTURES / "doctors.csv")
    confirm(staff_client, "/admin/appointments/doctor/process_import/", shown)

    assert User.objects.patients().filter(username__startswith="p.").count() == 5
    assert User.objects.doctors().filter(username__startswith="dr.").count() == 6
    assert not User.objects.get(username="p.ivanova").is_doctor
    # One import of doctors, on their own page: the Users page offers patients only.
    offered = staff_client.get("/admin/staff/user/import/").context["form"].fields["resource"].choices
    assert [str(label) for _value, label in offered] == ["Patients"]


def test_import_needs_the_add_permission(client, db):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get("/admin/appointments/doctor/import/").status_code == 403


def test_the_jazzmin_menu_has_the_doctors_section(staff_client):
    html = staff_client.get("/admin/appointments/doctor/").content.decode()

    assert "fas fa-user-md" in html
    assert "/admin/appointments/doctor/import/" in html
