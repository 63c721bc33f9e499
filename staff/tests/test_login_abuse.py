"""Throttling and lockout cannot be turned against users.

The client address is REMOTE_ADDR unless the deployment declares TRUSTED_PROXY_COUNT proxies, so a
forged X-Forwarded-For neither escapes the per-address throttle nor frames another address; and a
lockout is per username *and* address, so an anonymous attacker cannot lock the owner out.
"""

import pytest

from staff.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(api, username, password, **meta):
    return api.post("/api/token", {"username": username, "password": password}, format="json", **meta)


@pytest.mark.parametrize("same_header", [True, False])
def test_a_forged_forwarded_for_does_not_escape_the_address_throttle(api, db, same_header):
    statuses = [
        login(
            api,
            f"nobody{i}",
            "wrong",
            REMOTE_ADDR="10.1.1.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4" if same_header else f"1.2.3.{i}",
        ).status_code
        for i in range(60)
    ]

    assert statuses.count(429) == 50  # 10 per minute from 10.1.1.1, whatever the header says


def test_a_forged_forwarded_for_cannot_throttle_someone_else(api, alice):
    for i in range(20):
        login(api, f"nobody{i}", "wrong", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="10.2.2.2")

    assert login(api, "alice", PASSWORD, REMOTE_ADDR="10.2.2.2").status_code == 200


def test_behind_a_declared_proxy_the_client_is_the_address_it_appended(api, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "172.16.0.1"}
    for i in range(10):
        # The client forges a first entry; the proxy appends the real address (10.1.1.1).
        login(api, f"nobody{i}", "wrong", HTTP_X_FORWARDED_FOR=f"9.9.9.{i}, 10.1.1.1", **proxy)

    assert login(api, "nobody", "wrong", HTTP_X_FORWARDED_FOR="10.1.1.1", **proxy).status_code == 429
    # Another client behind the same proxy is not throttled by the first one's failures.
    assert login(api, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.3.3.3", **proxy).status_code == 200


def test_an_anonymous_attacker_cannot_lock_the_owner_out(api, alice, settings):
    settings.AXES_FAILURE_LIMIT = 5
    attacker = {"REMOTE_ADDR": "10.6.6.6"}
    statuses = [login(api, "alice", f"guess {i}", **attacker).status_code for i in range(6)]

    assert statuses[-1] == 429  # the burst against one account from one address is stopped
    assert login(api, "alice", PASSWORD, **attacker).json()["code"] == "locked_out"
    # The owner, from their own address, still logs in.
    assert login(api, "alice", PASSWORD, REMOTE_ADDR="10.7.7.7").status_code == 200


def test_a_forged_forwarded_for_does_not_move_a_lockout(api, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for i in range(3):
        login(api, "alice", f"guess {i}", REMOTE_ADDR="10.6.6.6", HTTP_X_FORWARDED_FOR=f"10.7.7.{i}")

    assert login(api, "alice", PASSWORD, REMOTE_ADDR="10.6.6.6", HTTP_X_FORWARDED_FOR="10.8.8.8").status_code == 429
    assert login(api, "alice", PASSWORD, REMOTE_ADDR="10.7.7.0").status_code == 200
