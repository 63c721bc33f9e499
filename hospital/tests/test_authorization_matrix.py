"""Every API route in the URL conf x every kind of caller -> the expected status.

The routes are read from the URL conf: a new route (or method) without an entry here fails.
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from appointments.models import (
    Absence,
    AppointmentEvent,
    ClinicBookingRules,
    Closure,
    DateOverride,
    DoctorBookingRules,
    DoctorSchedule,
    DoctorSpecialty,
    Specialty,
    Timetable,
)
from appointments.services import doctor_specialties_set, specialty_create
from staff.models import User

pytestmark = pytest.mark.django_db

CALLERS = ["anonymous", "patient", "other_patient", "doctor", "other_doctor", "administrator", "blocked"]
METHODS = ("get", "post", "put", "patch", "delete")
PASSWORD = "a long and unusual passphrase 42"

ANY_AUTHENTICATED = {"patient": 200, "other_patient": 200, "doctor": 200, "other_doctor": 200, "administrator": 200}


def only(role_status: dict, default: int) -> dict:
    statuses = dict.fromkeys(["patient", "other_patient", "doctor", "other_doctor", "administrator"], default)
    statuses.update(role_status)
    return statuses


ADMINISTRATOR_ONLY = only({"administrator": 200}, 403)

# (url name, method) -> statuses by caller; anonymous and blocked callers get 401 unless listed.
MATRIX = {
    ("token", "post"): dict.fromkeys(CALLERS, 400),  # wrong credentials, whoever asks
    ("token-logout", "post"): only({}, 204),
    ("me", "get"): ANY_AUTHENTICATED,
    ("user-create", "post"): only({"administrator": 201}, 403),
    ("user-update", "patch"): ADMINISTRATOR_ONLY,
    ("user-update", "put"): ADMINISTRATOR_ONLY,
    ("user-blocking", "post"): ADMINISTRATOR_ONLY,
    ("user-blocking", "delete"): ADMINISTRATOR_ONLY,
    ("user-list", "get"): ADMINISTRATOR_ONLY,
    ("user-detail", "get"): ADMINISTRATOR_ONLY,
    ("doctor-free-slots", "get"): ANY_AUTHENTICATED,
    ("appointment-book", "post"): only({"patient": 201, "other_patient": 201}, 403),
    # The slot is the patient's: another patient gets 404 (and the slot is unchanged).
    ("appointment-undo", "post"): only({"patient": 200, "other_patient": 404}, 403),
    ("doctor-list", "get"): ANY_AUTHENTICATED,
    ("doctor-detail", "get"): ANY_AUTHENTICATED,
    ("doctor-schedule", "get"): ANY_AUTHENTICATED,
    ("doctor-schedule", "put"): ADMINISTRATOR_ONLY,
    ("doctor-absences", "get"): ANY_AUTHENTICATED,
    ("doctor-absences", "post"): only({"administrator": 201}, 403),
    ("doctor-absence-detail", "delete"): only({"administrator": 204}, 403),
    ("doctor-date-overrides", "get"): ANY_AUTHENTICATED,
    # The doctor's own and the administrators'; anyone else is refused by role, not told "not found".
    ("doctor-availability", "get"): only({"doctor": 200, "administrator": 200}, 403),
    ("doctor-date-override-detail", "put"): ADMINISTRATOR_ONLY,
    ("doctor-date-override-detail", "delete"): only({"administrator": 204}, 403),
    ("closure-list", "get"): ANY_AUTHENTICATED,
    ("closure-list", "post"): only({"administrator": 201}, 403),
    ("closure-detail", "delete"): only({"administrator": 204}, 403),
    ("slot-list", "get"): ANY_AUTHENTICATED,
    ("slot-next", "get"): ANY_AUTHENTICATED,
    ("specialty-list", "get"): ANY_AUTHENTICATED,
    ("appointment-list", "get"): ANY_AUTHENTICATED,
    ("statistics-entries", "get"): only({"patient": 403, "other_patient": 403}, 200),
    ("statistics-utilisation", "get"): only({"patient": 403, "other_patient": 403}, 200),
    ("statistics-outcomes", "get"): only({"patient": 403, "other_patient": 403}, 200),
    # Outcomes: administrators on any appointment, the slot's doctor on theirs; another doctor gets
    # 404 (not theirs), patients 403 (role).
    ("appointment-arrive", "post"): only({"doctor": 200, "administrator": 200, "other_doctor": 404}, 403),
    ("appointment-fulfil", "post"): only({"doctor": 200, "administrator": 200, "other_doctor": 404}, 403),
    ("appointment-no-show", "post"): only({"doctor": 200, "administrator": 200, "other_doctor": 404}, 403),
    ("appointment-cancel", "post"): only({"doctor": 200, "administrator": 200, "other_doctor": 404}, 403),
    ("booking-rules", "get"): ANY_AUTHENTICATED,
    ("booking-rules", "put"): ADMINISTRATOR_ONLY,
    ("doctor-booking-rules", "get"): ANY_AUTHENTICATED,
    ("doctor-booking-rules", "put"): ADMINISTRATOR_ONLY,
    # Public documentation (an invalid token is still refused).
    ("schema", "get"): {**dict.fromkeys(CALLERS, 200), "blocked": 401},
    ("swagger-ui", "get"): {**dict.fromkeys(CALLERS, 200), "blocked": 401},
    ("redoc", "get"): {**dict.fromkeys(CALLERS, 200), "blocked": 401},
}


def _api_routes():
    """(name, method) of every route under /api/, read from the URL conf."""
    found = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            if not isinstance(pattern, URLPattern) or not (prefix + str(pattern.pattern)).startswith("api/"):
                continue
            callback = pattern.callback
            if getattr(callback, "is_slash_alias", False):
                continue
            actions = getattr(callback, "actions", None)
            if actions:
                methods = set(actions) & set(METHODS)  # DRF adds "head" to the dict once served
            else:
                view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                methods = {method for method in METHODS if hasattr(view_class, method)}
            found.update((pattern.name, method) for method in methods)

    walk(get_resolver().url_patterns)
    return found


def test_every_api_route_has_an_entry_and_every_entry_a_route():
    assert _api_routes() == set(MATRIX)


@pytest.fixture
def world(alice, bob, dr_carol, dr_dave, admin_user, blocked_user):
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)
    schedule = DoctorSchedule.objects.create(doctor=dr_carol)
    free = Timetable.objects.create(doctor=dr_carol, start_time=start, stop_time=start + datetime.timedelta(minutes=20))
    later = start + datetime.timedelta(hours=2)
    alices = Timetable.objects.create(
        doctor=dr_carol,
        client=alice,
        start_time=later,
        stop_time=later + datetime.timedelta(minutes=20),
        status="booked",
    )
    # Alice's appointments in each state an outcome step starts from.
    arrived = Timetable.objects.create(
        doctor=dr_carol,
        client=alice,
        start_time=later + datetime.timedelta(hours=1),
        stop_time=later + datetime.timedelta(hours=1, minutes=20),
        status="arrived",
    )
    earlier = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    missed = Timetable.objects.create(
        doctor=dr_carol,
        client=alice,
        start_time=earlier,
        stop_time=earlier + datetime.timedelta(minutes=20),
        status="booked",
    )
    absence = Absence.objects.create(
        doctor=dr_carol, start=start + datetime.timedelta(days=3), end=start + datetime.timedelta(days=4)
    )
    override_day = timezone.localdate() + datetime.timedelta(days=5)
    DateOverride.objects.create(doctor=dr_carol, date=override_day, intervals=[])
    closure = Closure.objects.create(date_from=override_day, date_to=override_day, reason="Holiday")
    specialty = specialty_create(name="Cardiologist")
    doctor_specialties_set(doctor=dr_carol, specialties=[specialty])
    users = {
        "patient": alice,
        "other_patient": bob,
        "doctor": dr_carol,
        "other_doctor": dr_dave,
        "administrator": admin_user,
        "blocked": blocked_user,
    }
    return {
        "users": users,
        "schedule": schedule,
        "free": free,
        "alices": alices,
        "arrived": arrived,
        "missed": missed,
        "absence": absence,
        "override_day": override_day,
        "closure": closure,
        "specialty": specialty,
        "target": bob,
    }


def _request(world, name, method):
    carol = world["users"]["doctor"]
    target = world["target"]
    user_body = {
        "username": "zoe",
        "password": PASSWORD,
        "last_name": "Z",
        "first_name": "Zoe",
        "sex": "female",
        "birth_date": "1999-09-09",
        "groups": ["patient"],
    }
    paths = {
        "token": ("/api/token", {"username": "nobody", "password": "x"}),
        "token-logout": ("/api/token/logout", None),
        "me": ("/api/me", None),
        "user-create": ("/api/user/create", user_body),
        "user-update": (
            f"/api/user/update/{target.pk}",
            {**user_body, "username": target.username} if method == "put" else {"first_name": "Robert"},
        ),
        "user-blocking": (f"/api/user/blocking/{target.pk}", None),
        "user-list": ("/api/users/", None),
        "user-detail": (f"/api/users/{target.pk}/", None),
        "doctor-free-slots": (f"/api/doctor/slots/get/{carol.pk}", None),
        "appointment-book": (f"/api/doctor/appointment/{world['free'].pk}", None),
        "appointment-undo": (f"/api/doctor/appointment/undo/{world['alices'].pk}", None),
        "doctor-list": ("/api/doctors/", None),
        "doctor-detail": (f"/api/doctors/{carol.pk}/", None),
        "doctor-schedule": (
            f"/api/doctors/{carol.pk}/schedule",
            {"slot_minutes": 30, "horizon_days": 7, "working_hours": []},
        ),
        "doctor-absences": (
            f"/api/doctors/{carol.pk}/absences",
            {"kind": "break", "start": "2030-01-01T12:00:00Z", "end": "2030-01-01T13:00:00Z"},
        ),
        "doctor-absence-detail": (f"/api/doctors/{carol.pk}/absences/{world['absence'].pk}", None),
        "doctor-date-overrides": (f"/api/doctors/{carol.pk}/date-overrides", None),
        "doctor-availability": (f"/api/doctors/{carol.pk}/availability?date={world['override_day']}", None),
        "doctor-date-override-detail": (
            f"/api/doctors/{carol.pk}/date-overrides/{world['override_day']}",
            {"intervals": [{"start": "09:00", "end": "12:00"}]},
        ),
        "closure-list": ("/api/closures", {"date_from": "2030-01-01", "date_to": "2030-01-02", "reason": "Holiday"}),
        "closure-detail": (f"/api/closures/{world['closure'].pk}", None),
        "slot-list": ("/api/slots/", None),
        "slot-next": (f"/api/slots/next?doctor={carol.pk}&specialty={world['specialty'].pk}", None),
        "specialty-list": ("/api/specialties/", None),
        "appointment-list": ("/api/appointments/", None),
        "statistics-entries": ("/api/doctor/entries/all", None),
        "statistics-utilisation": ("/api/stats/utilisation", None),
        "statistics-outcomes": ("/api/stats/outcomes", None),
        "appointment-arrive": (f"/api/appointments/{world['alices'].pk}/arrive", None),
        "appointment-fulfil": (f"/api/appointments/{world['arrived'].pk}/fulfil", None),
        "appointment-no-show": (f"/api/appointments/{world['missed'].pk}/no-show", None),
        "appointment-cancel": (f"/api/appointments/{world['alices'].pk}/cancel", {"reason": "The doctor is ill"}),
        "booking-rules": (
            "/api/booking-rules",
            {
                "min_notice_minutes": 60,
                "cancel_cutoff_minutes": 120,
                "max_active_per_patient": 3,
                "max_per_patient_per_day": 1,
            }
            if method == "put"
            else None,
        ),
        "doctor-booking-rules": (
            f"/api/doctors/{carol.pk}/booking-rules",
            {
                "min_notice_minutes": 30,
                "cancel_cutoff_minutes": None,
                "max_active_per_patient": None,
                "max_per_patient_per_day": 2,
            }
            if method == "put"
            else None,
        ),
        "schema": ("/api/schema/", None),
        "swagger-ui": ("/api/docs/", None),
        "redoc": ("/api/redoc/", None),
    }
    return paths[name]


def _client(world, caller):
    client = APIClient()
    if caller != "anonymous":
        _, token = AuthToken.objects.create(world["users"][caller])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _snapshot(world):
    """Rows the request must not touch when it is refused."""
    return (
        list(User.objects.order_by("pk").values()),
        list(Timetable.objects.order_by("pk").values()),
        list(Absence.objects.order_by("pk").values()),
        list(DoctorSchedule.objects.order_by("pk").values()),
        list(Specialty.objects.order_by("pk").values()),
        list(DoctorSpecialty.objects.order_by("pk").values()),
        list(ClinicBookingRules.objects.values()),
        list(DoctorBookingRules.objects.values()),
        list(DateOverride.objects.order_by("pk").values()),
        list(Closure.objects.order_by("pk").values()),
        AppointmentEvent.objects.count(),
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("name", "method"), sorted(MATRIX), ids=[f"{m.upper()} {n}" for n, m in sorted(MATRIX)])
def test_access(world, caller, name, method):
    expected = MATRIX[(name, method)].get(caller, 401)
    path, body = _request(world, name, method)
    client = _client(world, caller)
    before = _snapshot(world)
    response = getattr(client, method)(path, body, format="json")
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        # A refused request changes nothing (login bookkeeping aside).
        assert _snapshot(world) == before


def test_another_patients_appointment_is_404_and_unchanged(world):
    client = _client(world, "other_patient")
    slot = world["alices"]
    assert client.post(f"/api/doctor/appointment/undo/{slot.pk}").status_code == 404
    slot.refresh_from_db()
    assert slot.client == world["users"]["patient"]
    assert client.post(f"/api/doctor/appointment/{slot.pk}").status_code == 409
    slot.refresh_from_db()
    assert slot.client == world["users"]["patient"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("anonymous", 302), ("patient", 302), ("doctor", 302), ("administrator", 200)],
)
def test_the_admin_site_is_for_administrators_only(client, world, caller, expected):
    if caller != "anonymous":
        client.force_login(world["users"][caller])
    response = client.get("/admin/")
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")
