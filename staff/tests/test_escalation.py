"""Administrators manage clinic people, not the system: one rule (staff.services), both sides.

A member of `administrator` who is not a superuser cannot change, block, re-password or delete a
superuser or another administrator, cannot give or take the administrator role, and cannot grant
is_superuser, is_staff, other groups or permissions, through the API or the admin. Superusers can.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from knox.models import AuthToken

from staff.models import User
from staff.roles import Role
from staff.services import roles_ensure
from staff.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a takeover pass phrase 77"


@pytest.fixture
def root(db):
    user = User.objects.create_superuser("root", "root@clinic.example", PASSWORD)
    AuthToken.objects.create(user)
    return user


@pytest.fixture
def colleague(db):
    """Another administrator (the role)."""
    return UserFactory(username="colleague", roles=[Role.ADMINISTRATOR])


@pytest.fixture
def superdesk(client, root):
    roles_ensure()
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    return client


def unchanged(user: User) -> tuple:
    fresh = User.objects.get(pk=user.pk)
    return (fresh.password, fresh.is_active, fresh.is_superuser, fresh.is_staff, fresh.email, sorted(fresh.role_names))


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["root", "colleague"])
def test_an_administrator_cannot_re_password_a_superuser_or_another_administrator(login, admin_user, target, request):
    victim = request.getfixturevalue(target)
    before = unchanged(victim)

    response = login(admin_user).patch(f"/api/user/update/{victim.pk}", {"password": NEW_PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "protected_user"
    assert unchanged(victim) == before
    assert not User.objects.get(pk=victim.pk).check_password(NEW_PASSWORD)


@pytest.mark.parametrize("target", ["root", "colleague"])
def test_an_administrator_cannot_block_or_unblock_a_superuser_or_another_administrator(
    login, admin_user, target, request
):
    victim = request.getfixturevalue(target)
    AuthToken.objects.create(victim)
    tokens = AuthToken.objects.filter(user=victim).count()
    client = login(admin_user)

    for method in ("post", "delete"):
        response = getattr(client, method)(f"/api/user/blocking/{victim.pk}")
        assert (response.status_code, response.json()["code"]) == (403, "protected_user")

    assert User.objects.get(pk=victim.pk).is_active
    assert AuthToken.objects.filter(user=victim).count() == tokens


def test_an_administrator_cannot_create_an_administrator(login, admin_user):
    body = {
        "username": "mole",
        "password": NEW_PASSWORD,
        "last_name": "Mole",
        "first_name": "M",
        "sex": "male",
        "birth_date": "1980-01-01",
        "groups": ["administrator"],
    }

    response = login(admin_user).post("/api/user/create", body, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "administrator_role_refused")
    assert not User.objects.filter(username="mole").exists()


def test_an_administrator_cannot_make_a_patient_an_administrator(login, admin_user, alice):
    response = login(admin_user).patch(
        f"/api/user/update/{alice.pk}", {"groups": ["patient", "administrator"]}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "administrator_role_refused")
    alice = User.objects.get(pk=alice.pk)
    assert alice.role_names == {"patient"} and not alice.is_staff


def test_an_administrator_still_manages_patients_and_doctors_and_their_own_data(login, admin_user, alice, dr_carol):
    client = login(admin_user)

    assert client.patch(f"/api/user/update/{alice.pk}", {"email": "a@x.example"}, format="json").status_code == 200
    assert client.post(f"/api/user/blocking/{dr_carol.pk}").status_code == 200
    assert (
        client.patch(f"/api/user/update/{admin_user.pk}", {"email": "me@x.example"}, format="json").status_code == 200
    )


def test_a_superuser_manages_administrators(login, root, colleague, alice):
    client = login(root)

    assert (
        client.patch(f"/api/user/update/{colleague.pk}", {"password": NEW_PASSWORD}, format="json").status_code == 200
    )
    assert client.post(f"/api/user/blocking/{colleague.pk}").status_code == 200
    response = client.patch(f"/api/user/update/{alice.pk}", {"groups": ["administrator"]}, format="json")
    assert response.status_code == 200
    assert User.objects.get(pk=alice.pk).is_staff


def test_administrators_hold_no_permission_on_the_system(db):
    roles_ensure()
    group = Group.objects.get(name=Role.ADMINISTRATOR)
    apps = set(group.permissions.values_list("content_type__app_label", flat=True))
    lockouts = set(group.permissions.filter(content_type__app_label="axes").values_list("codename", flat=True))

    assert apps == {"staff", "appointments", "axes"}
    assert lockouts == {"view_accessattempt", "delete_accessattempt"}  # unlocking people who mistyped
    assert not group.permissions.filter(content_type__app_label="auth").exists()
    # Not even on users' permissions and groups by another name.
    assert not Permission.objects.filter(group=group, codename__in=["change_permission", "add_group"]).exists()


# --- the admin ------------------------------------------------------------------------------------


def change_form(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "sex": user.sex,
        "birth_date": str(user.birth_date) if user.birth_date else "",
        "email": user.email,
        "groups": [group.pk for group in user.groups.all()],
        "is_active": "on" if user.is_active else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_an_administrator_cannot_make_themselves_a_superuser_in_the_admin(staff_client, admin_user):
    response = staff_client.post(
        f"/admin/staff/user/{admin_user.pk}/change/",
        change_form(admin_user, is_superuser="on", is_staff="on", user_permissions=[Permission.objects.first().pk]),
    )

    assert response.status_code in (200, 302)
    fresh = User.objects.get(pk=admin_user.pk)
    assert not fresh.is_superuser
    assert not fresh.user_permissions.exists()


@pytest.mark.parametrize("target", ["root", "colleague"])
def test_the_admin_shows_superusers_and_other_administrators_read_only_to_an_administrator(
    staff_client, target, request
):
    victim = request.getfixturevalue(target)
    before = unchanged(victim)

    page = staff_client.get(f"/admin/staff/user/{victim.pk}/change/")
    posted = staff_client.post(f"/admin/staff/user/{victim.pk}/change/", change_form(victim, email="pwned@x.example"))
    password = staff_client.post(
        f"/admin/staff/user/{victim.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    deleted = staff_client.post(f"/admin/staff/user/{victim.pk}/delete/", {"post": "yes"})
    blocked = staff_client.post(
        "/admin/staff/user/", {"action": "block_users", "_selected_action": [victim.pk], "index": 0}, follow=True
    )

    assert page.status_code == 200 and b'name="email"' not in page.content  # a view, not a form
    assert posted.status_code == 403
    assert password.status_code == 403
    assert deleted.status_code == 403
    assert blocked.status_code == 200
    assert unchanged(victim) == before


def test_an_administrator_cannot_add_an_administrator_in_the_admin(staff_client):
    administrators = Group.objects.get(name=Role.ADMINISTRATOR)
    response = staff_client.post(
        "/admin/staff/user/add/",
        {
            "username": "mole",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "last_name": "Mole",
            "first_name": "M",
            "sex": "male",
            "birth_date": "1980-01-01",
            "groups": [administrators.pk],
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.filter(username="mole").exists()


def test_the_admin_offers_only_the_three_roles_as_groups(superdesk, alice):
    Group.objects.create(name="ops")

    page = superdesk.get(f"/admin/staff/user/{alice.pk}/change/")

    offered = {str(choice[1]) for choice in page.context["adminform"].form.fields["groups"].choices}
    assert offered == {"patient", "doctor", "administrator"}


def test_a_superuser_manages_administrators_in_the_admin(superdesk, colleague):
    response = superdesk.post(
        f"/admin/staff/user/{colleague.pk}/change/", change_form(colleague, email="new@clinic.example")
    )

    assert response.status_code == 302
    assert User.objects.get(pk=colleague.pk).email == "new@clinic.example"


# --- CSV imports ----------------------------------------------------------------------------------


def test_an_administrators_import_cannot_rewrite_a_superuser_or_another_administrator(tmp_path, admin_user, root):
    from staff.resources import patients_import

    before = unchanged(root)
    path = tmp_path / "patients.csv"
    path.write_text("username,last_name,first_name,middle_name,sex,birth_date,email\nroot,Pwned,P,,male,1980-01-01,\n")

    with path.open("rb") as file:
        outcome = patients_import(file, actor=admin_user)

    assert not outcome.ok
    assert "Only a superuser" in " ".join(str(problem) for problem in outcome.problems)
    assert unchanged(root) == before and User.objects.get(pk=root.pk).last_name != "Pwned"


@pytest.mark.parametrize("access", ["is_staff", "permission", "other_group"])
def test_accounts_with_access_beyond_a_role_are_protected_too(login, admin_user, access):
    ops = UserFactory(username="ops", roles=[Role.PATIENT])
    if access == "is_staff":
        User.objects.filter(pk=ops.pk).update(is_staff=True)
    elif access == "permission":
        ops.user_permissions.add(Permission.objects.get(codename="change_group"))
    else:
        ops.groups.add(Group.objects.create(name="ops"))
    before = unchanged(ops)

    response = login(admin_user).patch(f"/api/user/update/{ops.pk}", {"password": NEW_PASSWORD}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "protected_user")
    assert unchanged(ops) == before


def test_an_administrator_deletes_a_patient_with_an_api_token_through_the_service(staff_client, admin_user, alice):
    from staff.models import AuditAction, AuditEvent

    AuthToken.objects.create(alice)

    page = staff_client.get(f"/admin/staff/user/{alice.pk}/delete/")
    response = staff_client.post(f"/admin/staff/user/{alice.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200 and response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not AuthToken.objects.filter(user_id=alice.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.USER_DELETED, target_id=alice.pk, actor=admin_user).exists()


def test_a_user_added_in_the_admin_needs_a_role_as_in_the_api(staff_client):
    response = staff_client.post(
        "/admin/staff/user/add/",
        {
            "username": "norole",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "last_name": "N",
            "first_name": "R",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["groups"] == ["Give the user at least one role."]
    assert not User.objects.filter(username="norole").exists()
