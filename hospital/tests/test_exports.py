"""Every admin export is safe to open in a spreadsheet: no cell of user text starts a formula.

OWASP's CSV injection rule: a cell that starts with =, +, -, @, a tab or a carriage return is
neutralised with a leading apostrophe, in CSV and in XLSX, and an XLSX file holds no formula.
"""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from appointments import services
from appointments.resources import DoctorResource
from appointments.tests.factories import AbsenceFactory, ScheduleFactory, SlotFactory
from staff.resources import UserResource
from staff.roles import Role
from staff.services import roles_ensure, user_update
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)", "\tTAB", "\rCR"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


EXPORTS = {
    "/admin/staff/user/export/": "userresource",
    "/admin/appointments/doctor/export/": "doctorresource",
    "/admin/appointments/timetable/export/": "timetableresource",
    "/admin/appointments/absence/export/": "absenceresource",
    "/admin/appointments/appointmentevent/export/": "appointmenteventresource",
    "/admin/staff/auditevent/export/": "auditeventresource",
}


@pytest.fixture
def poisoned(db):
    """People, a schedule, an absence, a booking and audit rows whose text starts formulas."""
    roles_ensure()
    patient = UserFactory(username="p1", last_name=PAYLOADS[0], first_name=PAYLOADS[1], middle_name=PAYLOADS[2])
    doctor = UserFactory(
        username="d1", last_name=PAYLOADS[3], first_name=PAYLOADS[4], middle_name=PAYLOADS[5], roles=[Role.DOCTOR]
    )
    ScheduleFactory(doctor=doctor)
    AbsenceFactory(doctor=doctor, comment=PAYLOADS[0])
    slot = SlotFactory(doctor=doctor, start_time=timezone.now() + timedelta(days=2))
    services.slot_book(slot_id=slot.pk, patient=patient)
    user_update(user=patient, email="x@clinic.example", last_name=PAYLOADS[1])  # an audit row with payloads
    return patient, doctor


def all_fields(url: str) -> list[str]:
    from appointments.admin.timetable import AbsenceAdmin, AppointmentEventAdmin, TimetableAdmin
    from staff.admin import AuditEventAdmin

    resources = {
        "/admin/staff/user/export/": UserResource,
        "/admin/appointments/doctor/export/": DoctorResource,
        "/admin/appointments/timetable/export/": TimetableAdmin.resource_classes[0],
        "/admin/appointments/absence/export/": AbsenceAdmin.resource_classes[0],
        "/admin/appointments/appointmentevent/export/": AppointmentEventAdmin.resource_classes[0],
        "/admin/staff/auditevent/export/": AuditEventAdmin.resource_classes[0],
    }
    return list(resources[url]().fields)


def neutralised(value) -> bool:
    """A payload (alone, or first in a full name) written as text behind an apostrophe."""
    return isinstance(value, str) and value.startswith("'") and value[1:].startswith(tuple(PAYLOADS))


def post_export(client, url: str, file_format: str):
    prefix = EXPORTS[url]
    data = {"format": file_format, "resource": "0", **{f"{prefix}_{name}": "on" for name in all_fields(url)}}
    response = client.post(url, data)
    assert response.status_code == 200, response.content[:500]
    return response


@pytest.mark.parametrize("url", list(EXPORTS))
def test_csv_exports_neutralise_every_formula(staff_client, poisoned, url):
    response = post_export(staff_client, url, "0")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, "the export is empty"
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert any(neutralised(cell) for cell in cells), "no payload reached the export"


@pytest.mark.parametrize("url", list(EXPORTS))
def test_xlsx_exports_hold_no_formula(staff_client, poisoned, url):
    response = post_export(staff_client, url, "1")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert cells, "the export is empty"
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert not [cell.value for cell in cells if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)]
    assert any(neutralised(cell.value) for cell in cells), "no payload reached the export"


def test_a_control_character_in_free_text_does_not_break_the_xlsx_export(staff_client, dr_carol):
    AbsenceFactory(doctor=dr_carol, comment="bell\x07here")

    response = post_export(staff_client, "/admin/appointments/absence/export/", "1")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "bell\ufffdhere" in [cell.value for row in sheet.iter_rows(min_row=2) for cell in row]
