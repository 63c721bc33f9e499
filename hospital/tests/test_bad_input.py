"""Bad input is a 4xx in the error shape and changes nothing; never a 500.

Nesting of any depth, dates that are not exactly YYYY-MM-DD, local times the clinic's clocks skip
(in more than one zone), names with control or bidirectional override characters, usernames that
differ only in case (from the API, the admin and a CSV import), and no caching of personal data.
"""

import pytest
from django.db import IntegrityError, transaction

from appointments.models import Absence
from staff.models import User
from staff.resources import patients_import
from staff.roles import Role
from staff.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PERSON = {
    "password": "a long unusual passphrase",
    "last_name": "Kuznetsova",
    "first_name": "Maria",
    "sex": "female",
    "birth_date": "1985-03-02",
    "groups": ["patient"],
}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400_even_anonymously(api, depth):
    response = api.post("/api/token", deep(depth), content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"


def test_an_unclosed_string_full_of_escaped_quotes_is_a_400(api):
    # The depth check once restarted its string search at every quote: 64 KB of \" took 30 s.
    body = '{"username": "' + '\\"' * 100_000

    response = api.post("/api/token", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_deeply_nested_json_is_a_400_on_a_write(login, admin_user):
    response = login(admin_user).post(
        "/api/user/create", '{"username": ' + deep(5_000) + "}", content_type="application/json"
    )

    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


@pytest.mark.parametrize(
    "value", ["2026-1-1", "2026-01-1", "26-01-01", "2026-01-01T00:00", " 2026-01-01", "+2026-01-01"]
)
@pytest.mark.parametrize(
    "path", ["/api/slots/", "/api/appointments/", "/api/doctor/entries/all", "/api/stats/utilisation", "slots"]
)
def test_dates_in_filters_are_exactly_yyyy_mm_dd(login, admin_user, dr_carol, path, value):
    if path == "slots":
        path = f"/api/doctor/slots/get/{dr_carol.pk}"

    response = login(admin_user).get(path, {"date_from": value})

    assert response.status_code == 400, response.content
    assert "date_from" in response.json()["fields"]


@pytest.mark.parametrize("value", ["1985-3-2", "1985-03-2", "85-03-02", "1985-03-02T00:00"])
def test_a_birth_date_is_exactly_yyyy_mm_dd(login, admin_user, value):
    response = login(admin_user).post("/api/user/create", {**PERSON, "username": "m.k", "birth_date": value})

    assert response.status_code == 400
    assert "birth_date" in response.json()["fields"]
    assert not User.objects.filter(username="m.k").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("last_name", 123),
        ("first_name", 1.5),
        ("middle_name", True),
        ("username", 42),
        ("email", 7),
        ("password", 12345678),
    ],
)
def test_text_fields_take_only_json_strings(login, admin_user, field, value):
    response = login(admin_user).post("/api/user/create", {**PERSON, "username": "m.k", field: value})

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not User.objects.filter(username__in=["m.k", str(value)]).exists()


@pytest.mark.parametrize(
    ("zone", "gap", "overlap", "first_offset"),
    [
        ("America/New_York", "2027-03-14T02:30:00", "2026-11-01T01:30:00", "-04:00"),
        ("Europe/Berlin", "2027-03-28T02:30:00", "2026-10-25T02:30:00", "+02:00"),
        ("Australia/Sydney", "2026-10-04T02:30:00", "2027-04-04T02:30:00", "+11:00"),
    ],
)
def test_a_local_time_the_clocks_skip_is_a_400_and_a_repeated_one_is_its_first_occurrence(
    login, admin_user, dr_carol, settings, zone, gap, overlap, first_offset
):
    settings.TIME_ZONE = zone
    client = login(admin_user)
    url = f"/api/doctors/{dr_carol.pk}/absences"

    skipped = client.post(url, {"kind": "break", "start": gap, "end": gap[:11] + "05:00:00"})
    repeated = client.post(url, {"kind": "break", "start": overlap, "end": overlap[:11] + "06:00:00"})

    assert skipped.status_code == 400
    assert skipped.json()["code"] == "nonexistent_time"
    assert "start" in skipped.json()["fields"]
    assert repeated.status_code == 201, repeated.content
    assert repeated.json()["start"] == overlap + first_offset
    assert Absence.objects.count() == 1


@pytest.mark.parametrize(
    "character", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c", "\x07"]
)
def test_names_refuse_control_and_bidirectional_override_characters_in_the_api(login, admin_user, character):
    response = login(admin_user).post(
        "/api/user/create", {**PERSON, "username": "m.k", "last_name": f"Kuz{character}netsova"}
    )

    assert response.status_code == 400
    assert response.json()["fields"]["last_name"] == ["Enter a name without control or text-direction characters."]
    assert not User.objects.filter(username="m.k").exists()


def admin_add(client, **overrides):
    from django.contrib.auth.models import Group

    data = {
        "username": "m.k",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "last_name": "Kuznetsova",
        "first_name": "Maria",
        "sex": "female",
        "birth_date": "1985-03-02",
        "groups": [Group.objects.get(name=Role.PATIENT).pk],
        **overrides,
    }
    return client.post("/admin/staff/user/add/", data)


def test_names_refuse_bidirectional_overrides_in_the_admin(staff_client):
    response = admin_add(staff_client, last_name="Kuz\u202enetsova")

    assert response.status_code == 200
    assert "last_name" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="m.k").exists()


def import_patients_rows(tmp_path, *rows: str):
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(["username,last_name,first_name,middle_name,sex,birth_date,email", *rows]) + "\n")
    with path.open("rb") as file:
        return patients_import(file)


def test_names_refuse_bidirectional_overrides_in_a_csv_import(tmp_path):
    outcome = import_patients_rows(tmp_path, "m.k,Kuz\u202enetsova,M,,female,1985-03-02,")

    assert not outcome.ok
    assert "last_name" in " ".join(str(problem) for problem in outcome.problems)
    assert not User.objects.filter(username="m.k").exists()


def test_usernames_are_unique_regardless_of_case_in_the_database(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE")


def test_a_username_differing_only_in_case_is_a_400_in_the_api(login, admin_user, alice):
    response = login(admin_user).post("/api/user/create", {**PERSON, "username": "ALICE"})

    assert (response.status_code, response.json()["fields"]["username"]) == (
        400,
        ["A user with that username already exists."],
    )


def test_a_username_differing_only_in_case_is_refused_in_the_admin(staff_client, alice):
    response = admin_add(staff_client, username="ALICE")

    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_a_username_differing_only_in_case_is_a_row_error_in_a_csv_import(tmp_path, alice):
    outcome = import_patients_rows(tmp_path, "ALICE,Ivanova,A,,female,1990-05-17,")

    assert not outcome.ok
    assert "username" in " ".join(str(problem) for problem in outcome.problems)
    assert User.objects.filter(username__iexact="alice").count() == 1


def test_authenticated_api_responses_are_never_cached(login, alice, dr_carol):
    client = login(alice)

    for path in ("/api/me", f"/api/doctor/slots/get/{dr_carol.pk}", "/api/appointments/"):
        assert "no-store" in client.get(path)["Cache-Control"], path
    token = client.post("/api/token", {"username": "alice", "password": PASSWORD})
    assert "no-store" in token["Cache-Control"]


def test_an_unknown_api_path_is_json_with_debug_on_too(client, settings):
    settings.DEBUG = True

    response = client.get("/api/no/such/thing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
