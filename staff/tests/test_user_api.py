"""The administrator's user API: create, update, block, unblock, list."""

import datetime

import pytest
from django.utils import timezone
from knox.models import AuthToken

from staff.models import User
from staff.serializers import ROLES_REQUIRED, USERNAME_TAKEN

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase 42"


def payload(**overrides):
    data = {
        "username": "new_patient",
        "password": NEW_PASSWORD,
        "last_name": "Kuznetsova",
        "first_name": "Maria",
        "middle_name": "Ivanovna",
        "sex": "female",
        "birth_date": "1985-03-02",
        "groups": ["patient"],
        "email": "maria@example.org",
    }
    data.update(overrides)
    return data


def test_it_creates_a_user_who_can_then_log_in(admin_api, api):
    response = admin_api.post("/api/user/create", payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["groups"] == ["patient"]
    assert body["birth_date"] == "1985-03-02"
    assert body["is_active"] is True
    assert "password" not in body
    user = User.objects.get(username="new_patient")
    assert user.middle_name == "Ivanovna"
    assert user.password.startswith("md5$")  # the test hasher; production uses Argon2
    login = api.post("/api/token", {"username": "new_patient", "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_it_creates_a_doctor_with_several_roles(admin_api):
    response = admin_api.post("/api/user/create", payload(groups=["doctor", "patient"]), format="json")
    assert response.status_code == 201
    assert sorted(response.json()["groups"]) == ["doctor", "patient"]


def test_an_administrator_created_through_the_api_reaches_the_admin(login, db):
    # Superusers create administrators (staff/tests/test_escalation.py: administrators cannot).
    root = User.objects.create_superuser("root", "root@clinic.example", "a root pass phrase 9")
    response = login(root).post("/api/user/create", payload(groups=["administrator"]), format="json")
    assert response.status_code == 201
    assert User.objects.get(username="new_patient").is_staff


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "alice"}, "username"),
        ({"username": "ALICE"}, "username"),
        ({"groups": ["wizard"]}, "groups"),
        ({"groups": []}, "groups"),
        ({"password": "123"}, "password"),
        ({"password": "new_patient1"}, "password"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "02.03.1985"}, "birth_date"),
        ({"birth_date": 19850302}, "birth_date"),
        ({"sex": "other"}, "sex"),
        ({"last_name": "x" * 151}, "last_name"),
        ({"username": "bad name!"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"groups": "patient"}, "groups"),
    ],
)
def test_it_rejects_bad_input_and_writes_nothing(admin_api, alice, overrides, field):
    before = User.objects.count()
    response = admin_api.post("/api/user/create", payload(**overrides), format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"], body
    assert User.objects.count() == before


def test_duplicate_username_has_a_clear_message(admin_api, alice):
    response = admin_api.post("/api/user/create", payload(username="alice"), format="json")
    assert response.json()["fields"]["username"] == [str(USERNAME_TAKEN)]


def test_empty_roles_have_a_clear_message(admin_api):
    response = admin_api.post("/api/user/create", payload(groups=[]), format="json")
    assert response.json()["fields"]["groups"] == [str(ROLES_REQUIRED)]


def test_malformed_json_is_a_400(admin_api):
    response = admin_api.generic("POST", "/api/user/create", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not User.objects.filter(username="new_patient").exists()


def test_a_json_list_body_is_a_400(admin_api):
    response = admin_api.post("/api/user/create", [1, 2], format="json")
    assert response.status_code == 400


def test_mass_assignment_changes_nothing(admin_api, alice):
    response = admin_api.patch(
        f"/api/user/update/{alice.pk}",
        {
            "is_superuser": True,
            "is_staff": True,
            "is_active": False,
            "id": 999,
            "last_login": "2020-01-01T00:00:00Z",
            "date_joined": "2000-01-01T00:00:00Z",
            "user_permissions": [1],
        },
        format="json",
    )
    assert response.status_code == 200
    before_joined = alice.date_joined
    alice.refresh_from_db()
    assert (alice.is_superuser, alice.is_staff, alice.is_active, alice.pk) == (False, False, True, alice.pk)
    assert alice.date_joined == before_joined
    assert alice.last_login is None
    assert not alice.user_permissions.exists()


def test_mass_assignment_on_create_is_ignored(admin_api):
    response = admin_api.post("/api/user/create", payload(is_superuser=True, is_staff=True), format="json")
    assert response.status_code == 201
    user = User.objects.get(username="new_patient")
    assert not user.is_superuser
    assert not user.is_staff


def test_update_without_password_keeps_the_login_working(admin_api, api, alice):
    from staff.tests.factories import PASSWORD

    response = admin_api.patch(f"/api/user/update/{alice.pk}", {"last_name": "Sidorova"}, format="json")
    assert response.status_code == 200
    assert response.json()["last_name"] == "Sidorova"
    alice.refresh_from_db()
    assert alice.last_name == "Sidorova"
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 200


def test_update_with_password_changes_it_and_revokes_tokens(admin_api, api, login, alice):
    alice_api = login(alice)
    response = admin_api.patch(f"/api/user/update/{alice.pk}", {"password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert alice_api.get("/api/me").status_code == 401
    assert api.post("/api/token", {"username": "alice", "password": NEW_PASSWORD}, format="json").status_code == 200


def test_put_replaces_the_whole_record(admin_api, alice):
    response = admin_api.put(
        f"/api/user/update/{alice.pk}", payload(username="alice", groups=["doctor"]), format="json"
    )
    assert response.status_code == 200, response.json()
    alice.refresh_from_db()
    assert alice.last_name == "Kuznetsova"
    assert alice.role_names == {"doctor"}


def test_put_missing_fields_is_a_400(admin_api, alice):
    response = admin_api.put(f"/api/user/update/{alice.pk}", {"last_name": "X"}, format="json")
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.last_name == "Ivanova"


def test_update_rejects_a_future_birth_date_and_keeps_the_row(admin_api, alice):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = admin_api.patch(f"/api/user/update/{alice.pk}", {"birth_date": tomorrow.isoformat()}, format="json")
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.birth_date == datetime.date(1990, 5, 17)


def test_update_unknown_user_is_404(admin_api):
    response = admin_api.patch("/api/user/update/999999", {"last_name": "X"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_block_revokes_tokens_and_login(admin_api, api, login, alice):
    from staff.tests.factories import PASSWORD

    alice_api = login(alice)
    response = admin_api.post(f"/api/user/blocking/{alice.pk}")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    alice.refresh_from_db()
    assert alice.is_active is False
    assert not AuthToken.objects.filter(user=alice).exists()
    assert alice_api.get("/api/me").status_code == 401
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 400

    # Blocking twice is not an error.
    assert admin_api.post(f"/api/user/blocking/{alice.pk}").status_code == 200

    response = admin_api.delete(f"/api/user/blocking/{alice.pk}")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 200


def test_an_administrator_cannot_block_themselves(admin_api, admin_user):
    response = admin_api.post(f"/api/user/blocking/{admin_user.pk}")
    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_user_list_filters_by_role_activity_and_search(admin_api, alice, bob, dr_carol, blocked_user):
    def usernames(query):
        response = admin_api.get("/api/users/", query)
        assert response.status_code == 200
        return sorted(row["username"] for row in response.json()["results"])

    assert usernames({"role": "doctor"}) == ["dr_carol"]
    assert usernames({"role": "patient", "is_active": "true"}) == ["alice", "bob"]
    assert usernames({"is_active": "false"}) == ["blocked"]
    assert usernames({"search": "smirn"}) == ["dr_carol"]
    assert usernames({"search": "carol smirnova"}) == ["dr_carol"]


def test_the_user_list_rejects_bad_filters_and_page_sizes(admin_api):
    assert admin_api.get("/api/users/", {"role": "wizard"}).status_code == 400
    assert admin_api.get("/api/users/", {"page_size": 100000}).status_code == 400
    assert admin_api.get("/api/users/", {"page_size": 2}).status_code == 200


def test_responses_never_contain_password_hashes(admin_api, alice):
    for response in (
        admin_api.get("/api/users/"),
        admin_api.get(f"/api/users/{alice.pk}/"),
        admin_api.patch(f"/api/user/update/{alice.pk}", {"password": NEW_PASSWORD}, format="json"),
    ):
        text = response.content.decode()
        assert "md5$" not in text
        assert "password" not in text
