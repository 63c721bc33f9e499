"""End to end in Chromium: an administrator adds a doctor and hours, sees slots, imports doctors, reads the dashboard.

Playwright drives Debian's /usr/bin/chromium headless against pytest-django's live server. Every step
leaves a full-page screenshot in artifacts/e2e/ (git ignores artifacts/), and failure.png shows where a
failed run stopped.
"""

import math

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from appointments.management.commands.load_demo import demo_specialties_ensure
from appointments.models import DoctorSchedule, Timetable
from hospital.tests.browser import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM
from staff.models import User
from staff.roles import Role
from staff.services import roles_ensure
from staff.tests.factories import PASSWORD, UserFactory

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (requirements-dev.txt)")
expect = sync_api.expect

ARTIFACTS = settings.BASE_DIR / "artifacts" / "e2e"
DOCTORS_CSV = settings.BASE_DIR / "fixtures" / "doctors.csv"
IMPORTED = ("Соколова", "Волков", "Кузнецова", "Морозов", "Лебедева", "Новиков")  # last names in doctors.csv
DOCTOR_PASSWORD = "a sturdy pass phrase 42"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
SLOTS_PER_DAY = 9  # 09:00-12:00 in 20-minute slots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
    # The live server answers from another thread, so the data must be committed; the serialized
    # rollback puts back what migrations created (the role groups) for the tests that run after.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def page(request, monkeypatch):
    """A Chromium page; the test fails on any 4xx/5xx response or JavaScript error the page met."""
    # The sync API keeps Playwright's event loop in this thread, and Django refuses ORM calls while
    # a loop runs there; the test's own queries never overlap a browser call.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "failure.png").unlink(missing_ok=True)
    failed_before = request.session.testsfailed
    problems = []

    def on_response(response):
        if response.status >= 400:
            problems.append(f"{response.status} {response.request.method} {response.url}")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        # Reduced motion turns off Bootstrap's fades, so a screenshot never catches a tab half drawn.
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB", reduced_motion="reduce")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("response", on_response)
        page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
        yield page
        if request.session.testsfailed > failed_before:  # the call phase has been reported by now
            shot(page, "failure")
        browser.close()
        # While the loop runs, asgiref gives this thread context-local connections, which nothing else
        # closes: left open, PostgreSQL would refuse to drop the test database at the end of the run.
        connections.close_all()
    assert problems == []


@pytest.fixture
def generation_in_process(monkeypatch):
    """Run the slot generation task in the server's thread when the admin enqueues it: no broker, no worker."""
    from hospital.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def choose(page, field, label: str) -> None:
    """Pick `label` in a select box, which Jazzmin draws as a select2 box."""
    field.locator(".select2-selection").click()
    page.get_by_role("option", name=label, exact=True).click()


def test_an_administrator_sets_up_a_doctor_sees_the_slots_imports_doctors_and_reads_the_dashboard(
    live_server, page, generation_in_process
):
    admin = f"{live_server.url}/admin"
    the_cast_exists()
    log_in_as_the_administrator(page, admin)
    doctor = add_a_doctor_on_the_users_page(page, admin)
    give_the_doctor_weekday_hours(page, admin)
    generated = see_the_generated_slots(page, admin, doctor)
    booked = book_the_last_two_slots_for_alice(page, doctor, generated)
    import_the_sample_doctors(page, admin)
    read_the_dashboard(page, admin, booked)


# --- the steps, in the order the story takes them ---------------------------------------------


def the_cast_exists() -> None:
    """A real administrator (the role's group gives the permissions, not a superuser flag) and alice."""
    roles_ensure()
    demo_specialties_ensure()  # the sample doctors file names them
    UserFactory(username="admin", first_name="Anna", last_name="Admin", roles=[Role.ADMINISTRATOR])
    UserFactory(username="alice", first_name="Alice", last_name="Ivanova", roles=[Role.PATIENT])


