"""Every model registered in the admin x every kind of caller -> the expected status.

Built from the admin site's registry, as the API's matrix is built from the URL conf: a model
registered without an entry here fails. For each model: its changelist, add page, an object's
change and delete pages, and each action, for a superuser, an administrator (the role), a doctor,
a patient and an anonymous caller. Every refused write (a POST to add, change, delete or an
action) must leave every table as it was.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from knox.models import AuthToken

from appointments import services as appointment_services
from appointments.tests.factories import AbsenceFactory, ScheduleFactory, SlotFactory
from staff.models import User
from staff.roles import Role
from staff.services import roles_ensure, user_update
from staff.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CALLERS = ("superuser", "administrator", "doctor", "patient", "anonymous")
CLINIC = {"superuser": 200, "administrator": 200}
SYSTEM = {"superuser": 200, "administrator": 403}
NOBODY = {"superuser": 403, "administrator": 403}

# label -> (changelist, add, change, delete) for the superuser and the administrator; doctors,
# patients and anonymous callers are sent to the login page (302) everywhere. A read-only page's
# "change" is a view (200) for whoever may view.
MATRIX = {
    "staff.User": (CLINIC, CLINIC, CLINIC, CLINIC),
    "staff.AuditEvent": (CLINIC, NOBODY, CLINIC, NOBODY),
    "appointments.Doctor": (CLINIC, NOBODY, CLINIC, NOBODY),
    "appointments.Specialty": (CLINIC, CLINIC, CLINIC, CLINIC),
    "appointments.Timetable": (CLINIC, NOBODY, CLINIC, NOBODY),
    "appointments.Absence": (CLINIC, NOBODY, CLINIC, NOBODY),
    # Added and deleted through the services; a closure's own page is read-only (a view).
    "appointments.Closure": (CLINIC, CLINIC, CLINIC, CLINIC),
    "appointments.AppointmentEvent": (CLINIC, NOBODY, CLINIC, NOBODY),
    # One row, made by a migration: changed, never added or deleted.
    "appointments.ClinicBookingRules": (CLINIC, NOBODY, CLINIC, NOBODY),
    "auth.Group": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "knox.AuthToken": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "django_celery_beat.PeriodicTask": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "django_celery_beat.ClockedSchedule": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "django_celery_beat.CrontabSchedule": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "django_celery_beat.SolarSchedule": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    "django_celery_beat.IntervalSchedule": (SYSTEM, SYSTEM, SYSTEM, SYSTEM),
    # Administrators view lockouts and delete one to unlock a person; the logs are the system's.
    "axes.AccessAttempt": (CLINIC, NOBODY, CLINIC, CLINIC),
    "axes.AccessLog": (SYSTEM, NOBODY, SYSTEM, SYSTEM),
    "axes.AccessFailureLog": (SYSTEM, NOBODY, SYSTEM, SYSTEM),
}

# label -> action -> who may run it (the others are not offered it, and posting it changes nothing)
ACTIONS = {
    "staff.User": {"block_users": {"superuser", "administrator"}, "unblock_users": {"superuser", "administrator"}},
    "appointments.Specialty": {"delete_selected": {"superuser", "administrator"}},
    "appointments.Timetable": {
        "book_for_patient": {"superuser", "administrator"},
        "cancel_appointments": {"superuser", "administrator"},
        "mark_arrived": {"superuser", "administrator"},
        "mark_fulfilled": {"superuser", "administrator"},
        "mark_no_show": {"superuser", "administrator"},
    },
    "appointments.Closure": {"delete_selected": {"superuser", "administrator"}},
    "auth.Group": {"delete_selected": {"superuser"}},
    "knox.AuthToken": {"delete_selected": {"superuser"}},
    "django_celery_beat.PeriodicTask": {
        "delete_selected": {"superuser"},
        "enable_tasks": {"superuser"},
        "disable_tasks": {"superuser"},
        "toggle_tasks": {"superuser"},
        "run_tasks": {"superuser"},
    },
    "django_celery_beat.ClockedSchedule": {"delete_selected": {"superuser"}},
    "django_celery_beat.CrontabSchedule": {"delete_selected": {"superuser"}},
    "django_celery_beat.SolarSchedule": {"delete_selected": {"superuser"}},
    "django_celery_beat.IntervalSchedule": {"delete_selected": {"superuser"}},
    "axes.AccessAttempt": {
        "delete_selected": {"superuser", "administrator"},
        "cleanup_expired_attempts": {"superuser", "administrator"},
    },
    "axes.AccessLog": {"delete_selected": {"superuser"}},
    "axes.AccessFailureLog": {"delete_selected": {"superuser"}},
}


@pytest.fixture
def world(db):
    """One row of every registered model, and a user of each kind."""
    roles_ensure()
    people = {
        "superuser": User.objects.create_superuser("root", "root@clinic.example", PASSWORD),
        "administrator": UserFactory(username="desk", roles=[Role.ADMINISTRATOR]),
        "doctor": UserFactory(username="dr_carol", roles=[Role.DOCTOR]),
        "patient": UserFactory(username="alice", roles=[Role.PATIENT]),
    }
    doctor, patient = people["doctor"], people["patient"]
    ScheduleFactory(doctor=doctor)
    AbsenceFactory(doctor=doctor)
    appointment_services.closure_create(
        date_from=timezone.localdate() + timedelta(days=30),
        date_to=timezone.localdate() + timedelta(days=31),
        reason="x",
    )
    cardiology = appointment_services.specialty_create(name="Cardiologist")
    appointment_services.doctor_specialties_set(doctor=doctor, specialties=[cardiology])
    slot = SlotFactory(doctor=doctor, start_time=timezone.now() + timedelta(days=2))
    appointment_services.slot_book(slot_id=slot.pk, patient=patient)
    user_update(user=patient, email="alice.ivanova@clinic.example")  # an audit row
    AuthToken.objects.create(patient)
    AccessAttempt.objects.create(username="alice", ip_address="10.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="alice", ip_address="10.0.0.1")
    AccessFailureLog.objects.create(username="alice", ip_address="10.0.0.1")
    interval = IntervalSchedule.objects.get_or_create(every=10, period=IntervalSchedule.SECONDS)[0]
    CrontabSchedule.objects.create(minute="0")
    SolarSchedule.objects.create(event="sunrise", latitude=55.75, longitude=37.62)
    ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=1))
    PeriodicTask.objects.create(name="matrix", task="appointments.generate_slots_sweep", interval=interval)
    return people


def client_for(who: str, world) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(world[who], backend="django.contrib.auth.backends.ModelBackend")
    return client


def obj_of(model, world):
    if model is User:
        return world["patient"]
    if model is Group:
        return Group.objects.get(name=Role.PATIENT)
    if model._meta.label == "appointments.Doctor":
        return model.objects.get(pk=world["doctor"].pk)
    return model._default_manager.order_by("pk").first()


def snapshot() -> dict:
    """Every row of every registered model (and the role memberships), to compare after a refusal."""
    rows: dict[str, list] = {
        model._meta.label: sorted(map(repr, model._default_manager.values())) for model in admin.site._registry
    }
    rows["groups"] = sorted(User.groups.through.objects.values_list("user_id", "group_id"))
    return rows


def urls(model, obj) -> dict:
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    return {
        "changelist": reverse(f"{info}_changelist"),
        "add": reverse(f"{info}_add"),
        "change": reverse(f"{info}_change", args=[obj.pk]),
        "delete": reverse(f"{info}_delete", args=[obj.pk]),
    }


def test_every_registered_model_is_in_the_matrix():
    registered = {model._meta.label for model in admin.site._registry}

    assert registered == set(MATRIX), f"add {registered - set(MATRIX)} to the matrix; drop {set(MATRIX) - registered}"


@pytest.mark.parametrize("label", sorted(MATRIX))
@pytest.mark.parametrize("who", CALLERS)
def test_admin_pages_answer_each_caller_as_the_matrix_says(world, label, who):
    model = next(model for model in admin.site._registry if model._meta.label == label)
    obj = obj_of(model, world)
    assert obj is not None, f"the world has no {label}"
    client = client_for(who, world)

    for view, expected in zip(("changelist", "add", "change", "delete"), MATRIX[label], strict=True):
        url = urls(model, obj)[view]
        response = client.get(url)
        status = expected.get(who, 302)
        assert response.status_code == status, f"{who} GET {view} of {label}: {response.status_code}, not {status}"
        if status == 302:
            assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("label", sorted(MATRIX))
@pytest.mark.parametrize("who", CALLERS)
def test_every_refused_write_changes_nothing(world, label, who):
    model = next(model for model in admin.site._registry if model._meta.label == label)
    obj = obj_of(model, world)
    client = client_for(who, world)
    before = snapshot()

    for view, expected in zip(("add", "change", "delete"), MATRIX[label][1:], strict=True):
        if expected.get(who, 302) == 200:
            continue
        response = client.post(urls(model, obj)[view], {"post": "yes", "name": "x", "username": "x"})
        assert response.status_code in (302, 403), f"{who} POST {view} of {label}: {response.status_code}"
    for action, allowed in ACTIONS.get(label, {}).items():
        if who in allowed:
            continue
        client.post(
            urls(model, obj)["changelist"], {"action": action, "_selected_action": [obj.pk], "index": 0, "post": "yes"}
        )

    assert snapshot() == before


@pytest.mark.parametrize("label", sorted(ACTIONS))
@pytest.mark.parametrize("who", ["superuser", "administrator"])
def test_each_caller_is_offered_exactly_the_actions_they_may_run(world, label, who):
    model = next(model for model in admin.site._registry if model._meta.label == label)
    page = client_for(who, world).get(urls(model, obj_of(model, world))["changelist"])
    if page.status_code == 403:
        offered = set()
    else:
        offered = {name for name, _label in page.context["action_form"].fields["action"].choices if name}

    assert offered == {action for action, allowed in ACTIONS[label].items() if who in allowed}
