"""CSV import of doctors and patients (all or nothing, idempotent), the import commands, and the exports."""

import csv
import io
from datetime import time, timedelta

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from appointments.models import AppointmentEvent, DoctorSchedule, Timetable, WorkingHours
from appointments.resources import (
    DOCTOR_COLUMNS,
    DoctorResource,
    TimetableResource,
    doctors_import,
    intervals_format,
    intervals_parse,
)
from appointments.tests.factories import AbsenceFactory, ScheduleFactory, SlotFactory
from hospital.imports import ImportFileError
from staff.models import User
from staff.resources import UserResource, patients_import
from staff.roles import Role

FIXTURES = settings.BASE_DIR / "fixtures"
DOCTORS = FIXTURES / "doctors.csv"
DOCTORS_BAD_ROW = FIXTURES / "doctors_bad_row.csv"
PATIENTS = FIXTURES / "patients.csv"
# Most files here have no `specialties` column, as files made before it: they import as they did.
HEADER = ",".join(column for column in DOCTOR_COLUMNS if column != "specialties")


def csv_file(*lines: str, name: str = "doctors.csv") -> io.BytesIO:
    handle = io.BytesIO("\n".join(lines).encode("utf-8"))
    handle.name = name
    return handle


# --- the weekday cells ----------------------------------------------------------------------------


def test_it_reads_and_writes_weekday_intervals():
    assert intervals_parse("09:00-13:00; 14:00-18:00") == [(time(9), time(13)), (time(14), time(18))]
    assert intervals_parse("") == []
    assert intervals_parse(None) == []
    assert intervals_format([(time(14), time(18)), (time(9), time(13))]) == "09:00-13:00;14:00-18:00"


@pytest.mark.parametrize("cell", ["9-13", "09:00-13:00,14:00-18:00", "25:00-26:00", "09:00", "nine to five"])
def test_it_refuses_malformed_weekday_cells(cell):
    with pytest.raises(ValueError, match="is not a list of intervals"):
        intervals_parse(cell)


# --- doctors --------------------------------------------------------------------------------------


def test_a_good_file_creates_doctors_with_schedules_and_slots(demo_specialties):
    outcome = doctors_import(DOCTORS, generate=True)

    assert outcome.ok, outcome.problems
    assert (outcome.new, outcome.updated) == (6, 0)
    sokolova = User.objects.get(username="dr.sokolova")
    assert (sokolova.last_name, sokolova.first_name, sokolova.middle_name) == ("Соколова", "Елена", "Викторовна")
    assert sokolova.is_doctor and not sokolova.is_staff
    assert not sokolova.has_usable_password()
    schedule = DoctorSchedule.objects.get(doctor=sokolova)
    assert (schedule.slot_minutes, schedule.horizon_days) == (20, 7)
    monday = list(schedule.working_hours.filter(weekday=0).values_list("start", "end"))
    assert monday == [(time(9), time(13)), (time(14), time(18))]
    assert not schedule.working_hours.filter(weekday__in=[5, 6]).exists()
    assert set(outcome.user_ids) == set(User.objects.doctors().values_list("pk", flat=True))
    for doctor_id in outcome.user_ids:
        assert Timetable.objects.filter(doctor_id=doctor_id, start_time__gt=timezone.now()).exists()
    # The lunch break makes no slot.
    lunch = [slot.start_time for slot in Timetable.objects.filter(doctor=sokolova)]
    assert all(timezone.localtime(start).time() not in (time(13), time(13, 20), time(13, 40)) for start in lunch)


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_line(db):
    users_before = User.objects.count()

    outcome = doctors_import(DOCTORS_BAD_ROW, generate=True)

    assert not outcome.ok
    assert [problem.line for problem in outcome.problems] == [3]
    assert "mon" in str(outcome.problems[0])
    assert "overlap" in str(outcome.problems[0])
    assert str(outcome.problems[0]).startswith("Line 3:")
    # The good row before the bad one is rolled back too.
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="dr.orlova").exists()
    assert not DoctorSchedule.objects.exists()
    assert not Timetable.objects.exists()
    assert outcome.user_ids == ()


