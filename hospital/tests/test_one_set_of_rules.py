"""The admin writes through the same services as the API, with the same side effects.

Each test does in the admin what an administrator does, then asserts the state the service leaves:
tokens, appointments, slots, audit rows and the number of regeneration tasks enqueued (`==`).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from knox.models import AuthToken

from appointments.models import Absence, DoctorSchedule, Timetable
from appointments.services import SLOT_NOT_FOUND
from appointments.tests.factories import AbsenceFactory, ScheduleFactory, SlotFactory
from appointments.tests.test_admin import doctor_form, doctor_url
from staff.models import AuditAction, AuditEvent, User
from staff.roles import Role
from staff.services import roles_ensure
from staff.tests.factories import PASSWORD, UserFactory
from staff.tests.test_escalation import change_form

pytestmark = pytest.mark.django_db


def audit(action, target) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=target.pk))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def role_ids(*roles) -> list[int]:
    return list(Group.objects.filter(name__in=roles).values_list("pk", flat=True))


def test_unticking_active_blocks_the_user_as_the_api_does(staff_client, admin_user, alice, dr_carol, sent, on_commit):
    slot = SlotFactory(doctor=dr_carol, client=alice, start_time=timezone.now() + timedelta(days=1))
    AuthToken.objects.create(alice)

    with on_commit:
        response = staff_client.post(f"/admin/staff/user/{alice.pk}/change/", change_form(alice, is_active=""))

    assert response.status_code == 302
    assert not User.objects.get(pk=alice.pk).is_active
    assert Timetable.objects.get(pk=slot.pk).client_id is None
    assert not AuthToken.objects.filter(user=alice).exists()
    [event] = audit(AuditAction.USER_BLOCKED, alice)
    assert event.actor == admin_user and event.changes == {"appointments_released": 1}
    assert sent == []  # a patient has no slots to regenerate


def test_ticking_active_unblocks_the_user(staff_client, admin_user, blocked_user, sent, on_commit):
    with on_commit:
        response = staff_client.post(
            f"/admin/staff/user/{blocked_user.pk}/change/", change_form(blocked_user, is_active="on")
        )

    assert response.status_code == 302
    assert User.objects.get(pk=blocked_user.pk).is_active
    assert [event.actor for event in audit(AuditAction.USER_UNBLOCKED, blocked_user)] == [admin_user]
    assert sent == []


def block_action(client, action: str, *users):
    return client.post(
        "/admin/staff/user/", {"action": action, "_selected_action": [user.pk for user in users], "index": 0}
    )


def test_the_block_action_blocks_as_the_api_does(staff_client, admin_user, alice, dr_carol, bob, sent, on_commit):
    ScheduleFactory(doctor=dr_carol)
    booked = SlotFactory(doctor=dr_carol, client=alice, start_time=timezone.now() + timedelta(days=1))
    free = SlotFactory(doctor=dr_carol, start_time=timezone.now() + timedelta(days=2))
    for user in (alice, dr_carol, bob):
        AuthToken.objects.create(user)

    with on_commit:
        response = block_action(staff_client, "block_users", alice, dr_carol)

    assert response.status_code == 302
    assert not User.objects.get(pk=alice.pk).is_active and not User.objects.get(pk=dr_carol.pk).is_active
    assert Timetable.objects.get(pk=booked.pk).client_id is None
    assert set(AuthToken.objects.values_list("user_id", flat=True)) == {bob.pk}
    [patient_event] = audit(AuditAction.USER_BLOCKED, alice)
    [doctor_event] = audit(AuditAction.USER_BLOCKED, dr_carol)
    assert patient_event.actor == doctor_event.actor == admin_user
    assert patient_event.changes == {"appointments_released": 1}
    assert doctor_event.changes == {"appointments_released": 0}
    assert sent.doctor_ids == [dr_carol.pk]  # once, for the one doctor with a schedule
    # The blocked doctor's free slot is refused at once, before the worker regenerates.
    booking = staff_client.post(
        "/admin/appointments/timetable/",
        {"action": "book_for_patient", "_selected_action": [free.pk], "index": 0, "patient": bob.pk},
        follow=True,
    )
    assert Timetable.objects.get(pk=free.pk).client_id is None
    assert str(SLOT_NOT_FOUND) in " ".join(messages_of(booking))


def test_the_unblock_action_unblocks_as_the_api_does(staff_client, admin_user, dr_carol, blocked_user, sent, on_commit):
    ScheduleFactory(doctor=dr_carol)
    User.objects.filter(pk=dr_carol.pk).update(is_active=False)

    with on_commit:
        response = block_action(staff_client, "unblock_users", blocked_user, dr_carol)

    assert response.status_code == 302
    assert User.objects.get(pk=blocked_user.pk).is_active and User.objects.get(pk=dr_carol.pk).is_active
    assert [event.actor for event in audit(AuditAction.USER_UNBLOCKED, blocked_user)] == [admin_user]
    assert [event.actor for event in audit(AuditAction.USER_UNBLOCKED, dr_carol)] == [admin_user]
    assert not AuthToken.objects.exists()  # unblocking gives back no token: people log in again
    assert sent.doctor_ids == [dr_carol.pk]


def test_removing_the_doctor_role_closes_the_doctors_slots_at_once(
    staff_client, login, dr_carol, alice, sent, on_commit
):
    ScheduleFactory(doctor=dr_carol)
    slot = SlotFactory(doctor=dr_carol, start_time=timezone.now() + timedelta(days=1))

    with on_commit:
        response = staff_client.post(
            f"/admin/staff/user/{dr_carol.pk}/change/", change_form(dr_carol, groups=role_ids(Role.PATIENT))
        )

    assert response.status_code == 302
    assert sent.doctor_ids == [dr_carol.pk]
    booking = login(alice).post(f"/api/doctor/appointment/{slot.pk}")
    assert (booking.status_code, booking.json()["code"]) == (404, "slot_not_found")
    assert Timetable.objects.get(pk=slot.pk).client_id is None
    [event] = audit(AuditAction.USER_CHANGED, dr_carol)
    assert event.changes["groups"] == [["doctor"], ["patient"]]


def test_a_user_added_in_the_admin_is_created_by_the_service(staff_client, admin_user, sent, on_commit):
    with on_commit:
        response = staff_client.post(
            "/admin/staff/user/add/",
            {
                "username": "n.orlova",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "last_name": "Orlova",
                "first_name": "Nina",
                "sex": "female",
                "birth_date": "1990-02-03",
                "groups": role_ids(Role.PATIENT),
            },
        )

    assert response.status_code == 302
    user = User.objects.get(username="n.orlova")
    assert user.check_password(PASSWORD) and user.role_names == {"patient"} and not user.is_staff
    [event] = audit(AuditAction.USER_CREATED, user)
    assert event.actor == admin_user and event.changes["groups"] == [None, ["patient"]]
    assert not AuthToken.objects.filter(user=user).exists() and sent == []


def test_is_staff_follows_the_administrator_role_both_ways(client, db):
    roles_ensure()
    root = User.objects.create_superuser("root", "root@clinic.example", PASSWORD)
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    colleague = UserFactory(username="colleague", roles=[Role.ADMINISTRATOR])
    assert colleague.is_staff

    # The staff box as the page showed it (ticked): the role decides, not the box.
    response = client.post(
        f"/admin/staff/user/{colleague.pk}/change/",
        change_form(colleague, groups=role_ids(Role.DOCTOR), is_staff="on"),
    )

    assert response.status_code == 302
    assert not User.objects.get(pk=colleague.pk).is_staff


def test_an_administrator_cannot_block_themselves_in_the_admin_either(staff_client, admin_user):
    form = staff_client.post(f"/admin/staff/user/{admin_user.pk}/change/", change_form(admin_user, is_active=""))
    action = staff_client.post(
        "/admin/staff/user/", {"action": "block_users", "_selected_action": [admin_user.pk], "index": 0}, follow=True
    )

    assert form.status_code == 200
    assert "You cannot block yourself." in str(form.context["adminform"].form.errors)
    assert "You cannot block yourself." in " ".join(messages_of(action))
    assert User.objects.get(pk=admin_user.pk).is_active
    assert not audit(AuditAction.USER_BLOCKED, admin_user)


def test_the_block_action_reports_what_it_refused(staff_client, alice, db):
    colleague = UserFactory(username="colleague", roles=[Role.ADMINISTRATOR])

    response = staff_client.post(
        "/admin/staff/user/",
        {"action": "block_users", "_selected_action": [alice.pk, colleague.pk], "index": 0},
        follow=True,
    )

    assert not User.objects.get(pk=alice.pk).is_active
    assert User.objects.get(pk=colleague.pk).is_active
    text = " ".join(messages_of(response))
    assert "1 user blocked." in text and str(colleague) in text


def absence_row(days: int, **extra) -> dict:
    start = timezone.localtime(timezone.now() + timedelta(days=days)).replace(hour=10, minute=0, second=0)
    end = start + timedelta(hours=2)
    return {
        "kind": "break",
        "start_0": f"{start:%Y-%m-%d}",
        "start_1": f"{start:%H:%M:%S}",
        "end_0": f"{end:%Y-%m-%d}",
        "end_1": f"{end:%H:%M:%S}",
        "comment": "",
        **extra,
    }


def test_saving_a_doctor_page_with_three_new_absences_enqueues_one_regeneration(
    staff_client, dr_carol, sent, on_commit
):
    rows = [absence_row(days) for days in (3, 4, 5)]

    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form(absences=rows))

    assert response.status_code == 302
    assert Absence.objects.filter(doctor=dr_carol).count() == 3
    assert AuditEvent.objects.filter(action=AuditAction.ABSENCE_CREATED).count() == 3
    assert sent.doctor_ids == [dr_carol.pk]


def test_an_edited_absence_is_updated_in_place_by_the_service(staff_client, admin_user, dr_carol, sent, on_commit):
    absence = AbsenceFactory(doctor=dr_carol, comment="old")
    row = absence_row(6, id=absence.pk, doctor=dr_carol.pk, comment="new")

    with on_commit:
        response = staff_client.post(doctor_url(dr_carol), doctor_form(absences=[row], initial_absences=1))

    assert response.status_code == 302
    [kept] = Absence.objects.filter(doctor=dr_carol)
    assert (kept.pk, kept.comment) == (absence.pk, "new")
    [event] = AuditEvent.objects.filter(action=AuditAction.ABSENCE_CHANGED)
    assert event.actor == admin_user and event.changes["comment"] == ["old", "new"]
    assert not AuditEvent.objects.filter(action__in=[AuditAction.ABSENCE_CREATED, AuditAction.ABSENCE_DELETED])
    assert sent.doctor_ids == [dr_carol.pk]


def test_reading_a_schedule_writes_nothing(login, alice, dr_carol):
    response = login(alice).get(f"/api/doctors/{dr_carol.pk}/schedule")

    assert response.status_code == 200
    assert response.json()["working_hours"] == []
    assert not DoctorSchedule.objects.filter(doctor=dr_carol).exists()


def test_a_doctor_who_lost_the_role_offers_no_slot_even_before_regeneration(login, admin_user, alice, dr_carol):
    slot = SlotFactory(doctor=dr_carol, start_time=timezone.now() + timedelta(days=1))
    # The API's role change, with the broker never reached: the slot row is still there.
    assert (
        login(admin_user).patch(f"/api/user/update/{dr_carol.pk}", {"groups": ["patient"]}, format="json").status_code
        == 200
    )
    assert Timetable.objects.filter(pk=slot.pk).exists()
    patient = login(alice)

    response = patient.post(f"/api/doctor/appointment/{slot.pk}")

    assert (response.status_code, response.json()["code"]) == (404, "slot_not_found")
    # Nor is the slot offered anywhere, as for a blocked doctor.
    assert patient.get(f"/api/doctor/slots/get/{dr_carol.pk}").status_code == 404
    assert patient.get("/api/slots/", {"free": "true"}).json()["results"] == []


def test_changing_roles_keeps_a_group_that_is_not_a_role(client, db):
    roles_ensure()
    root = User.objects.create_superuser("root", "root@clinic.example", PASSWORD)
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    ops = UserFactory(username="ops", roles=[Role.PATIENT])
    ops.groups.add(Group.objects.create(name="ops"))

    response = client.post(f"/admin/staff/user/{ops.pk}/change/", change_form(ops, groups=role_ids(Role.DOCTOR)))

    assert response.status_code == 302
    assert set(User.objects.get(pk=ops.pk).groups.values_list("name", flat=True)) == {"doctor", "ops"}
    [event] = audit(AuditAction.USER_CHANGED, ops)
    assert event.changes["groups"] == [["patient"], ["doctor"]]
