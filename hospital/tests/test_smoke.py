"""Production shape, end to end: the stack as docker-compose.yml runs it, driven as people use it.

The roles are started exactly as compose starts them, through scripts/entrypoint.sh: `collectstatic`
(the image build), `setup` (the one-shot migrate service), then `web` (gunicorn, debug off, the
manifest storage), `worker`, `beat` and `flower`, on a fresh PostgreSQL database and Redis, over
plain HTTP as on a localhost deployment. Web is ready when compose's own healthcheck
(`entrypoint.sh healthcheck`) passes. Then:

- the API: log in, create a doctor, PUT a schedule, wait for the *worker* to generate the slots,
  book, a second booking is a 409, cancel, read the statistics;
- Flower: 401 without credentials; with them it lists the generation task that just ran;
- Chromium opens every admin URL reachable from the menu (each changelist, its first object, its
  add page, its import and export pages, the dashboard with a range and a doctor) as a superuser
  and as an administrator who is not one, in English and in Russian: every page must answer 200
  with no failed request, no console error and no request leaving the machine;
- Swagger UI renders from our own static files.

No server error may reach any log. The pages opened, with their status per language, are written
to artifacts/smoke/. Needs Chromium (skipped without it), PostgreSQL and Redis (a failure in CI,
skipped elsewhere); `make smoke` runs this module alone.
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
import redis
import requests
from django.conf import settings

from hospital.testing_env import CALLERS_BROKER_URL
from hospital.tests.browser import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (requirements-dev.txt)")

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = ROOT / "scripts" / "entrypoint.sh"
ARTIFACTS = ROOT / "artifacts" / "smoke"
SUPERUSER = ("root", "smoke superuser pass phrase 1")
ADMINISTRATOR = ("desk.admin", "smoke administrator pass phrase 2")
PATIENT = ("smoke.patient", "smoke patient pass phrase 3")
FLOWER_AUTH = ("ops", "smoke flower pass phrase 4")
LANGUAGES = {"en": "en-GB", "ru": "ru-RU"}
# A server error in any role's output: gunicorn's access log status, Django's and Celery's logs.
SERVER_ERROR = re.compile(r'" 5\d\d |Traceback \(most recent call last\)|ERROR/|\bERROR (django|celery)')

pytestmark = [
    pytest.mark.smoke,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable(what: str) -> None:
    """Missing infrastructure fails CI loudly; elsewhere the module is skipped with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"the smoke suite needs {what}")
    pytest.skip(f"needs {what}")