def test_importing_twice_updates_and_never_duplicates(demo_specialties):
    first = doctors_import(DOCTORS, generate=True)
    users, hours, slots = User.objects.count(), WorkingHours.objects.count(), Timetable.objects.count()

    second = doctors_import(DOCTORS, generate=True)

    assert (first.new, second.new, second.updated) == (6, 0, 6)
    assert User.objects.count() == users
    assert WorkingHours.objects.count() == hours
    assert Timetable.objects.count() == slots


def test_a_changed_file_updates_the_schedule(db):
    doctors_import(csv_file(HEADER, "dr.x,Орлов,Пётр,,male,1980-01-01,,20,7,09:00-13:00,,,,,,"))

    outcome = doctors_import(csv_file(HEADER, "dr.x,Орлов,Пётр,Ильич,male,1980-01-01,,30,14,,10:00-12:00,,,,,"))

    assert (outcome.new, outcome.updated) == (0, 1)
    doctor = User.objects.get(username="dr.x")
    assert doctor.middle_name == "Ильич"
    schedule = DoctorSchedule.objects.get(doctor=doctor)
    assert (schedule.slot_minutes, schedule.horizon_days) == (30, 14)
    assert list(schedule.working_hours.values_list("weekday", "start", "end")) == [(1, time(10), time(12))]


def test_empty_slot_length_and_horizon_keep_the_current_ones(db, dr_carol):
    ScheduleFactory(doctor=dr_carol, slot_minutes=45, horizon_days=3)

    doctors_import(csv_file(HEADER, "dr_carol,Smirnova,Carol,,female,1990-05-17,,,,09:00-12:00,,,,,,"))

    schedule = DoctorSchedule.objects.get(doctor=dr_carol)
    assert (schedule.slot_minutes, schedule.horizon_days) == (45, 3)


def test_importing_an_existing_patient_as_doctor_keeps_their_password_and_role(db, alice):
    doctors_import(csv_file(HEADER, "alice,Ivanova,Alice,,female,1990-05-17,,20,7,09:00-12:00,,,,,,"))

    alice.refresh_from_db()
    assert alice.has_usable_password()
    assert {group.name for group in alice.groups.all()} == {Role.PATIENT, Role.DOCTOR}


def test_every_bad_value_is_reported_with_its_line_and_column(db):
    outcome = doctors_import(
        csv_file(
            HEADER,
            "dr.ok,Орлов,Пётр,,male,1980-01-01,,20,7,09:00-13:00,,,,,,",
            "dr.date,Орлов,Пётр,,male,01.02.1980,,20,7,,,,,,,",
            "dr.sex,Орлов,Пётр,,man,1980-01-01,,20,7,,,,,,,",
            "dr.slot,Орлов,Пётр,,male,1980-01-01,,3,7,,,,,,,",
            "dr.name,,Пётр,,male,1980-01-01,,20,7,,,,,,,",
            "dr.hours,Орлов,Пётр,,male,1980-01-01,,20,7,,18:00-09:00,,,,,",
            "dr.mail,Орлов,Пётр,,male,1980-01-01,not-an-email,20,seven,,,,,,,",
        )
    )

    problems = sorted((problem.line, problem.message.split(":")[0]) for problem in outcome.problems)
    assert problems == [
        (3, "birth_date"),
        (4, "sex"),
        (5, "slot_minutes"),
        (6, "last_name"),
        (7, "tue"),
        (8, "email"),
        (8, "horizon_days"),
    ]
    assert "YYYY-MM-DD" in str(outcome.problems[0])
    assert not User.objects.filter(username="dr.ok").exists()


def test_missing_columns_are_reported_on_the_header_line(db):
    outcome = doctors_import(csv_file("username,last_name,first_name,sex,birth_date,mon", "dr.x,A,B,male,1980-01-01,"))

    assert [problem.line for problem in outcome.problems] == [1]
    assert "tue, wed, thu, fri, sat, sun" in outcome.problems[0].message
    assert not User.objects.filter(username="dr.x").exists()