def log_in_as_the_administrator(page, admin: str) -> None:
    """1. The administrator logs in through the login form."""
    page.goto(f"{admin}/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "01-login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{admin}/")


def add_a_doctor_on_the_users_page(page, admin: str) -> User:
    """2. A doctor is a user with the doctor group, added on the Users page."""
    page.goto(f"{admin}/staff/user/add/")
    page.fill("#id_username", "dr_erin")
    page.fill("#id_password1", DOCTOR_PASSWORD)
    page.fill("#id_password2", DOCTOR_PASSWORD)
    page.fill("#id_last_name", "Orlova")
    page.fill("#id_first_name", "Erin")
    choose(page, page.locator(".field-sex"), "female")
    page.fill("#id_birth_date", "1985-04-12")
    page.select_option("#id_groups_from", label="doctor")
    page.click("#id_groups_add")
    shot(page, "02-doctor-user-filled")
    page.click("input[name=_save]")
    expect(page.get_by_text("The user “Orlova Erin” was added successfully")).to_be_visible()
    shot(page, "03-doctor-user-added")
    doctor = User.objects.get(username="dr_erin")
    assert doctor.is_doctor and doctor.is_active and not doctor.is_staff
    assert (doctor.sex, str(doctor.birth_date)) == ("female", "1985-04-12")
    assert doctor.check_password(DOCTOR_PASSWORD)
    return doctor


def give_the_doctor_weekday_hours(page, admin: str) -> None:
    """3. On the doctor's page: 20-minute slots, 09:00-12:00 every weekday."""
    page.goto(f"{admin}/appointments/doctor/")
    page.get_by_role("link", name="Orlova Erin").click()
    expect(page.get_by_text("No schedule yet")).to_be_attached()
    page.fill("#id_slot_minutes", "20")
    page.fill("#id_horizon_days", "7")
    page.get_by_role("tab", name="Working hours by weekday").click()
    for index, weekday in enumerate(WEEKDAYS):
        if index:
            page.get_by_role("button", name="Add another Working hours").click()
        row = page.locator(f"#working_hours-{index}")
        choose(page, row, weekday)
        row.locator(f"#id_working_hours-{index}-start").fill("09:00")
        row.locator(f"#id_working_hours-{index}-end").fill("12:00")
    shot(page, "04-doctor-hours-filled")
    page.click("input[name=_continue]")
    expect(page.get_by_text("The doctor “Orlova Erin” was changed successfully")).to_be_visible()


def see_the_generated_slots(page, admin: str, doctor: User) -> int:
    """4. Saving generated the slots: the doctor's coming week and the Timetable show them.

    Starts on the doctor's page, as the save left it; returns how many slots there are.
    """
    assert DoctorSchedule.objects.get(doctor=doctor).generated_at is not None
    generated = Timetable.objects.filter(doctor=doctor).count()
    # Seven days from today hold five weekdays, and today's slots may have begun already.
    assert 4 * SLOTS_PER_DAY <= generated <= 5 * SLOTS_PER_DAY
    page.get_by_role("tab", name="Coming week").click()
    week = page.locator(".hospital-week-preview")
    expect(week).to_contain_text(f"The current schedule plans {generated} slots in the next seven days")
    days_with_slots = math.ceil(generated / SLOTS_PER_DAY)  # today's last slot may still be ahead
    expect(week.locator(".badge", has_text="11:40–12:00")).to_have_count(days_with_slots)
    shot(page, "05-doctor-coming-week")

    page.goto(f"{admin}/appointments/timetable/?doctor={doctor.pk}")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(generated)
    expect(page.locator("#result_list .badge", has_text="free")).to_have_count(generated)
    shot(page, "06-timetable-of-the-doctor")
    return generated


def book_the_last_two_slots_for_alice(page, doctor: User, generated: int) -> list[Timetable]:
    """5. The last two slots of the week booked for alice with the Timetable's action.

    The furthest from now, so that none starts while the test runs. Starts on the doctor's
    Timetable, as the previous step left it; returns the booked slots.
    """
    rows = page.locator("#result_list tbody tr")
    rows.nth(generated - 2).locator("input.action-select").check()
    rows.nth(generated - 1).locator("input.action-select").check()
    picker = page.locator(".actions .select2-container--admin-autocomplete")
    expect(picker).to_have_count(1)  # not Jazzmin's duplicate too: see hospital/templates/admin/change_list.html
    picker.click()
    page.locator(".select2-search__field").fill("Ivanova")
    page.get_by_role("option", name="Ivanova Alice").click()
    page.select_option("select[name=action]", "book_for_patient")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("2 slot(s) booked for Ivanova Alice.")).to_be_visible()
    expect(page.locator("#result_list .badge", has_text="booked")).to_have_count(2)
    shot(page, "07-two-slots-booked")
    booked = list(Timetable.objects.filter(doctor=doctor, client__username="alice").order_by("start_time"))
    assert len(booked) == 2
    assert not Timetable.objects.filter(doctor=doctor, start_time__gt=booked[-1].start_time).exists()
    return booked


def import_the_sample_doctors(page, admin: str) -> None:
    """6. The sample doctors file: upload, preview, confirm."""
    page.goto(f"{admin}/appointments/doctor/import/")
    page.set_input_files("input[name=import_file]", DOCTORS_CSV)
    # Guessed from the extension (see hospital/templates/admin/import_export/import.html).
    expect(page.locator("#select2-id_format-container")).to_have_text("csv")
    shot(page, "08-import-form")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
    preview = page.locator("table.import-preview")
    expect(preview.locator("tbody tr")).to_have_count(len(IMPORTED))
    expect(preview).to_contain_text("09:00-13:00;14:00-18:00")
    shot(page, "09-import-preview")
    assert not User.objects.filter(username__startswith="dr.").exists()  # the preview wrote nothing
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Import finished: 6 new")).to_be_visible()
    page.goto(f"{admin}/appointments/doctor/")
    for last_name in IMPORTED:
        expect(page.locator("#result_list")).to_contain_text(last_name)
    shot(page, "10-doctors-after-import")
    assert User.objects.doctors().filter(username__startswith="dr.").count() == len(IMPORTED)
    assert Timetable.objects.filter(doctor__username="dr.sokolova").exists()  # generated when the import committed


def read_the_dashboard(page, admin: str, booked: list[Timetable]) -> None:
    """7. The dashboard draws the appointments as server-rendered SVG bars."""
    page.goto(f"{admin}/")
    dashboard = page.locator(".hospital-dashboard")
    charts = dashboard.locator("svg.hospital-chart")
    expect(charts).to_have_count(3)
    per_day = charts.first
    expect(per_day).to_be_visible()
    expect(per_day).to_contain_text("Appointments per day")
    day = timezone.localtime(booked[0].start_time).date()
    bar = per_day.locator("g.bar rect", has=page.locator("title", has_text=f"{day:%Y-%m-%d}: 2"))
    expect(bar).to_have_count(1)
    assert float(bar.get_attribute("height")) > 0
    heights = per_day.locator("g.bar rect").evaluate_all("bars => bars.map(bar => Number(bar.getAttribute('height')))")
    assert sum(height > 0 for height in heights) == 1  # that day's bar is the only one drawn
    expect(dashboard.locator("table", has_text="Utilisation")).to_contain_text("Orlova Erin")
    shot(page, "11-dashboard")
