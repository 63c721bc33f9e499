"""Writes with rules for people and access: create, update, block, unblock, roles."""

from datetime import date

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from knox.models import AuthToken

from .models import AuditAction, AuditEvent, User
from .roles import Role

# Apps whose models administrators manage in the admin.
ADMINISTRATOR_APPS = ("staff", "appointments", "auth", "django_celery_beat", "knox")


def roles_ensure() -> list[Group]:
    """Create the three role groups (idempotent) and give administrators the admin permissions."""
    groups = [Group.objects.get_or_create(name=role.value)[0] for role in Role]
    administrators = Group.objects.get(name=Role.ADMINISTRATOR)
    administrators.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMINISTRATOR_APPS))
    return groups


def _set_roles(user: User, roles: list[str]) -> None:
    user.groups.set(Group.objects.filter(name__in=roles))
    user.__dict__.pop("role_names", None)
    # The admin is open to administrators; superusers keep their flag whatever their roles.
    user.is_staff = user.is_superuser or Role.ADMINISTRATOR in roles
    user.save(update_fields=["is_staff"])


def audit_record(*, actor: User | None, action: str, target, changes: dict | None = None) -> AuditEvent:
    """Append one row to the audit trail; `target` is any model instance."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.model_name,
        target_id=target.pk,
        target_repr=str(target)[:300],
        changes=changes or {},
    )


def _audit_value(value):
    return value.isoformat() if isinstance(value, date) else value


def tokens_purge_expired() -> int:
    """Delete expired API tokens (they are refused anyway; this keeps the table small)."""
    from django.utils import timezone

    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


def tokens_revoke(*, user: User) -> int:
    """Delete every API token of the user; their next request gets 401."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    last_name: str,
    first_name: str,
    sex: str,
    birth_date: date,
    groups: list[str],
    middle_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    user = User(
        username=username,
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        sex=sex,
        birth_date=birth_date,
        email=email,
    )
    user.set_password(password)
    user.save()
    _set_roles(user, groups)
    audit_record(
        actor=actor,
        action=AuditAction.USER_CREATED,
        target=user,
        changes={
            **{name: [None, _audit_value(getattr(user, name))] for name in UPDATABLE_FIELDS},
            "groups": [None, sorted(groups)],
        },
    )
    return user


UPDATABLE_FIELDS = ("username", "last_name", "first_name", "middle_name", "sex", "birth_date", "email")


@transaction.atomic
def user_update(
    *,
    user: User,
    password: str | None = None,
    groups: list[str] | None = None,
    actor: User | None = None,
    **fields,
) -> User:
    """Change personal data, roles or password; a new password revokes every token."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"user_update() got fields it may not change: {sorted(unknown)}")
    changes = {
        name: [_audit_value(getattr(user, name)), _audit_value(value)]
        for name, value in fields.items()
        if getattr(user, name) != value
    }
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
        changes["password"] = ["***", "***"]  # that it changed, never what it is
    user.save()
    if password:
        tokens_revoke(user=user)
    if groups is not None:
        old_groups = sorted(user.role_names)
        if old_groups != sorted(groups):
            changes["groups"] = [old_groups, sorted(groups)]
        _set_roles(user, groups)
        from appointments.services import doctor_availability_changed

        doctor_availability_changed(user=user)
    if changes:
        audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=user, changes=changes)
    return user


@transaction.atomic
def user_block(*, user: User, actor: User | None = None) -> User:
    """Deactivate the user, revoke their tokens and release their future appointments."""
    from appointments.services import appointments_release_for_patient, doctor_availability_changed

    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    tokens_revoke(user=user)
    released = appointments_release_for_patient(patient=user, actor=actor)
    doctor_availability_changed(user=user)
    audit_record(actor=actor, action=AuditAction.USER_BLOCKED, target=user, changes={"appointments_released": released})
    return user


@transaction.atomic
def user_unblock(*, user: User, actor: User | None = None) -> User:
    from appointments.services import doctor_availability_changed

    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    doctor_availability_changed(user=user)
    audit_record(actor=actor, action=AuditAction.USER_UNBLOCKED, target=user)
    return user
