"""Every user endpoint against every kind of caller: the expected status."""

import pytest

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "patient", "doctor", "administrator", "blocked"]

# (method, path template, body) -> expected status per caller.
MATRIX = [
    (
        "post",
        "/api/token/logout",
        None,
        {"anonymous": 401, "patient": 204, "doctor": 204, "administrator": 204},
    ),
    ("get", "/api/me", None, {"anonymous": 401, "patient": 200, "doctor": 200, "administrator": 200}),
    (
        "post",
        "/api/user/create",
        "create",
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 201},
    ),
    (
        "patch",
        "/api/user/update/{target}",
        {"first_name": "Zoe"},
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200},
    ),
    (
        "put",
        "/api/user/update/{target}",
        "create",
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200},
    ),
    (
        "post",
        "/api/user/blocking/{target}",
        None,
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200},
    ),
    (
        "delete",
        "/api/user/blocking/{target}",
        None,
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200},
    ),
    ("get", "/api/users/", None, {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200}),
    (
        "get",
        "/api/users/{target}/",
        None,
        {"anonymous": 401, "patient": 403, "doctor": 403, "administrator": 200},
    ),
]

CREATE_BODY = {
    "username": "zoe",
    "password": "a long and unusual passphrase 42",
    "last_name": "Z",
    "first_name": "Zoe",
    "sex": "female",
    "birth_date": "1999-09-09",
    "groups": ["patient"],
}


@pytest.fixture
def client_for(api, login, alice, dr_carol, admin_user, blocked_user):
    from knox.models import AuthToken

    def make(caller):
        if caller == "anonymous":
            return api
        if caller == "blocked":
            # A token issued before the block: it must no longer work.
            client = login(blocked_user)
            return client
        return login({"patient": alice, "doctor": dr_carol, "administrator": admin_user}[caller])

    assert AuthToken.objects.count() == 0
    return make


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "template", "body", "expected"), MATRIX, ids=[f"{m} {t}" for m, t, *_ in MATRIX])
def test_access(client_for, bob, caller, method, template, body, expected):
    client = client_for(caller)
    path = template.format(target=bob.pk)
    data = CREATE_BODY if body == "create" else body
    if method == "put":
        data = {**CREATE_BODY, "username": "bob"}
    response = getattr(client, method)(path, data, format="json")
    assert response.status_code == expected.get(caller, 401), response.content