@dataclass
class Stack:
    url: str
    flower_url: str
    env: dict
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)

    def server_errors(self) -> list[str]:
        found = []
        for role, path in self.logs.items():
            for line in path.read_text(errors="replace").splitlines():
                if SERVER_ERROR.search(line):
                    found.append(f"{role}: {line}")
        return found

    def alive(self) -> None:
        for role, process in self.processes.items():
            assert process.poll() is None, f"{role} exited with {process.returncode}:\n{self.logs[role].read_text()}"

    def token(self, username: str, password: str) -> str:
        response = requests.post(f"{self.url}/api/token", json={"username": username, "password": password}, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def api(self, token: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        return session


def entrypoint(stack_env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *args], cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return (
        url
        if url.startswith("postgres")
        else os.environ.get("SMOKE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )


def redis_server() -> str:
    # The tests' own CELERY_BROKER_URL is the in-memory transport; this is the one the run was given.
    url = CALLERS_BROKER_URL
    base = url if url.startswith("redis://") else os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(base)
    return f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    server = urlparse(postgres_server())
    maintenance = {
        "host": server.hostname or "127.0.0.1",
        "port": server.port or 5432,
        "user": server.username or "postgres",
        "password": server.password or None,
        "dbname": "postgres",
    }
    database = f"hospital_smoke_{secrets.token_hex(4)}"
    try:
        admin = psycopg2.connect(**maintenance, connect_timeout=5)
    except psycopg2.OperationalError as error:
        unavailable(f"PostgreSQL at {server.hostname}:{server.port} ({error})")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    redis_url = redis_server()
    databases = secrets.SystemRandom().sample(range(2, 16), 2)
    broker = redis.Redis.from_url(f"{redis_url}/{databases[0]}")
    try:
        broker.ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {redis_url} ({error})")

    tmp = tmp_path_factory.mktemp("smoke")
    password = f":{maintenance['password']}" if maintenance["password"] else ""
    port, flower_port = free_port(), free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp)),
        "LANG": "C.UTF-8",
        "PYTHON": sys.executable,
        # compose's environment for the app roles, with this run's own database, broker and ports
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": f"postgres://{maintenance['user']}{password}@{maintenance['host']}:{maintenance['port']}/{database}",
        "CELERY_BROKER_URL": f"{redis_url}/{databases[0]}",
        "CACHE_URL": f"{redis_url}/{databases[1]}",
        "DJANGO_SUPERUSER_USERNAME": SUPERUSER[0],
        "DJANGO_SUPERUSER_PASSWORD": SUPERUSER[1],
        "DJANGO_SUPERUSER_EMAIL": "root@clinic.example",
        "FLOWER_BASIC_AUTH": ":".join(FLOWER_AUTH),
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "HOSPITAL_VAR_DIR": str(tmp / "var"),
        "PORT": str(port),
        "FLOWER_PORT": str(flower_port),
        "GUNICORN_WORKERS": "2",
        "CELERY_CONCURRENCY": "1",
    }
    stack = Stack(
        url=f"http://127.0.0.1:{port}",
        flower_url=f"http://127.0.0.1:{flower_port}",
        env=env,
        logs={role: tmp / f"{role}.log" for role in ("web", "worker", "beat", "flower")},
    )
    try:
        for step in ("collectstatic", "setup"):  # the image build, then compose's migrate service
            result = entrypoint(env, step)
            assert result.returncode == 0, f"entrypoint.sh {step} failed:\n{result.stdout}\n{result.stderr}"
        for role, log in stack.logs.items():
            stack.processes[role] = subprocess.Popen(
                [str(ENTRYPOINT), role],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while entrypoint(env, "healthcheck", timeout=30).returncode != 0:
            stack.alive()
            assert time.monotonic() < deadline, f"web never became healthy:\n{stack.logs['web'].read_text()}"
            time.sleep(1)
        yield stack
    finally:
        for process in stack.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for log in stack.logs.values():
            if log.exists():
                (ARTIFACTS / log.name).write_text(log.read_text(errors="replace"))
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        for number in databases:
            redis.Redis.from_url(f"{redis_url}/{number}").flushdb()


def wait_for(condition, *, seconds: float, what: str, stack: Stack):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        stack.alive()
        assert time.monotonic() < deadline, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.5)


def flower_tasks(stack: Stack) -> dict:
    response = requests.get(f"{stack.flower_url}/api/tasks", auth=FLOWER_AUTH, timeout=10)
    return response.json() if response.status_code == 200 else {}


def test_flower_needs_credentials_and_sees_the_worker(stack):
    wait_for(
        lambda: requests.get(stack.flower_url, timeout=5).status_code == 401,
        seconds=60,
        what="Flower to answer",
        stack=stack,
    )
    assert requests.get(f"{stack.flower_url}/api/workers", timeout=5).status_code == 401
    # Flower hears task events only once it is connected to the worker: wait for it before the
    # API story below enqueues the generation task Flower must list.
    workers = wait_for(
        lambda: requests.get(
            f"{stack.flower_url}/api/workers", params={"refresh": 1}, auth=FLOWER_AUTH, timeout=10
        ).json(),
        seconds=60,
        what="Flower to see the worker",
        stack=stack,
    )
    assert workers


def test_the_api_story_runs_on_the_worker(stack):
    token = stack.token(*SUPERUSER)
    api = stack.api(token)
    person = {"sex": "female", "birth_date": "1980-05-17"}
    doctor = api.post(
        f"{stack.url}/api/user/create",
        json={
            "username": "dr.smoke",
            "password": "doctor pass phrase 5",
            "last_name": "Smoke",
            "first_name": "Dora",
            "groups": ["doctor"],
            **person,
        },
        timeout=10,
    )
    assert doctor.status_code == 201, doctor.text
    doctor_id = doctor.json()["id"]
    for username, password, role, last in ((*PATIENT, "patient", "Patient"), (*ADMINISTRATOR, "administrator", "Desk")):
        created = api.post(
            f"{stack.url}/api/user/create",
            json={
                "username": username,
                "password": password,
                "last_name": last,
                "first_name": "Smoke",
                "groups": [role],
                **person,
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
    hours = [{"weekday": day, "start": "00:00", "end": "23:40"} for day in range(7)]
    schedule = api.put(
        f"{stack.url}/api/doctors/{doctor_id}/schedule",
        json={"slot_minutes": 20, "horizon_days": 3, "working_hours": hours},
        timeout=10,
    )
    assert schedule.status_code == 200, schedule.text

    lunch = api.post(
        f"{stack.url}/api/doctors/{doctor_id}/absences",
        json={
            "kind": "break",
            "start": f"{date.today() + timedelta(2)}T12:00",
            "end": f"{date.today() + timedelta(2)}T13:00",
        },
        timeout=10,
    )
    assert lunch.status_code == 201, lunch.text

    patient = stack.api(stack.token(*PATIENT))
    # The web process only enqueues; the slots appear when the worker has run the task.
    slots = wait_for(
        lambda: patient.get(f"{stack.url}/api/doctor/slots/get/{doctor_id}", timeout=10).json(),
        seconds=30,
        what="the worker to generate the slots",
        stack=stack,
    )
    slot = slots[0]["id"]
    booked = patient.post(f"{stack.url}/api/doctor/appointment/{slot}", timeout=10)
    assert booked.status_code == 201, booked.text
    again = patient.post(f"{stack.url}/api/doctor/appointment/{slot}", timeout=10)
    assert (again.status_code, again.json()["code"]) == (409, "slot_taken")
    cancelled = patient.post(f"{stack.url}/api/doctor/appointment/undo/{slot}", timeout=10)
    assert cancelled.status_code == 200 and cancelled.json()["client"] is None
    rebooked = patient.post(f"{stack.url}/api/doctor/appointment/{slot}", timeout=10)
    assert rebooked.status_code == 201  # kept, so that the admin pages below have a booking to show
    stats = api.get(f"{stack.url}/api/doctor/entries/all", params={"date_from": str(date.today() - timedelta(1))})
    assert stats.status_code == 200 and sum(row["count"] for row in stats.json()) == 1, stats.text
    stack.facts["doctor_id"] = doctor_id

    # Flower lists the task the worker ran for this doctor (ops watch the generator there).
    ran = wait_for(
        lambda: [
            task
            for task in flower_tasks(stack).values()
            if task.get("name") == "appointments.generate_slots_for_doctors"
            and task.get("state") == "SUCCESS"
            and str(doctor_id) in str(task.get("args"))
        ],
        seconds=30,
        what="Flower to list the generation task",
        stack=stack,
    )
    assert ran


class Crawl:
    """One browser context (a language), one logged-in user; records every problem it meets."""

    def __init__(self, browser, stack: Stack, locale: str):
        self.stack = stack
        self.context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.visited: dict[str, int] = {}
        self.languages: dict[str, str] = {}  # path -> <html lang>, the language the page was drawn in
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._failed)
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"JavaScript error on {self.page.url}: {error}"))

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.request.method} {response.url}")

    def _failed(self, request):
        # ERR_ABORTED is the browser cancelling a request itself (the crawl navigated on while an
        # image was loading); whatever the server answered reaches _response, which judges it.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed request {request.url} ({request.failure})")

    def _request(self, request):
        if not request.url.startswith((self.stack.url, "data:", "blob:")):
            self.problems.append(f"request leaving the machine: {request.url}")

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text}")

    def login(self, username: str, password: str) -> None:
        self.page.goto(f"{self.stack.url}/admin/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("[type=submit]")
        self.page.wait_for_url(f"{self.stack.url}/admin/")

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.stack.url}{path}")
        self.visited[path] = response.status
        assert response.status == 200, f"{path} answered {response.status}"
        self.page.wait_for_load_state("networkidle")
        self.languages[path] = self.page.evaluate("document.documentElement.lang")

    def hrefs(self, selector: str) -> list[str]:
        found = self.page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
        return [href.split("#")[0] for href in found if href and href.startswith("/admin/")]

    def menu(self) -> list[str]:
        return list(dict.fromkeys(self.hrefs("#jazzy-navigation a[href], #jazzy-navbar a[href]")))

    def walk(self) -> None:
        self.open("/admin/")
        for path in self.menu():
            if path in self.visited or path.endswith("/logout/"):
                continue
            self.open(path)
            if not re.fullmatch(r"/admin/\w+/\w+/", path):
                continue  # a custom link (an import page), not a changelist
            rows = self.hrefs("#result_list tbody tr a[href]")
            tools = self.hrefs(
                ".object-tools a[href], a.addlink[href], a[href$='/add/'], a[href$='/import/'], a[href$='/export/']"
            )
            for target in [*rows[:1], *tools]:
                if target.startswith(path) and target not in self.visited:
                    self.open(target)
        today = date.today()
        self.open(
            f"/admin/?date_from={today - timedelta(days=7)}&date_to={today + timedelta(days=7)}"
            f"&doctor={self.stack.facts['doctor_id']}"
        )


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("who", ["superuser", "administrator"])
def test_every_admin_page_in_the_menu_answers_200(stack, browser, who, language):
    assert "doctor_id" in stack.facts, "the API story runs first and leaves data to show"
    crawl = Crawl(browser, stack, LANGUAGES[language])
    crawl.login(*(SUPERUSER if who == "superuser" else ADMINISTRATOR))
    try:
        crawl.walk()
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        lines = [f"{status} {crawl.languages.get(path, '?')} {path}" for path, status in crawl.visited.items()]
        (ARTIFACTS / f"crawl-{who}-{language}.txt").write_text("\n".join(lines) + "\n")
        crawl.context.close()
    menu_pages = [path for path in crawl.visited if re.fullmatch(r"/admin/\w+/\w+/", path)]
    # The clinic's own pages are there for both; the system's (tokens, beat) only for superusers.
    assert {"/admin/staff/user/", "/admin/appointments/doctor/", "/admin/appointments/timetable/"} <= set(menu_pages)
    assert any(path.endswith("/change/") for path in crawl.visited), "no object's change page was opened"
    assert any("/export/" in path for path in crawl.visited), "no export page was opened"
    assert any("/import/" in path for path in crawl.visited), "no import page was opened"
    # Each page was drawn in the browser's language, not silently in the default one.
    assert {path: lang for path, lang in crawl.languages.items() if not lang.startswith(language)} == {}
    assert not crawl.problems, "\n".join(crawl.problems)
    assert not stack.server_errors(), "\n".join(stack.server_errors())


