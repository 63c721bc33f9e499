"""Russian and English: the API's error messages, the admin, role labels, and the catalogue itself.

Expected texts come from the code's own constants under translation.override("ru") wherever they
exist; a few literal Russian strings prove that the compiled catalogue is really loaded (an empty or
missing .mo would hand the English text back and an override-based comparison alone would pass).
"""

import datetime
import gettext
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import ngettext
from rest_framework import exceptions

from appointments.models import Timetable
from appointments.services import SLOT_TAKEN
from appointments.tests.factories import SlotFactory
from hospital.errors import INVALID_INPUT
from staff.models import BIRTH_DATE_IN_FUTURE, User
from staff.roles import Role
from staff.serializers import WRONG_CREDENTIALS
from staff.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

RUSSIAN = [
    pytest.param({"HTTP_ACCEPT_LANGUAGE": "ru"}, id="ru"),
    pytest.param({"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.8"}, id="ru-RU"),
]
ENGLISH = [
    pytest.param({}, id="no-header"),
    pytest.param({"HTTP_ACCEPT_LANGUAGE": "en"}, id="en"),
    pytest.param({"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, id="en-US"),
]


def in_russian(text) -> str:
    with translation.override("ru"):
        return str(text)


def in_english(text) -> str:
    with translation.override("en"):
        return str(text)


# --- the API ---------------------------------------------------------------------------------------


def login_attempt(api, **headers):
    return api.post("/api/token", {"username": "alice", "password": "wrong"}, format="json", **headers)


@pytest.mark.parametrize("headers", RUSSIAN)
def test_wrong_credentials_are_reported_in_russian(api, alice, headers):
    response = login_attempt(api, **headers)

    assert response.status_code == 400
    assert response.json()["detail"] == in_russian(WRONG_CREDENTIALS)
    assert response.json()["detail"] == "Невозможно войти с предоставленными учётными данными."
    assert response["Content-Language"] == "ru"


@pytest.mark.parametrize("headers", ENGLISH)
def test_wrong_credentials_are_reported_in_english_by_default(api, alice, headers):
    response = login_attempt(api, **headers)

    assert response.status_code == 400
    assert response.json()["detail"] == "Unable to log in with the provided credentials."
    assert response["Content-Language"] == "en"


def test_a_successful_login_is_not_affected_by_the_language(api, alice):
    response = api.post(
        "/api/token", {"username": "alice", "password": PASSWORD}, format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 200
    assert response.json()["token"]


def test_a_taken_slot_is_refused_in_the_patients_language(login, alice, bob, dr_carol):
    slot = SlotFactory(doctor=dr_carol, client=bob)
    client = login(alice)

    russian = client.post(f"/api/doctor/appointment/{slot.pk}", HTTP_ACCEPT_LANGUAGE="ru")
    english = client.post(f"/api/doctor/appointment/{slot.pk}", HTTP_ACCEPT_LANGUAGE="en")
    default = client.post(f"/api/doctor/appointment/{slot.pk}")

    assert russian.status_code == english.status_code == default.status_code == 409
    assert russian.json()["detail"] == in_russian(SLOT_TAKEN) == "Этот слот уже занят."
    assert english.json()["detail"] == default.json()["detail"] == in_english(SLOT_TAKEN)
    assert english.json()["detail"] == "This slot is already taken."
    # The code is for programs and stays the same in every language.
    assert russian.json()["code"] == english.json()["code"]
    slot.refresh_from_db()
    assert slot.client == bob


def new_user(**overrides):
    data = {
        "username": "new_patient",
        "password": "a long and unusual passphrase 42",
        "last_name": "Kuznetsova",
        "first_name": "Maria",
        "sex": "female",
        "birth_date": "1985-03-02",
        "groups": ["patient"],
    }
    return {**data, **overrides}


def test_validation_errors_come_in_russian(login, admin_user):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = login(admin_user).post(
        "/api/user/create", new_user(birth_date=tomorrow.isoformat()), format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == in_russian(INVALID_INPUT) == "Некорректные данные."
    assert body["fields"]["birth_date"] == [in_russian(BIRTH_DATE_IN_FUTURE)]
    assert body["fields"]["birth_date"] == ["Дата рождения не может быть в будущем."]
    assert not User.objects.filter(username="new_patient").exists()


@pytest.mark.parametrize("headers", ENGLISH)
def test_validation_errors_come_in_english_by_default(login, admin_user, headers):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = login(admin_user).post(
        "/api/user/create", new_user(birth_date=tomorrow.isoformat()), format="json", **headers
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid input."
    assert response.json()["fields"]["birth_date"] == ["Birth date cannot be in the future."]


def test_drf_and_django_messages_are_translated_too(login, admin_user):
    """Messages the project does not own (DRF's choice and date errors) follow the same language."""
    response = login(admin_user).post(
        "/api/user/create", new_user(sex="other", birth_date="02.03.1985"), format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "other" in fields["sex"][0]
    assert re.search("[а-яА-Я]", fields["sex"][0]), fields
    assert re.search("[а-яА-Я]", fields["birth_date"][0]), fields


@pytest.mark.parametrize(
    ("headers", "language"),
    [
        pytest.param({"HTTP_ACCEPT_LANGUAGE": "ru"}, "ru", id="ru"),
        pytest.param({}, "en", id="no-header"),
        pytest.param({"HTTP_ACCEPT_LANGUAGE": "en"}, "en", id="en"),
    ],
)
def test_drfs_own_401_follows_the_language(api, headers, language):
    response = api.get("/api/me", **headers)

    assert response.status_code == 401
    with translation.override(language):
        expected = str(exceptions.NotAuthenticated.default_detail)
    assert response.json()["detail"] == expected
    if language == "ru":
        assert expected != "Authentication credentials were not provided."
        assert re.search("[а-яА-Я]", expected)
    else:
        assert expected == "Authentication credentials were not provided."


def test_an_unknown_api_path_answers_404_in_russian(api):
    response = api.get("/api/no/such/thing/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 404
    assert response.json()["detail"] == in_russian(exceptions.NotFound.default_detail)
    assert response.json()["detail"] != in_english(exceptions.NotFound.default_detail)


# --- the admin -------------------------------------------------------------------------------------


DASHBOARD_HEADINGS_RU = ["Записей сегодня", "Загрузка на этой неделе", "Записи по дням", "Загрузка по врачам"]
DASHBOARD_HEADINGS_EN = [
    "Appointments today",
    "Utilisation this week",
    "Appointments per day",
    "Utilisation per doctor",
]


def test_the_admin_dashboard_is_in_russian_by_accept_language(staff_client, dr_carol):
    SlotFactory(doctor=dr_carol)

    html = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    with translation.override("ru"):
        assert str(Timetable._meta.verbose_name_plural).capitalize() in html
        assert str(User._meta.verbose_name_plural).capitalize() in html
    for heading in DASHBOARD_HEADINGS_RU:
        assert heading in html
    assert "Расписание" in html  # the Timetable, in the menu and the app list
    assert "Сводка" in html  # the top menu's Dashboard link
    for heading in DASHBOARD_HEADINGS_EN:
        assert heading not in html
    assert '<html lang="ru"' in html


def test_the_admin_follows_the_language_cookie(staff_client):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    html = staff_client.get("/admin/").content.decode()

    for heading in DASHBOARD_HEADINGS_RU:
        assert heading in html


def test_the_admin_is_in_english_by_default(staff_client):
    html = staff_client.get("/admin/").content.decode()

    for heading in DASHBOARD_HEADINGS_EN:
        assert heading in html
    assert "Timetable" in html
    assert "Записей сегодня" not in html


def test_the_timetable_changelist_is_in_russian(staff_client, dr_carol, alice):
    SlotFactory(doctor=dr_carol, client=alice)
    SlotFactory(doctor=dr_carol)

    html = staff_client.get("/admin/appointments/timetable/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    with translation.override("ru"):
        expected = [
            str(Timetable._meta.verbose_name),
            str(Timetable._meta.get_field("start_time").verbose_name).capitalize(),
            str(Timetable._meta.get_field("client").verbose_name).capitalize(),
        ]
    for text in expected:
        assert text in html
    assert "Выберите слот для изменения" in html  # Django's "Select %s to change" with our model name
    assert "Записать выбранного пациента на отмеченные слоты" in html  # an admin action
    assert ">свободен<" in html and ">занят<" in html  # the status badges


def test_an_admin_action_message_uses_russian_plurals(staff_client, alice, bob):
    response = staff_client.post(
        "/admin/staff/user/",
        {"action": "block_users", "_selected_action": [alice.pk, bob.pk], "index": 0},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    messages = [str(message) for message in response.context["messages"]]
    assert "Заблокировано 2 пользователя." in messages


# --- role labels and plural forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "russian", "english"),
    [
        pytest.param(Role.PATIENT, "пациент", "patient", id="patient"),
        pytest.param(Role.DOCTOR, "врач", "doctor", id="doctor"),
        pytest.param(Role.ADMINISTRATOR, "администратор", "administrator", id="administrator"),
    ],
)
def test_role_labels_translate(role, russian, english):
    assert in_russian(role.label) == russian
    assert in_english(role.label) == english
    # The stored value is the group name and never changes with the language.
    with translation.override("ru"):
        assert role.value == english


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(1, "Заблокирован 1 пользователь.", id="1"),
        pytest.param(2, "Заблокировано 2 пользователя.", id="2"),
        pytest.param(4, "Заблокировано 4 пользователя.", id="4"),
        pytest.param(5, "Заблокировано 5 пользователей.", id="5"),
        pytest.param(11, "Заблокировано 11 пользователей.", id="11"),
        pytest.param(12, "Заблокировано 12 пользователей.", id="12"),
        pytest.param(21, "Заблокирован 21 пользователь.", id="21"),
        pytest.param(22, "Заблокировано 22 пользователя.", id="22"),
        pytest.param(111, "Заблокировано 111 пользователей.", id="111"),
    ],
)
def test_russian_has_three_plural_forms(count, expected):
    with translation.override("ru"):
        assert ngettext("%d user blocked.", "%d users blocked.", count) % count == expected


def test_an_unknown_language_falls_back_to_english(api, alice):
    response = login_attempt(api, HTTP_ACCEPT_LANGUAGE="de")
    assert response.json()["detail"] == "Unable to log in with the provided credentials."


# --- the catalogue ---------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda match: escapes.get(match.group(1), match.group(1)), text)


def po_entries(path: Path = PO_FILE) -> list[dict]:
    """A minimal .po reader: each entry's flags, msgid, msgid_plural and msgstr / msgstr[n]."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry: dict[str, Any] = {"flags": set(), "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line):
                key = match.group(1)
                entry[key] = _unquote(match.group(2))
            elif key and (match := re.match(r'^"(.*)"$', line)):
                entry[key] += _unquote(match.group(1))
        if "msgid" in entry or entry["obsolete"]:
            entries.append(entry)
    return entries


def _messages(entries):
    return [entry for entry in entries if entry.get("msgid") and not entry["obsolete"]]


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}")


def test_the_catalogue_header_is_russian_with_three_plural_forms():
    header = next(entry for entry in po_entries() if entry.get("msgid") == "")
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")
    assert "fuzzy" not in header["flags"]
    assert "Language: ru\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "nplurals=3;" in header["msgstr"]


def test_every_message_is_translated_and_none_is_fuzzy_or_obsolete():
    entries = po_entries()
    messages = _messages(entries)
    assert len(messages) > 150  # the parser really read the catalogue

    untranslated = [
        entry["msgid"]
        for entry in messages
        if not all(value.strip() for key, value in entry.items() if key.startswith("msgstr"))
        or ("msgid_plural" in entry and not all(f"msgstr[{n}]" in entry for n in range(3)))
    ]
    fuzzy = [entry["msgid"] for entry in messages if "fuzzy" in entry["flags"]]
    obsolete = [entry for entry in entries if entry["obsolete"]]
    assert untranslated == [], "translate these in locale/ru/LC_MESSAGES/django.po"
    assert fuzzy == [], "check these and remove their fuzzy flag"
    assert obsolete == [], "makemessages left obsolete (#~) entries: delete them"


def test_every_translation_keeps_the_placeholders():
    wrong = []
    for entry in _messages(po_entries()):
        for key, value in entry.items():
            if not key.startswith("msgstr"):
                continue
            source = entry["msgid_plural"] if key not in ("msgstr", "msgstr[0]") else entry["msgid"]
            if sorted(PLACEHOLDER.findall(value)) != sorted(PLACEHOLDER.findall(source)):
                wrong.append((entry["msgid"], key, value))
    assert wrong == []


def test_the_compiled_catalogue_matches_the_po_file():
    """django.mo is committed: it must be compiled from the current django.po (run compilemessages)."""
    with MO_FILE.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for entry in _messages(po_entries()):
        if "msgctxt" in entry:
            continue
        if "msgid_plural" in entry:
            for n, count in enumerate((1, 2, 5)):
                if compiled.ngettext(entry["msgid"], entry["msgid_plural"], count) != entry[f"msgstr[{n}]"]:
                    stale.append(entry["msgid"])
        elif compiled.gettext(entry["msgid"]) != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert stale == [], "django.mo is out of date: run manage.py compilemessages"
