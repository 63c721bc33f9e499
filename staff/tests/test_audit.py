"""The audit trail: who created, changed, blocked and unblocked users, schedules and absences."""

import pytest

from staff.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase 42"


def actions(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("at", "id").values_list("action", flat=True))


def test_user_lifecycle_is_recorded_with_the_actor(admin_api, admin_user):
    created = admin_api.post(
        "/api/user/create",
        {
            "username": "zoe",
            "password": PASSWORD,
            "last_name": "Zaitseva",
            "first_name": "Zoe",
            "sex": "female",
            "birth_date": "1999-09-09",
            "groups": ["patient"],
        },
        format="json",
    ).json()
    admin_api.patch(
        f"/api/user/update/{created['id']}", {"last_name": "Orlova", "password": PASSWORD + "!"}, format="json"
    )
    admin_api.post(f"/api/user/blocking/{created['id']}")
    admin_api.delete(f"/api/user/blocking/{created['id']}")

    assert actions(target_type="user", target_id=created["id"]) == [
        AuditAction.USER_CREATED,
        AuditAction.USER_CHANGED,
        AuditAction.USER_BLOCKED,
        AuditAction.USER_UNBLOCKED,
    ]
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {admin_user.pk}
    change = AuditEvent.objects.get(action=AuditAction.USER_CHANGED)
    assert change.changes["last_name"] == ["Zaitseva", "Orlova"]
    assert change.changes["password"] == ["***", "***"]


def test_no_password_or_hash_is_ever_recorded(admin_api, alice):
    admin_api.patch(f"/api/user/update/{alice.pk}", {"password": PASSWORD}, format="json")
    alice.refresh_from_db()
    for event in AuditEvent.objects.all():
        text = str(event.changes)
        assert PASSWORD not in text
        assert alice.password not in text


def test_an_update_that_changes_nothing_records_nothing(admin_api, alice):
    admin_api.patch(f"/api/user/update/{alice.pk}", {"last_name": alice.last_name}, format="json")
    assert not AuditEvent.objects.exists()


def test_schedule_and_absence_changes_are_recorded(admin_api, admin_user, dr_carol):
    admin_api.put(
        f"/api/doctors/{dr_carol.pk}/schedule",
        {"slot_minutes": 30, "horizon_days": 7, "working_hours": [{"weekday": 0, "start": "09:00", "end": "12:00"}]},
        format="json",
    )
    absence = admin_api.post(
        f"/api/doctors/{dr_carol.pk}/absences",
        {"kind": "vacation", "start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"},
        format="json",
    ).json()
    admin_api.delete(f"/api/doctors/{dr_carol.pk}/absences/{absence['id']}")

    assert actions() == [AuditAction.SCHEDULE_CHANGED, AuditAction.ABSENCE_CREATED, AuditAction.ABSENCE_DELETED]
    schedule_event = AuditEvent.objects.get(action=AuditAction.SCHEDULE_CHANGED)
    assert schedule_event.changes["slot_minutes"] == [20, 30]
    assert schedule_event.changes["working_hours"] == [[], ["0:09:00-12:00"]]
    assert schedule_event.actor == admin_user


def test_the_audit_trail_is_read_only_and_exportable_in_the_admin(staff_client, admin_api, alice):
    admin_api.patch(f"/api/user/update/{alice.pk}", {"last_name": "Orlova"}, format="json")
    event = AuditEvent.objects.get()
    listing = staff_client.get("/admin/staff/auditevent/")
    assert listing.status_code == 200
    assert "Orlova" in listing.content.decode() or str(alice) in listing.content.decode()
    assert staff_client.get("/admin/staff/auditevent/add/").status_code == 403
    assert staff_client.post(f"/admin/staff/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    columns = ("at", "actor", "action", "target_type", "target_id", "target_repr", "changes")
    export = staff_client.post(
        "/admin/staff/auditevent/export/",
        {"format": "0", "resource": "0", **{f"auditeventresource_{column}": "on" for column in columns}},
    )
    assert export.status_code == 200
    assert "user_changed" in export.content.decode()
