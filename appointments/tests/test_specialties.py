"""Specialties: the services and their audit trail, the doctors' CSV column, the admin pages, the demo data."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction

from appointments import services
from appointments.admin.doctors import DoctorAdmin
from appointments.models import SPECIALTY_NAME_TAKEN, DoctorSpecialty, Specialty
from appointments.resources import DOCTOR_COLUMNS, SPECIALTY_UNKNOWN, DoctorResource, doctors_import
from appointments.tests.test_admin import doctor_form, doctor_url
from staff.models import AuditAction, AuditEvent, User

pytestmark = pytest.mark.django_db

HEADER = ",".join(DOCTOR_COLUMNS)
WEEK = "09:00-13:00,,,,,,"  # mon .. sun


def names(doctor) -> list[str]:
    return list(doctor.specialties.order_by("name").values_list("name", flat=True))


def csv_file(*lines: str) -> io.BytesIO:
    handle = io.BytesIO("\n".join(lines).encode("utf-8"))
    handle.name = "doctors.csv"
    return handle


def doctor_row(username: str, specialties: str) -> str:
    return f"{username},Орлов,Пётр,,male,1980-01-01,,{specialties},20,7,{WEEK}"


# --- services --------------------------------------------------------------------------------------


def test_a_specialty_is_created_trimmed_and_audited(admin_user):
    specialty = services.specialty_create(name="  Кардиолог ", actor=admin_user)

    assert Specialty.objects.get(pk=specialty.pk).name == "Кардиолог"
    [event] = AuditEvent.objects.filter(action=AuditAction.SPECIALTY_CREATED)
    assert (event.actor, event.target_type, event.target_id) == (admin_user, "specialty", specialty.pk)
    assert event.changes == {"name": [None, "Кардиолог"]}


@pytest.mark.parametrize(("taken", "name"), [("Cardiologist", "CARDIOLOGIST"), ("Кардиолог", "кардиолог ")])
def test_a_name_taken_in_any_case_is_refused(taken, name):
    services.specialty_create(name=taken)

    with pytest.raises(services.SpecialtyNameTaken) as refused:
        services.specialty_create(name=name)

    assert refused.value.message == SPECIALTY_NAME_TAKEN
    assert Specialty.objects.count() == 1


@pytest.mark.postgres  # SQLite's lower() folds ASCII letters only; the service's own check covers it there
def test_the_database_refuses_a_name_taken_in_another_case_too():
    Specialty.objects.create(name="Кардиолог")

    with pytest.raises(IntegrityError), transaction.atomic():
        Specialty.objects.create(name="КАРДИОЛОГ")


@pytest.mark.parametrize(("name", "code"), [("", "required"), ("   ", "required"), ("x" * 101, "max_length")])
def test_an_empty_or_long_name_is_refused(name, code):
    with pytest.raises(services.InvalidSpecialtyName) as refused:
        services.specialty_create(name=name)

    assert refused.value.code == code
    assert not Specialty.objects.exists()


def test_a_name_with_a_direction_override_is_refused():
    with pytest.raises(services.InvalidSpecialtyName):
        services.specialty_create(name="\u202eтсиолоидрак")


def test_renaming_keeps_the_doctors_and_is_audited(admin_user, dr_carol):
    specialty = services.specialty_create(name="Cardiolgist")
    services.doctor_specialties_set(doctor=dr_carol, specialties=[specialty])

    services.specialty_rename(specialty=specialty, name="Cardiologist", actor=admin_user)

    assert names(dr_carol) == ["Cardiologist"]
    [event] = AuditEvent.objects.filter(action=AuditAction.SPECIALTY_CHANGED)
    assert event.changes == {"name": ["Cardiolgist", "Cardiologist"]}


def test_renaming_to_its_own_name_in_another_case_is_allowed(dr_carol):
    specialty = services.specialty_create(name="cardiologist")

    services.specialty_rename(specialty=specialty, name="Cardiologist")

    assert Specialty.objects.get().name == "Cardiologist"


def test_deleting_a_specialty_takes_it_from_its_doctors_only(admin_user, dr_carol, dr_dave):
    cardiology, therapy = services.specialties_ensure(names=["Cardiologist", "Therapist"])
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology, therapy])
    services.doctor_specialties_set(doctor=dr_dave, specialties=[cardiology])

    services.specialty_delete(specialty=cardiology, actor=admin_user)

    assert (names(dr_carol), names(dr_dave)) == (["Therapist"], [])
    [event] = AuditEvent.objects.filter(action=AuditAction.SPECIALTY_DELETED)
    assert event.changes == {"name": ["Cardiologist", None], "doctors": sorted([dr_carol.pk, dr_dave.pk])}


def test_setting_a_doctors_specialties_replaces_them_and_audits_before_and_after(admin_user, dr_carol):
    cardiology, therapy, neurology = services.specialties_ensure(names=["Cardiologist", "Therapist", "Neurologist"])
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology, therapy])

    services.doctor_specialties_set(doctor=dr_carol, specialties=[neurology, therapy, therapy], actor=admin_user)

    assert names(dr_carol) == ["Neurologist", "Therapist"]
    event = AuditEvent.objects.filter(action=AuditAction.DOCTOR_SPECIALTIES_CHANGED).first()
    assert (event.actor, event.target_type, event.target_id) == (admin_user, "user", dr_carol.pk)
    assert event.changes == {"specialties": [["Cardiologist", "Therapist"], ["Neurologist", "Therapist"]]}


def test_setting_the_same_specialties_again_records_nothing(dr_carol):
    cardiology = services.specialty_create(name="Cardiologist")
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology])

    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology])

    assert AuditEvent.objects.filter(action=AuditAction.DOCTOR_SPECIALTIES_CHANGED).count() == 1


def test_only_a_doctor_has_specialties(alice):
    cardiology = services.specialty_create(name="Cardiologist")

    with pytest.raises(services.NotADoctor):
        services.doctor_specialties_set(doctor=alice, specialties=[cardiology])

    assert not DoctorSpecialty.objects.exists()


def test_ensuring_specialties_creates_only_the_missing_ones():
    services.specialty_create(name="Кардиолог")

    first = services.specialties_ensure(names=["кардиолог", "Терапевт"])
    again = services.specialties_ensure(names=["Кардиолог", "терапевт"])

    assert [specialty.name for specialty in first] == ["Кардиолог", "Терапевт"]
    assert [specialty.pk for specialty in again] == [specialty.pk for specialty in first]
    assert Specialty.objects.count() == 2


# --- the doctors' CSV -------------------------------------------------------------------------------


def test_a_row_sets_the_named_specialties_matched_in_any_case(demo_specialties):
    outcome = doctors_import(csv_file(HEADER, doctor_row("dr.orlov", " кардиолог ;ТЕРАПЕВТ;;Кардиолог")))

    assert outcome.ok, outcome.problems
    assert names(User.objects.get(username="dr.orlov")) == ["Кардиолог", "Терапевт"]


def test_an_unknown_specialty_is_a_row_error_and_nothing_is_written(demo_specialties):
    outcome = doctors_import(
        csv_file(HEADER, doctor_row("dr.orlov", "Кардиолог"), doctor_row("dr.zaitsev", "Хирург;Терапевт;Лор"))
    )

    assert [str(problem) for problem in outcome.problems] == [
        "Line 3: specialties: " + " ".join(str(SPECIALTY_UNKNOWN % {"name": name}) for name in ("Хирург", "Лор"))
    ]
    assert not User.objects.filter(username__startswith="dr.").exists()
    assert not DoctorSpecialty.objects.exists()


def test_an_empty_cell_takes_the_specialties_away_and_a_missing_column_keeps_them(demo_specialties):
    doctors_import(csv_file(HEADER, doctor_row("dr.orlov", "Кардиолог")))
    doctor = User.objects.get(username="dr.orlov")
    without_column = HEADER.replace(",specialties", "")

    doctors_import(csv_file(without_column, f"dr.orlov,Орлов,Пётр,,male,1980-01-01,,20,7,{WEEK}"))
    kept = names(doctor)
    doctors_import(csv_file(HEADER, doctor_row("dr.orlov", "")))

    assert kept == ["Кардиолог"]
    assert names(doctor) == []


def test_an_import_records_the_specialties_in_the_audit_trail(demo_specialties, admin_user):
    outcome = doctors_import(csv_file(HEADER, doctor_row("dr.orlov", "Педиатр")), actor=admin_user)

    [event] = AuditEvent.objects.filter(action=AuditAction.DOCTOR_SPECIALTIES_CHANGED)
    assert (event.target_id, event.actor) == (outcome.user_ids[0], admin_user)
    assert event.changes == {"specialties": [[], ["Педиатр"]]}


def test_the_export_writes_the_specialties_sorted_and_imports_back(demo_specialties, dr_carol, dr_dave):
    services.doctor_specialties_set(doctor=dr_carol, specialties=demo_specialties[:2])

    dataset = DoctorResource().export(User.objects.filter(pk__in=[dr_carol.pk, dr_dave.pk]).order_by("pk"))

    cells = [row["specialties"] for row in dataset.dict]
    assert cells == ["Кардиолог;Терапевт", ""]
    assert doctors_import(csv_file(*dataset.csv.splitlines())).ok
    assert names(dr_carol) == ["Кардиолог", "Терапевт"]


def test_the_sample_doctors_file_gives_every_doctor_a_specialty(demo_specialties):
    outcome = doctors_import(settings.BASE_DIR / "fixtures" / "doctors.csv")

    assert outcome.ok, outcome.problems
    doctors = User.objects.filter(pk__in=outcome.user_ids)
    assert all(names(doctor) for doctor in doctors)
    assert names(doctors.get(username="dr.morozov")) == ["Кардиолог", "Терапевт"]


def test_the_demo_loader_ships_five_specialties_and_is_idempotent(db):
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())

    assert sorted(Specialty.objects.values_list("name", flat=True)) == sorted(
        ["Терапевт", "Кардиолог", "Невролог", "Педиатр", "Офтальмолог"]
    )
    assert all(names(doctor) for doctor in User.objects.doctors())


# --- the admin ---------------------------------------------------------------------------------------


def test_the_specialties_page_adds_renames_and_deletes_through_the_services(staff_client, admin_user):
    added = staff_client.post("/admin/appointments/specialty/add/", {"name": " Кардиолог "})
    specialty = Specialty.objects.get()
    renamed = staff_client.post(f"/admin/appointments/specialty/{specialty.pk}/change/", {"name": "Кардиолог (взр.)"})
    deleted = staff_client.post(f"/admin/appointments/specialty/{specialty.pk}/delete/", {"post": "yes"})

    assert (added.status_code, renamed.status_code, deleted.status_code) == (302, 302, 302)
    assert not Specialty.objects.exists()
    actions = AuditEvent.objects.filter(target_type="specialty", actor=admin_user).order_by("id")
    assert [event.action for event in actions] == [
        AuditAction.SPECIALTY_CREATED,
        AuditAction.SPECIALTY_CHANGED,
        AuditAction.SPECIALTY_DELETED,
    ]
    assert actions[0].changes == {"name": [None, "Кардиолог"]}


def test_the_specialties_page_refuses_a_name_taken_in_another_case(staff_client):
    services.specialty_create(name="Кардиолог")

    response = staff_client.post("/admin/appointments/specialty/add/", {"name": "КАРДИОЛОГ"})

    assert response.status_code == 200
    assert str(SPECIALTY_NAME_TAKEN) in str(response.context["adminform"].form.errors)
    assert Specialty.objects.count() == 1


def test_the_delete_action_deletes_through_the_service(staff_client):
    specialties = services.specialties_ensure(names=["Cardiologist", "Therapist"])

    staff_client.post(
        "/admin/appointments/specialty/",
        {"action": "delete_selected", "_selected_action": [s.pk for s in specialties], "post": "yes"},
    )

    assert not Specialty.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SPECIALTY_DELETED).count() == 2


def test_the_specialties_page_counts_doctors(staff_client, dr_carol, dr_dave):
    cardiology = services.specialty_create(name="Cardiologist")
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology])
    services.doctor_specialties_set(doctor=dr_dave, specialties=[cardiology])

    html = staff_client.get("/admin/appointments/specialty/").content.decode()

    assert f"?specialties__id__exact={cardiology.pk}" in html and ">2</a>" in html


def test_the_doctors_page_sets_the_specialties_through_the_service(staff_client, admin_user, dr_carol, sent, on_commit):
    cardiology, therapy = services.specialties_ensure(names=["Cardiologist", "Therapist"])
    form = doctor_form() | {"specialties": [cardiology.pk, therapy.pk]}

    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), form)

    assert response.status_code == 302
    assert names(dr_carol) == ["Cardiologist", "Therapist"]
    [event] = AuditEvent.objects.filter(action=AuditAction.DOCTOR_SPECIALTIES_CHANGED)
    assert (event.actor, event.target_type) == (admin_user, "user")


def test_the_doctors_page_shows_their_specialties_chosen(staff_client, dr_carol):
    cardiology = services.specialty_create(name="Cardiologist")
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology])

    form = staff_client.get(doctor_url(dr_carol)).context["adminform"].form

    assert list(form.fields["specialties"].initial) == [cardiology]


def test_the_doctor_list_shows_and_filters_by_specialty(staff_client, dr_carol, dr_dave):
    cardiology = services.specialty_create(name="Cardiologist")
    services.doctor_specialties_set(doctor=dr_carol, specialties=[cardiology])

    response = staff_client.get("/admin/appointments/doctor/", {"specialties__id__exact": cardiology.pk})

    assert [doctor.pk for doctor in response.context["cl"].result_list] == [dr_carol.pk]
    assert "Cardiologist" in response.content.decode()
    assert "specialty_names" in DoctorAdmin.list_display
