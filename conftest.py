"""Shared test cast and setup: alice and bob (patients), dr_carol and dr_dave (doctors), admin."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from rest_framework.test import APIClient

from appointments.tests.factories import ScheduleFactory, every_day
from staff.roles import Role
from staff.services import roles_ensure
from staff.tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are skipped with the reason."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); this run is on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Collect static files once, so every page renders through production's manifest storage.

    hospital.testing_env points STATIC_ROOT at a directory of this run's own. A template that names
    a file the manifest lacks fails a test here as it would fail a page in production.
    """
    from django.core.management import call_command

    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "hospital.storage.StaticFilesStorage", (
        f"tests must render with production's storage, not {backend}"
    )
    call_command("collectstatic", "--noinput", "--clear", verbosity=0)


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):
    # Argon2 is the production hasher (tested on its own); tests hash thousands of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _people_numbered_from_zero():
    """Each test's factory-made people are user0, user1, ... with the same names, alone or in the suite."""
    UserFactory.reset_sequence()


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Russian leaves its thread in Russian (LocaleMiddleware activates, never resets):
    the next test would read Russian messages. Each test ends in the default language."""
    from django.utils import translation

    yield
    translation.deactivate()


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
def carol_schedule(dr_carol):
    """Dr Carol works 09:00-13:00 every day in 20-minute slots, a week ahead (no slots generated yet)."""
    return every_day(ScheduleFactory(doctor=dr_carol, slot_minutes=20, horizon_days=7))


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", first_name="Anna", last_name="Admin", roles=[Role.ADMINISTRATOR])


@pytest.fixture
def demo_specialties(db):
    """The specialties of fixtures/specialties.csv, which fixtures/doctors.csv names (as load_demo creates them)."""
    from appointments.management.commands.load_demo import demo_specialties_ensure

    return demo_specialties_ensure()


@pytest.fixture
def staff_client(client, admin_user):
    """The admin site as the administrator `admin` (the role's group, no superuser flag)."""
    roles_ensure()
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    return client


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


@pytest.fixture
def admin_api(login, admin_user):
    """The API as the administrator `admin`, with a real token."""
    return login(admin_user)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, serving the static files collected for this run.

    Django's test server answers /static/ from the apps' source files, under their source names,
    and so 404s the hashed names the manifest storage renders. Here it serves the collected,
    hashed files instead, as WhiteNoise does under gunicorn. (Not WhiteNoise itself: through the
    middleware chain every asset request would share the test's one SQLite connection across
    threads.)
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.views.static import serve
    from pytest_django.live_server_helper import LiveServer

    request.getfixturevalue("_collected_static")
    original = StaticFilesHandler.serve

    def serve_collected(self, request):
        return serve(request, self.file_path(request.path), document_root=settings.STATIC_ROOT)

    StaticFilesHandler.serve = serve_collected
    # On SQLite the test database is in memory, and every request thread of the threaded server
    # shares its one connection: two requests at once (a page and an autocomplete) could hang
    # there. One request at a time on SQLite; PostgreSQL keeps the threaded server.
    threaded = LiveServerThread.server_class
    if connection.vendor == "sqlite":
        LiveServerThread.server_class = _SerialWSGIServer
    try:
        server = LiveServer(request.config.getvalue("liveserver") or "localhost")
    finally:
        LiveServerThread.server_class = threaded
    yield server
    server.stop()
    StaticFilesHandler.serve = original


class _SerialWSGIServer(WSGIServer):
    """Django's plain (one request at a time) WSGI server, as LiveServerThread constructs servers."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


class TaskSends(list):
    """Each send of the slot generation task, in order, as its arguments and options: {"args": ..., "retry": ...}."""

    @property
    def batches(self) -> list[list[int]]:
        """The doctor ids of each send."""
        return [send["args"][0] for send in self]

    @property
    def doctor_ids(self) -> list[int]:
        """The doctor ids of all sends, in order."""
        return [pk for batch in self.batches for pk in batch]


@pytest.fixture
def sent(monkeypatch) -> TaskSends:
    """The sends of slot generation, recorded instead of handed to the broker."""
    from appointments.tasks import generate_slots_for_doctors

    sends = TaskSends()

    def record(args=None, kwargs=None, **options):
        sends.append({"args": args, **options})

    monkeypatch.setattr(generate_slots_for_doctors, "apply_async", record)
    return sends


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """`with on_commit:` runs what the block's transactions scheduled for their commit."""
    return django_capture_on_commit_callbacks(execute=True)
