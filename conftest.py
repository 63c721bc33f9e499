"""Shared test cast and setup: alice and bob (patients), dr_carol and dr_dave (doctors), admin."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from staff.roles import Role
from staff.tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are skipped with the reason."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); this run is on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):
    # Argon2 is the production hasher (tested on its own); tests hash thousands of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No collectstatic in tests: plain storage instead of the production manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _in_memory_broker(monkeypatch):
    """Tasks enqueued by tests go to Celery's in-memory transport: nothing leaves the process."""
    from hospital.celery import app

    # Celery reads the CELERY_BROKER_URL environment variable before its own configuration, so
    # while it is set (CI sets it) no configured broker would take effect.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    def reset_pools():
        # Drop (never close) the pools: kombu keeps closed pools in a global registry, and a
        # closed one would refuse every later publish.
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = "memory://"
    reset_pools()
    yield
    app.conf.broker_url = previous
    reset_pools()


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Ivanova", roles=[Role.PATIENT])


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Petrov", roles=[Role.PATIENT])


@pytest.fixture
def dr_carol(db):
    return UserFactory(username="dr_carol", first_name="Carol", last_name="Smirnova", roles=[Role.DOCTOR])


@pytest.fixture
def dr_dave(db):
    return UserFactory(username="dr_dave", first_name="Dave", last_name="Sokolov", roles=[Role.DOCTOR])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", first_name="Anna", last_name="Admin", roles=[Role.ADMINISTRATOR])


@pytest.fixture
def blocked_user(db):
    return UserFactory(username="blocked", roles=[Role.PATIENT], is_active=False)


@pytest.fixture
def api():
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def login():
    """Return a client authenticated with a real token of `user`."""
    from knox.models import AuthToken

    def _login(user):
        client = APIClient()
        _, token = AuthToken.objects.create(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.token = token
        return client

    return _login
