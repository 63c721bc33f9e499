"""API contract of specialties: /api/specialties/, doctors' specialties and ?specialty=, and /api/slots/next."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments import rules, services
from appointments.serializers import SPECIALTY_OR_DOCTOR_REQUIRED
from appointments.tests.factories import DoctorFactory, SlotFactory
from appointments.zone import clinic_zone
from staff.roles import Role
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEXT = "/api/slots/next"


@pytest.fixture
def cardiology(dr_carol, dr_dave):
    """Carol and Dave are cardiologists; Carol is also a therapist."""
    cardiology, therapy = services.specialties_ensure(names=["Cardiologist", "Therapist"])
    services.doctor_specialties_set(doctor=dr_carol, specialties=[therapy, cardiology])
    services.doctor_specialties_set(doctor=dr_dave, specialties=[cardiology])
    return cardiology


@pytest.fixture
def therapy(cardiology):
    return services.specialties_ensure(names=["Therapist"])[0]


@pytest.fixture
def alices(login, alice):
    return login(alice)


def slot(doctor, hours: float, **kwargs):
    """A 20-minute slot of the doctor starting `hours` from now (whole minutes)."""
    start = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(hours=hours)
    return SlotFactory(doctor=doctor, start_time=start, stop_time=start + datetime.timedelta(minutes=20), **kwargs)


def rendered(moment: datetime.datetime) -> str:
    return moment.astimezone(clinic_zone()).isoformat()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


# --- /api/specialties/ ------------------------------------------------------------------------------


def test_specialties_are_a_plain_list_by_name(alices):
    for name in ("Therapist", "Cardiologist", "Neurologist"):
        services.specialty_create(name=name)

    response = alices.get("/api/specialties/")

    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Cardiologist", "Neurologist", "Therapist"]
    assert all(set(row) == {"id", "name"} for row in response.json())


def test_specialties_are_not_paginated_however_many(alices, settings):
    services.specialties_ensure(names=[f"Specialty {number:03}" for number in range(60)])

    response = alices.get("/api/specialties/", {"page": "2", "page_size": "5"})

    assert isinstance(response.json(), list) and len(response.json()) == 60


def test_specialties_answer_without_the_trailing_slash_too(alices, cardiology):
    assert alices.get("/api/specialties").json() == alices.get("/api/specialties/").json() != []


def test_specialties_need_authentication(api):
    assert api.get("/api/specialties/").status_code == 401


# --- a doctor's specialties, and the doctors of a specialty --------------------------------------------


def test_a_doctor_carries_their_specialties_by_name(alices, dr_carol, cardiology, therapy):
    detail = alices.get(f"/api/doctors/{dr_carol.pk}/").json()
    listed = next(row for row in alices.get("/api/doctors/").json()["results"] if row["id"] == dr_carol.pk)

    expected = [{"id": cardiology.pk, "name": "Cardiologist"}, {"id": therapy.pk, "name": "Therapist"}]
    assert detail["specialties"] == listed["specialties"] == expected


def test_a_doctor_without_specialties_has_an_empty_list(alices, dr_carol):
    assert alices.get(f"/api/doctors/{dr_carol.pk}/").json()["specialties"] == []


def test_doctors_filter_by_specialty(alices, dr_carol, dr_dave, cardiology, therapy):
    def listed(specialty) -> set[int]:
        response = alices.get("/api/doctors/", {"specialty": str(specialty)})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert listed(cardiology.pk) == {dr_carol.pk, dr_dave.pk}
    assert listed(therapy.pk) == {dr_carol.pk}
    assert listed(cardiology.pk + therapy.pk + 100) == set()  # an unknown specialty has no doctors


@pytest.mark.parametrize("value", ["", "abc", "1.0", "0", "-1", " 1", "١", "99999999999999999999"])
def test_the_doctors_specialty_filter_is_strict(alices, value):
    response = alices.get("/api/doctors/", {"specialty": value})

    assert response.status_code == 400
    assert "specialty" in response.json()["fields"]


def test_the_doctor_list_reads_specialties_in_one_query_however_many_doctors(alices, cardiology):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alices.get("/api/doctors/").status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        services.doctor_specialties_set(doctor=DoctorFactory(), specialties=[cardiology])

    assert queries() == few


# --- /api/slots/next: what it lists --------------------------------------------------------------------


def test_next_lists_the_earliest_free_slots_of_a_specialty_across_doctors(alices, dr_carol, dr_dave, cardiology):
    carol_later, dave_first, carol_first = slot(dr_carol, 5), slot(dr_dave, 3), slot(dr_carol, 2)

    response = alices.get(NEXT, {"specialty": cardiology.pk})

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": carol_first.pk,
            "doctor": {"id": dr_carol.pk, "full_name": "Smirnova Carol"},
            "start_time": rendered(carol_first.start_time),
            "stop_time": rendered(carol_first.stop_time),
        },
        {
            "id": dave_first.pk,
            "doctor": {"id": dr_dave.pk, "full_name": "Sokolov Dave"},
            "start_time": rendered(dave_first.start_time),
            "stop_time": rendered(dave_first.stop_time),
        },
        {
            "id": carol_later.pk,
            "doctor": {"id": dr_carol.pk, "full_name": "Smirnova Carol"},
            "start_time": rendered(carol_later.start_time),
            "stop_time": rendered(carol_later.stop_time),
        },
    ]


def test_next_skips_booked_started_and_other_doctors_slots(alices, bob, dr_carol, cardiology):
    free = slot(dr_carol, 2)
    slot(dr_carol, 1, client=bob)  # booked
    slot(dr_carol, -0.1)  # started
    slot(DoctorFactory(), 1)  # a doctor without the specialty
    blocked = DoctorFactory(is_active=False)
    services.doctor_specialties_set(doctor=blocked, specialties=[cardiology])
    slot(blocked, 1)  # a blocked cardiologist
    former = DoctorFactory()
    services.doctor_specialties_set(doctor=former, specialties=[cardiology])
    former.groups.clear()
    slot(former, 1)  # a cardiologist who no longer has the doctor role

    assert ids(alices.get(NEXT, {"specialty": cardiology.pk})) == [free.pk]


def test_next_of_one_doctor_lists_only_theirs(alices, dr_carol, dr_dave):
    carols = [slot(dr_carol, hours) for hours in (4, 2)]
    slot(dr_dave, 1)

    assert ids(alices.get(NEXT, {"doctor": dr_carol.pk})) == [carols[1].pk, carols[0].pk]


def test_next_with_both_filters_applies_both(alices, dr_carol, dr_dave, cardiology, therapy):
    carols = slot(dr_carol, 2)
    slot(dr_dave, 1)

    assert ids(alices.get(NEXT, {"specialty": therapy.pk, "doctor": dr_carol.pk})) == [carols.pk]
    assert ids(alices.get(NEXT, {"specialty": cardiology.pk, "doctor": dr_carol.pk})) == [carols.pk]
    assert ids(alices.get(NEXT, {"specialty": therapy.pk, "doctor": dr_dave.pk})) == []  # Dave is no therapist


def test_next_breaks_ties_by_doctor(alices, dr_carol, dr_dave, cardiology):
    first, second = sorted((slot(dr_carol, 2), slot(dr_dave, 2)), key=lambda each: each.doctor_id)

    assert ids(alices.get(NEXT, {"specialty": cardiology.pk})) == [first.pk, second.pk]


def test_next_is_empty_when_nothing_is_free(alices, cardiology):
    assert ids(alices.get(NEXT, {"specialty": cardiology.pk})) == []


def test_next_answers_without_the_trailing_slash_and_with_it(alices, dr_carol):
    slot(dr_carol, 2)

    assert alices.get(NEXT, {"doctor": dr_carol.pk}).json() == alices.get(NEXT + "/", {"doctor": dr_carol.pk}).json()


def test_a_listed_slot_can_be_booked(alices, alice, dr_carol, cardiology):
    slot(dr_carol, 2)
    [first] = alices.get(NEXT, {"specialty": cardiology.pk, "limit": "1"}).json()

    booked = alices.post(f"/api/doctor/appointment/{first['id']}")

    assert booked.status_code == 201, booked.content
    assert ids(alices.get(NEXT, {"specialty": cardiology.pk})) == []


# --- the minimum notice -----------------------------------------------------------------------------


def clinic_notice(minutes: int) -> None:
    rules.clinic_rules_update(
        min_notice_minutes=minutes, cancel_cutoff_minutes=0, max_active_per_patient=None, max_per_patient_per_day=None
    )


def doctor_notice(doctor, minutes: int | None) -> None:
    rules.doctor_rules_update(
        doctor=doctor,
        min_notice_minutes=minutes,
        cancel_cutoff_minutes=None,
        max_active_per_patient=None,
        max_per_patient_per_day=None,
    )


def test_next_leaves_out_slots_within_the_clinics_notice(alices, dr_carol, cardiology):
    clinic_notice(120)
    slot(dr_carol, 1)  # within two hours
    later = slot(dr_carol, 3)

    assert ids(alices.get(NEXT, {"specialty": cardiology.pk})) == [later.pk]


def test_a_doctors_own_notice_overrides_the_clinics(alices, dr_carol, dr_dave, cardiology):
    clinic_notice(120)
    doctor_notice(dr_dave, 0)
    doctor_notice(dr_carol, 300)
    daves_soon, carols_soon = slot(dr_dave, 1), slot(dr_carol, 3)
    carols_later = slot(dr_carol, 6)

    listed = ids(alices.get(NEXT, {"specialty": cardiology.pk}))

    assert listed == [daves_soon.pk, carols_later.pk]
    assert carols_soon.pk not in listed


def test_what_next_leaves_out_for_notice_booking_refuses_too(alices, dr_carol):
    clinic_notice(120)
    soon = slot(dr_carol, 1)

    assert ids(alices.get(NEXT, {"doctor": dr_carol.pk})) == []
    assert alices.post(f"/api/doctor/appointment/{soon.pk}").json()["code"] == "too_late_to_book"


# --- after and limit --------------------------------------------------------------------------------


def test_after_with_an_offset_starts_the_list_at_that_instant(alices, dr_carol):
    early, late = slot(dr_carol, 2), slot(dr_carol, 6)

    listed = ids(alices.get(NEXT, {"doctor": dr_carol.pk, "after": late.start_time.isoformat()}))

    assert listed == [late.pk]  # at or after: a slot starting exactly then is in
    assert early.pk not in listed


def test_after_without_an_offset_is_read_in_the_clinics_zone(alices, dr_carol):
    day = timezone.localdate() + datetime.timedelta(days=3)
    ten = datetime.datetime.combine(day, datetime.time(10), tzinfo=clinic_zone())
    nine = SlotFactory(doctor=dr_carol, start_time=ten - datetime.timedelta(hours=1))
    at_ten = SlotFactory(doctor=dr_carol, start_time=ten)

    listed = ids(alices.get(NEXT, {"doctor": dr_carol.pk, "after": f"{day:%Y-%m-%d}T10:00"}))

    assert listed[0] == at_ten.pk and nine.pk not in listed


def test_after_in_the_past_still_lists_only_bookable_slots(alices, dr_carol):
    slot(dr_carol, -1)
    upcoming = slot(dr_carol, 1)

    assert ids(alices.get(NEXT, {"doctor": dr_carol.pk, "after": "2000-01-01T00:00:00Z"})) == [upcoming.pk]


def test_a_local_after_that_the_clocks_skip_is_a_400(alices, dr_carol, settings):
    settings.TIME_ZONE = "America/New_York"

    response = alices.get(NEXT, {"doctor": dr_carol.pk, "after": "2027-03-14T02:30"})

    assert (response.status_code, response.json()["code"]) == (400, "nonexistent_time")
    assert "after" in response.json()["fields"]


@pytest.mark.parametrize("value", ["", "tomorrow", "2026-13-01T10:00", "10:00"])
def test_a_malformed_after_is_a_400(alices, dr_carol, value):
    response = alices.get(NEXT, {"doctor": dr_carol.pk, "after": value})

    assert response.status_code == 400
    assert "after" in response.json()["fields"]


def test_limit_defaults_to_ten_and_takes_one_to_fifty(alices, dr_carol):
    for hours in range(1, 61):
        slot(dr_carol, hours)

    assert len(ids(alices.get(NEXT, {"doctor": dr_carol.pk}))) == 10
    assert len(ids(alices.get(NEXT, {"doctor": dr_carol.pk, "limit": "1"}))) == 1
    assert len(ids(alices.get(NEXT, {"doctor": dr_carol.pk, "limit": "50"}))) == 50


@pytest.mark.parametrize("value", ["0", "51", "-1", "", "ten", "1.0", " 5", "99999999999999999999"])
def test_a_limit_outside_one_to_fifty_is_a_400(alices, dr_carol, value):
    response = alices.get(NEXT, {"doctor": dr_carol.pk, "limit": value})

    assert response.status_code == 400
    assert "limit" in response.json()["fields"]


# --- /api/slots/next: refusals ------------------------------------------------------------------------


def test_next_needs_a_specialty_or_a_doctor(alices):
    response = alices.get(NEXT, {"limit": "5"})

    assert response.status_code == 400
    assert response.json() == {"detail": str(SPECIALTY_OR_DOCTOR_REQUIRED), "code": "specialty_or_doctor_required"}


@pytest.mark.parametrize("name", ["specialty", "doctor"])
@pytest.mark.parametrize("value", ["", "abc", "1.0", "0", "-3", "١"])
def test_next_filters_are_strict(alices, name, value):
    response = alices.get(NEXT, {name: value})

    assert response.status_code == 400
    assert name in response.json()["fields"]


def test_an_unknown_specialty_is_a_404(alices, cardiology):
    response = alices.get(NEXT, {"specialty": cardiology.pk + 1000})

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("who", ["unknown", "blocked", "patient", "former"])
def test_a_doctor_who_is_unknown_blocked_or_not_a_doctor_is_a_404(alices, alice, cardiology, who):
    doctor = {
        "unknown": lambda: UserFactory.build(pk=10**9),
        "blocked": lambda: DoctorFactory(is_active=False),
        "patient": lambda: alice,
        "former": lambda: UserFactory(roles=[Role.PATIENT]),  # say a doctor whose role was taken away
    }[who]()

    response = alices.get(NEXT, {"doctor": doctor.pk})
    both = alices.get(NEXT, {"doctor": doctor.pk, "specialty": cardiology.pk})

    assert response.status_code == both.status_code == 404


def test_next_needs_authentication(api, dr_carol):
    assert api.get(NEXT, {"doctor": dr_carol.pk}).status_code == 401


# --- one query -----------------------------------------------------------------------------------------


def test_next_reads_the_slots_in_one_query_however_many_doctors(alices, cardiology):
    def add_doctors(count):
        for _ in range(count):
            doctor = DoctorFactory()
            services.doctor_specialties_set(doctor=doctor, specialties=[cardiology])
            for hours in (1, 2, 3):
                slot(doctor, hours)

    def request() -> tuple[list, list[str]]:
        with CaptureQueriesContext(connection) as captured:
            response = alices.get(NEXT, {"specialty": cardiology.pk, "limit": "50"})
        assert response.status_code == 200
        return response.json(), [query["sql"] for query in captured]

    add_doctors(2)
    _, few = request()
    add_doctors(20)
    listed, many = request()

    assert len(listed) == 50
    assert len(many) == len(few)
    assert len([sql for sql in many if "appointments_timetable" in sql]) == 1


def test_the_refusal_speaks_russian_to_a_russian_caller(alices):
    response = alices.get(NEXT, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.json()["detail"] == "Укажите специальность или врача (или и то, и другое)."