def test_swagger_ui_renders_offline(stack, browser):
    crawl = Crawl(browser, stack, "en-GB")
    try:
        crawl.open("/api/docs/")
        sync_api.expect(crawl.page.locator(".opblock").first).to_be_visible()
        assert crawl.page.locator(".opblock").count() > 20
    finally:
        crawl.context.close()
    assert not crawl.problems, "\n".join(crawl.problems)


def test_redoc_renders_offline_and_its_one_offsite_image_is_blocked(stack, browser):
    crawl = Crawl(browser, stack, "en-GB")
    blocked = []
    crawl.page.on("requestfailed", lambda request: blocked.append((request.url, request.failure)))
    try:
        crawl.open("/api/redoc/")
        sync_api.expect(crawl.page.locator("[data-section-id]").first).to_be_attached()
        assert crawl.page.locator("[data-section-id]").count() > 20
        crawl.page.wait_for_timeout(500)
    finally:
        crawl.context.close()
    # ReDoc's bundle asks for its maker's logo from cdn.redoc.ly; the page's policy stops it in the
    # browser (failure "csp": nothing left the machine). That, and its console line, is all.
    redocly = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [failure for url, failure in blocked if url == redocly] in ([], ["csp"])
    problems = [problem for problem in crawl.problems if redocly not in problem]
    assert not problems, "\n".join(problems)


def test_no_role_logged_a_server_error(stack):
    stack.alive()
    assert not stack.server_errors(), "\n".join(stack.server_errors())