def test_a_file_that_is_not_csv_is_refused(db):
    with pytest.raises(ImportFileError):
        doctors_import(csv_file("x", name="doctors.pdf"))
    with pytest.raises(ImportFileError):
        doctors_import(io.BytesIO(b"\xff\xfe\x00broken"))


def test_a_dry_run_writes_nothing_and_enqueues_nothing(demo_specialties, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = doctors_import(DOCTORS, dry_run=True)

    assert outcome.ok and outcome.new == 6
    assert not User.objects.filter(username__startswith="dr.").exists()
    assert sent == []


def test_an_import_enqueues_slot_generation_once_it_commits(demo_specialties, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = doctors_import(DOCTORS)

    assert set(sent.doctor_ids) == set(outcome.user_ids)
    assert len(outcome.user_ids) == 6


def test_a_failed_import_enqueues_nothing(db, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doctors_import(DOCTORS_BAD_ROW)

    assert sent == []


# --- patients -------------------------------------------------------------------------------------


def test_patients_get_the_patient_role_and_cannot_log_in(db):
    outcome = patients_import(PATIENTS)

    assert outcome.ok and outcome.new == 5
    petrov = User.objects.get(username="p.petrov")
    assert petrov.is_patient and not petrov.is_doctor
    assert not petrov.has_usable_password()
    assert petrov.birth_date.isoformat() == "1979-07-30"
    assert User.objects.get(username="p.kozlov").email == ""


def test_patients_import_twice_updates(db):
    patients_import(PATIENTS)

    outcome = patients_import(PATIENTS)

    assert (outcome.new, outcome.updated) == (0, 5)
    assert User.objects.patients().count() == 5


# --- the commands ---------------------------------------------------------------------------------


def test_the_import_command_imports_and_generates_slots(demo_specialties):
    out = io.StringIO()

    call_command("import_doctors", str(DOCTORS), stdout=out)

    assert "Imported 6 new and 0 updated doctors." in out.getvalue()
    assert User.objects.doctors().count() == 6
    assert Timetable.objects.filter(start_time__gt=timezone.now()).exists()
    # No progress bar in a log or a pipe.
    assert "row/s" not in out.getvalue()


def test_the_import_command_fails_with_the_line_and_writes_nothing(db):
    err = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_doctors", str(DOCTORS_BAD_ROW), stderr=err)

    assert raised.value.returncode == 1  # the exit status of `manage.py import_doctors`
    assert "Nothing was imported: 1 problem(s)" in str(raised.value)
    assert "Line 3: mon: Working hours overlap on Monday" in err.getvalue()
    assert not User.objects.filter(username__startswith="dr.").exists()


def test_the_import_command_dry_run_writes_nothing(demo_specialties):
    out = io.StringIO()

    call_command("import_doctors", str(DOCTORS), "--dry-run", stdout=out)

    assert "Dry run: 6 new and 0 updated doctors would be imported" in out.getvalue()
    assert not User.objects.filter(username__startswith="dr.").exists()


def test_the_import_command_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_doctors", str(tmp_path / "nope.csv"))


def test_the_patients_command_imports(db):
    out = io.StringIO()

    call_command("import_patients", str(PATIENTS), stdout=out)

    assert "Imported 5 new and 0 updated patients." in out.getvalue()


def test_the_demo_loader_is_idempotent_and_books_some_slots(db):
    call_command("load_demo", stdout=io.StringIO())
    users, booked = User.objects.count(), Timetable.objects.filter(client__isnull=False).count()

    call_command("load_demo", stdout=io.StringIO())

    assert User.objects.doctors().count() == 6
    assert User.objects.patients().count() == 5
    assert booked > 0
    assert AppointmentEvent.objects.count() == booked
    assert (User.objects.count(), Timetable.objects.filter(client__isnull=False).count()) == (users, booked)


# --- exports --------------------------------------------------------------------------------------


def export(client, url: str, resource: str, fields: list[str], file_format: str = "0"):
    data = {"format": file_format, "resource": "0", **{f"{resource}_{field}": "on" for field in fields}}
    return client.post(url, data)


def test_the_timetable_export_as_csv_names_doctor_and_patient(staff_client, dr_carol, alice):
    SlotFactory(doctor=dr_carol, client=alice)
    SlotFactory(doctor=dr_carol)

    response = export(
        staff_client,
        "/admin/appointments/timetable/export/",
        "timetableresource",
        [
            "id",
            "doctor_username",
            "doctor",
            "patient_username",
            "patient",
            "start",
            "end",
            "booked_at",
            "conflict",
            "status",
        ],
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    booked = next(row for row in rows if row["patient_username"])
    assert (booked["doctor"], booked["patient"]) == ("Smirnova Carol", "Ivanova Alice")
    assert booked["doctor_username"] == "dr_carol"
    assert booked["status"] == "booked"


def test_the_timetable_export_as_xlsx_names_doctor_and_patient(staff_client, dr_carol, alice):
    SlotFactory(doctor=dr_carol, client=alice)

    response = export(
        staff_client, "/admin/appointments/timetable/export/", "timetableresource", ["doctor", "patient", "start"], "1"
    )

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[2]][:2] == ["Smirnova Carol", "Ivanova Alice"]


def test_the_doctors_export_imports_back_unchanged(staff_client, demo_specialties):
    doctors_import(DOCTORS)
    hours = sorted(WorkingHours.objects.values_list("schedule_id", "weekday", "start", "end"))

    response = export(staff_client, "/admin/appointments/doctor/export/", "doctorresource", list(DOCTOR_COLUMNS))

    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(DOCTOR_COLUMNS)
    assert "09:00-13:00;14:00-18:00" in text
    outcome = doctors_import(csv_file(*text.splitlines()))
    assert (outcome.new, outcome.updated) == (0, 6)
    assert sorted(WorkingHours.objects.values_list("schedule_id", "weekday", "start", "end")) == hours


def test_the_users_export_lists_roles_and_no_password(staff_client, alice, dr_carol):
    response = export(staff_client, "/admin/staff/user/export/", "userresource", list(UserResource().fields))

    text = response.content.decode("utf-8-sig")
    assert "alice" in text and "dr_carol" in text
    assert "password" not in text.splitlines()[0]
    row = next(row for row in csv.DictReader(io.StringIO(text)) if row["username"] == "dr_carol")
    assert row["roles"] == "doctor"


def test_the_absences_export_names_the_doctor(staff_client, dr_carol):
    AbsenceFactory(doctor=dr_carol, comment="conference")

    response = export(
        staff_client, "/admin/appointments/absence/export/", "absenceresource", ["doctor", "kind", "start", "comment"]
    )

    text = response.content.decode("utf-8-sig")
    assert "Smirnova Carol,vacation" in text and "conference" in text


def test_the_doctor_resource_lists_every_column_for_the_import_page():
    visible = [field.column_name for field in DoctorResource().get_user_visible_fields()]

    assert visible == list(DOCTOR_COLUMNS)


def test_an_export_of_a_doctor_without_schedule_has_empty_schedule_columns(db, dr_dave):
    dataset = DoctorResource().export(User.objects.filter(pk=dr_dave.pk))

    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["username"] == "dr_dave"
    assert row["slot_minutes"] == "" and row["mon"] == ""


def test_exported_times_are_clinic_local(db, dr_carol):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=2)
    SlotFactory(doctor=dr_carol, start_time=start, stop_time=start + timedelta(minutes=20))

    dataset = TimetableResource().export(Timetable.objects.all())

    assert dataset.dict[0]["start"] == f"{timezone.localtime(start):%Y-%m-%d %H:%M}"


def test_imported_users_are_in_the_audit_trail(demo_specialties):
    from staff.models import AuditAction, AuditEvent

    with open(FIXTURES / "doctors.csv", "rb") as handle:
        outcome = doctors_import(handle)
    assert outcome.ok
    created = AuditEvent.objects.filter(action=AuditAction.USER_CREATED, target_type="user")
    assert set(created.values_list("target_id", flat=True)) == set(outcome.user_ids)

    # Importing the same file again creates nobody.
    with open(FIXTURES / "doctors.csv", "rb") as handle:
        doctors_import(handle)
    assert created.count() == len(outcome.user_ids)
