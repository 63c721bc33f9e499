"""The admin's closures page, the doctor page's date overrides and availability tabs: writes through the services.

Rows a test starts from are made with the ORM: a service's regeneration left waiting for a commit
that never comes (the test's transaction) would cover, and so hide, the one the admin must enqueue.
"""

import html
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from appointments.generation import slots_generate_for_doctor
from appointments.models import Absence, Closure, DateOverride, Timetable, override_intervals
from appointments.services import CLOSURE_DATES_REVERSED, slot_book
from appointments.tests.factories import ScheduleFactory, every_day
from appointments.tests.test_admin import doctor_form, doctor_url
from appointments.zone import clinic_zone
from staff.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

CLOSURES = "/admin/appointments/closure/"


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def audit(action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def form_errors(response) -> str:
    """The page as text (its error lists included)."""
    return html.unescape(response.content.decode())


def closure(days: int, reason="x") -> Closure:
    return Closure.objects.create(date_from=in_days(days), date_to=in_days(days), reason=reason)


def override(doctor, days: int, intervals=(), comment="") -> DateOverride:
    return DateOverride.objects.create(
        doctor=doctor, date=in_days(days), intervals=override_intervals(intervals), comment=comment
    )


# --- closures --------------------------------------------------------------------------------------


def test_adding_a_closure_in_the_admin_is_the_service_with_its_regeneration(staff_client, admin_user, sent, on_commit):
    doctor = every_day(ScheduleFactory()).doctor_id
    body = {"date_from": f"{in_days(3)}", "date_to": f"{in_days(4)}", "reason": "Clinic holiday"}

    with on_commit:
        response = staff_client.post(f"{CLOSURES}add/", body)

    assert response.status_code == 302
    closure = Closure.objects.get()
    assert (closure.date_from, closure.date_to, closure.reason) == (in_days(3), in_days(4), "Clinic holiday")
    [event] = audit(AuditAction.CLOSURE_CREATED)
    assert (event.actor, event.target_id) == (admin_user, closure.pk)
    assert sent.batches == [[doctor]]


def test_a_closure_ending_before_it_starts_is_a_form_error(staff_client, sent, on_commit):
    body = {"date_from": f"{in_days(4)}", "date_to": f"{in_days(3)}", "reason": "x"}

    with on_commit:
        response = staff_client.post(f"{CLOSURES}add/", body)

    assert response.status_code == 200
    assert str(CLOSURE_DATES_REVERSED) in form_errors(response)
    assert not Closure.objects.exists()
    assert sent == []


def test_a_closure_page_is_read_only(staff_client):
    closure = Closure.objects.create(date_from=in_days(3), date_to=in_days(3), reason="Inspection")

    page = staff_client.get(f"{CLOSURES}{closure.pk}/change/")
    staff_client.post(f"{CLOSURES}{closure.pk}/change/", {"date_from": f"{in_days(9)}", "reason": "changed"})

    assert page.status_code == 200
    assert 'name="reason"' not in page.content.decode()
    closure.refresh_from_db()
    assert (closure.date_from, closure.reason) == (in_days(3), "Inspection")


def test_deleting_a_closure_in_the_admin_is_the_service(staff_client, admin_user, sent, on_commit):
    doctor = every_day(ScheduleFactory()).doctor_id
    inspection = closure(3, "Inspection")

    with on_commit:
        response = staff_client.post(f"{CLOSURES}{inspection.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Closure.objects.exists()
    [event] = audit(AuditAction.CLOSURE_DELETED)
    assert (event.actor, event.target_id) == (admin_user, inspection.pk)
    assert sent.batches == [[doctor]]


def test_the_delete_action_deletes_each_closure_through_the_service(staff_client, admin_user, sent, on_commit):
    doctor = every_day(ScheduleFactory()).doctor_id
    closures = [closure(3), closure(5)]

    with on_commit:
        response = staff_client.post(
            CLOSURES,
            {"action": "delete_selected", "_selected_action": [c.pk for c in closures], "index": 0, "post": "yes"},
        )

    assert response.status_code == 302
    assert not Closure.objects.exists()
    assert sorted(event.target_id for event in audit(AuditAction.CLOSURE_DELETED)) == sorted(c.pk for c in closures)
    assert sent.batches == [[doctor]]  # one fan-out for the whole action


# --- date overrides on the doctor's page --------------------------------------------------------------


def override_row(day, hours="", comment="", **extra) -> dict:
    return {"date": f"{day}", "hours": hours, "comment": comment, **extra}


def test_the_doctor_page_sets_date_overrides_through_the_service(staff_client, admin_user, dr_carol, sent, on_commit):
    rows = [override_row(in_days(3), "14:00-18:00;08:00-12:00", "swap"), override_row(in_days(4))]

    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form(overrides=rows))

    assert response.status_code == 302, form_errors(response)
    assert list(DateOverride.objects.filter(doctor=dr_carol).values_list("date", "intervals", "comment")) == [
        (in_days(3), [{"start": "08:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}], "swap"),
        (in_days(4), [], ""),
    ]
    events = audit(AuditAction.DATE_OVERRIDE_SET)
    assert [(event.actor, event.changes["date"]) for event in events] == [
        (admin_user, f"{in_days(3)}"),
        (admin_user, f"{in_days(4)}"),
    ]
    assert sent.batches == [[dr_carol.pk]]


def test_the_doctor_page_changes_moves_and_deletes_overrides(staff_client, dr_carol, sent, on_commit):
    ScheduleFactory(doctor=dr_carol)
    changed = override(dr_carol, 3, [(time(9), time(12))], "a")
    moved = override(dr_carol, 4)
    deleted = override(dr_carol, 5)
    rows = [
        override_row(in_days(3), "10:00-11:00", "b", id=changed.pk, doctor=dr_carol.pk),
        override_row(in_days(6), "", "", id=moved.pk, doctor=dr_carol.pk),
        override_row(in_days(5), "", "", id=deleted.pk, doctor=dr_carol.pk, DELETE="on"),
    ]

    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form(overrides=rows, initial_overrides=3))

    assert response.status_code == 302, form_errors(response)
    assert list(DateOverride.objects.filter(doctor=dr_carol).values_list("date", "intervals", "comment")) == [
        (in_days(3), [{"start": "10:00", "end": "11:00"}], "b"),
        (in_days(6), [], ""),
    ]
    assert DateOverride.objects.get(date=in_days(3)).pk == changed.pk
    deleted_dates = [event.changes["date"] for event in audit(AuditAction.DATE_OVERRIDE_DELETED)]
    assert sorted(deleted_dates) == [f"{in_days(4)}", f"{in_days(5)}"]
    assert sent.batches == [[dr_carol.pk]]


@pytest.mark.parametrize(
    ("hours", "message"),
    [("9-12", "is not a list of intervals"), ("12:00-09:00", "must be after"), ("09:00-12:00;11:00-13:00", "overlap")],
)
def test_bad_override_hours_are_a_form_error_and_save_nothing(staff_client, dr_carol, sent, on_commit, hours, message):
    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form(overrides=[override_row(in_days(3), hours)]))

    assert response.status_code == 200
    assert message in form_errors(response)
    assert not DateOverride.objects.exists()
    assert sent == []


def test_two_rows_for_one_date_are_a_form_error(staff_client, dr_carol):
    rows = [override_row(in_days(3)), override_row(in_days(3), "09:00-10:00")]

    response = staff_client.post(doctor_url(dr_carol), doctor_form(overrides=rows))

    assert response.status_code == 200
    assert not DateOverride.objects.exists()


def test_the_overrides_tab_shows_dates_from_today_on(staff_client, dr_carol):
    override(dr_carol, -2, comment="long ago")
    override(dr_carol, 2, [(time(9), time(10))], "soon")

    html = staff_client.get(doctor_url(dr_carol)).content.decode()

    assert "soon" in html and "09:00-10:00" in html
    assert "long ago" not in html


# --- availability on the doctor's page ------------------------------------------------------------------


def test_the_doctor_page_explains_a_chosen_dates_slots(staff_client, dr_carol, alice):
    every_day(ScheduleFactory(doctor=dr_carol, horizon_days=14))
    slots_generate_for_doctor(doctor_id=dr_carol.pk)
    day = in_days(3)
    nine = datetime.combine(day, time(9), tzinfo=clinic_zone())
    booked = slot_book(slot_id=Timetable.objects.get(doctor=dr_carol, start_time=nine).pk, patient=alice)
    Absence.objects.create(
        doctor=dr_carol, kind="break", start=nine + timedelta(hours=1), end=nine + timedelta(hours=2)
    )

    page = form_errors(staff_client.get(f"{doctor_url(dr_carol)}?availability={day}"))

    assert 'data-day="working"' in page
    assert "Hours in force: 09:00-13:00" in page
    assert f'href="/admin/appointments/timetable/{booked.pk}/change/"' in page
    assert "booked" in page and "the doctor is absent (break)" in page
    assert "8 slots can be booked now." in page  # twelve, less the booked one and the three of the break
    # The picker submits a GET form of its own, outside the page's form.
    assert '<form id="availability-day" method="get"' in page
    assert 'form="availability-day"' in page


def test_the_availability_tab_says_why_a_date_has_no_slots(staff_client, dr_carol):
    every_day(ScheduleFactory(doctor=dr_carol, horizon_days=7))
    closure(5, "Holiday")

    closed = form_errors(staff_client.get(f"{doctor_url(dr_carol)}?availability={in_days(5)}"))
    far = form_errors(staff_client.get(f"{doctor_url(dr_carol)}?availability={in_days(30)}"))

    assert 'data-day="closure"' in closed and "the clinic is closed" in closed
    assert 'data-day="beyond_horizon"' in far and "0 slots can be booked now." in far


@pytest.mark.parametrize("value", ["2027-1-5", "2027-02-30", "soon"])
def test_a_bad_availability_date_shows_a_message_and_today(staff_client, dr_carol, value):
    response = staff_client.get(f"{doctor_url(dr_carol)}?availability={value}")

    assert response.status_code == 200
    page = form_errors(response)
    assert "Enter the date as YYYY-MM-DD." in page
    assert f'value="{in_days(0)}"' in page
