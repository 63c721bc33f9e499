"""Token login, logout, expiry, throttling and password hashing."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.utils import timezone
from knox.models import AuthToken

from staff.serializers import WRONG_CREDENTIALS
from staff.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_issues_a_token_that_authenticates(api, alice):
    response = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


def test_it_answers_with_a_trailing_slash_too(api, alice):
    response = api.post("/api/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_it_stores_tokens_hashed(api, alice):
    token = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").json()["token"]
    row = AuthToken.objects.get(user=alice)
    assert token not in (row.digest, row.token_key)
    assert row.token_key == token[: len(row.token_key)]


@pytest.mark.parametrize("password", ["wrong", ""])
def test_it_rejects_wrong_credentials_with_one_message(api, alice, password):
    response = api.post("/api/token", {"username": "alice", "password": password}, format="json")
    assert response.status_code == 400
    assert not AuthToken.objects.exists()


def test_blocked_and_unknown_users_get_the_same_answer(api, blocked_user):
    blocked = api.post("/api/token", {"username": "blocked", "password": PASSWORD}, format="json")
    unknown = api.post("/api/token", {"username": "nobody", "password": PASSWORD}, format="json")
    assert blocked.status_code == unknown.status_code == 400
    assert blocked.json() == unknown.json()
    assert blocked.json()["detail"] == str(WRONG_CREDENTIALS)


def test_logout_revokes_the_token(login, alice):
    client = login(alice)
    assert client.post("/api/token/logout").status_code == 204
    assert client.get("/api/me").status_code == 401
    assert not AuthToken.objects.filter(user=alice).exists()


def test_expired_tokens_get_401(login, alice):
    client = login(alice)
    AuthToken.objects.filter(user=alice).update(expiry=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_tokens_live_token_ttl_hours(api, alice, settings):
    response = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json")
    expiry = AuthToken.objects.get(user=alice).expiry
    expected = timezone.now() + timedelta(hours=settings.TOKEN_TTL_HOURS)
    assert abs((expiry - expected).total_seconds()) < 60
    assert response.json()["expiry"] is not None


def test_an_anonymous_call_gets_401_with_the_error_shape(api):
    response = api.get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    body = response.json()
    assert set(body) == {"detail", "code"}


def test_login_is_throttled_per_username_from_an_address_and_the_owner_elsewhere_is_not(api, alice, settings):
    settings.AXES_FAILURE_LIMIT = 100  # the lockout is tested on its own below
    statuses = [
        api.post(
            "/api/token", {"username": "ALICE", "password": "wrong"}, format="json", REMOTE_ADDR="10.0.0.1"
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    # Ten wrong passwords a minute from one address must not keep the owner out everywhere.
    owner = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json", REMOTE_ADDR="10.0.0.2")
    assert owner.status_code == 200


def test_login_is_throttled_per_address(api, alice):
    for i in range(10):
        api.post("/api/token", {"username": f"user{i}", "password": "x"}, format="json", REMOTE_ADDR="10.1.1.1")
    response = api.post(
        "/api/token", {"username": "alice", "password": PASSWORD}, format="json", REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    # Another address is not affected.
    other = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json", REMOTE_ADDR="10.2.2.2")
    assert other.status_code == 200


def test_production_hashes_passwords_with_argon2():
    from django.conf import settings as django_settings
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        from django.contrib.auth.hashers import make_password

        assert identify_hasher(make_password("s3cret-Passw0rd")).algorithm == "argon2"
    from hospital import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.AUTH_USER_MODEL == "staff.User"


def test_repeated_failures_lock_the_username_out_until_cleared(api, alice, settings):
    from axes.models import AccessAttempt
    from axes.utils import reset

    settings.AXES_FAILURE_LIMIT = 3
    statuses = [
        api.post("/api/token", {"username": "alice", "password": "wrong"}, format="json").status_code for _ in range(3)
    ]
    assert statuses == [400, 400, 429]  # the failure that reaches the limit already answers 429
    # Even the right password is refused while locked out, from that address (another address:
    # staff/tests/test_login_abuse.py).
    locked = api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert AccessAttempt.objects.filter(username="alice").exists()

    reset(username="alice")  # what an administrator's "clear" does
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 200


def test_the_lockout_ends_when_the_cool_off_passes(api, alice, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        api.post("/api/token", {"username": "alice", "password": "wrong"}, format="json")
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert api.post("/api/token", {"username": "alice", "password": PASSWORD}, format="json").status_code == 200


def test_an_expired_token_is_refused_and_deleted_without_touching_the_others(login, alice):
    fresh = login(alice)
    stale = login(alice)
    AuthToken.objects.filter(token_key=stale.token[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    assert stale.get("/api/me").status_code == 401
    assert fresh.get("/api/me").status_code == 200
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_the_hourly_task_purges_expired_tokens(login, alice, bob):
    from staff.tasks import purge_expired_tokens

    login(alice)
    login(bob)
    AuthToken.objects.filter(user=bob).update(expiry=timezone.now() - timedelta(minutes=1))
    assert purge_expired_tokens() == {"deleted": 1}
    assert list(AuthToken.objects.values_list("user", flat=True)) == [alice.pk]
