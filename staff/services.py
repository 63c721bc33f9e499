"""Writes with rules for people and access: create, update, block, unblock, roles."""

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken

from hospital.errors import ServiceError

from .models import PERSON_FIELDS, USERNAME_TAKEN, AuditAction, AuditEvent, User
from .roles import Role
from .signals import user_access_changed, user_blocked

# What administrators manage: the clinic's people, schedules and appointments, and the lockouts
# of people who mistyped their password (viewing and deleting an access attempt unlocks it). The
# system (groups and permissions, API tokens, periodic tasks, login logs) is the superusers'.
ADMINISTRATOR_APPS = ("staff", "appointments")
ADMINISTRATOR_PERMISSIONS = (("axes", "view_accessattempt"), ("axes", "delete_accessattempt"))

PROTECTED_USER = _("Only a superuser can change, block or delete a superuser or another administrator.")
ADMINISTRATOR_ROLE_REFUSED = _("Only a superuser can give or take the administrator role.")
CANNOT_BLOCK_SELF = _("You cannot block yourself.")
CANNOT_DELETE_SELF = _("You cannot delete yourself.")


class ProtectedUser(ServiceError):
    status = 403
    code = "protected_user"
    message = PROTECTED_USER


class AdministratorRoleRefused(ServiceError):
    status = 403
    code = "administrator_role_refused"
    message = ADMINISTRATOR_ROLE_REFUSED


class UsernameTaken(ServiceError):
    code = "unique"
    message = USERNAME_TAKEN


def _save_user(user: User) -> None:
    """Save; a username another user holds in any case (a concurrent create) is a 400, not a 500."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        if "username" in str(error):
            raise UsernameTaken() from error
        raise


class CannotBlockSelf(ServiceError):
    code = "cannot_block_self"
    message = CANNOT_BLOCK_SELF


class CannotDeleteSelf(ServiceError):
    code = "cannot_delete_self"
    message = CANNOT_DELETE_SELF


def roles_ensure() -> list[Group]:
    """Create the three role groups (idempotent) and give administrators exactly their permissions."""
    groups = [Group.objects.get_or_create(name=role.value)[0] for role in Role]
    administrators = Group.objects.get(name=Role.ADMINISTRATOR)
    extra = Q()
    for app_label, codename in ADMINISTRATOR_PERMISSIONS:
        extra |= Q(content_type__app_label=app_label, codename=codename)
    administrators.permissions.set(Permission.objects.filter(Q(content_type__app_label__in=ADMINISTRATOR_APPS) | extra))
    return groups


def user_is_protected(user: User) -> bool:
    """Superusers, administrators and any account with access beyond a role (staff status, its own
    permissions, or a group that is not a role): people only a superuser manages."""
    if user.is_superuser or user.is_staff or user.has_role(Role.ADMINISTRATOR):
        return True
    return user.user_permissions.exists() or user.groups.exclude(name__in=Role.values).exists()


def user_manage_refusal(
    *, actor: User | None, user: User | None = None, groups: Iterable[str] | None = None
) -> ServiceError | None:
    """The one rule of who manages whom, for the API, the admin and imports alike.

    A superuser (or the system: no actor) manages anyone. An administrator who is not a superuser
    manages patients and doctors, and their own data, but not a superuser or another
    administrator, and cannot give or take the administrator role (`groups`: the roles asked for).
    """
    if actor is None or actor.is_superuser:
        return None
    if user is not None and user.pk is not None and user.pk != actor.pk and user_is_protected(user):
        return ProtectedUser()
    if groups is not None:
        current = user.role_names if user is not None and user.pk is not None else frozenset()
        if (Role.ADMINISTRATOR in set(groups)) != (Role.ADMINISTRATOR in current):
            return AdministratorRoleRefused()
    return None


def user_manage_check(*, actor: User | None, user: User | None = None, groups: Iterable[str] | None = None) -> None:
    refusal = user_manage_refusal(actor=actor, user=user, groups=groups)
    if refusal is not None:
        raise refusal


def user_block_refusal(*, actor: User | None, user: User) -> ServiceError | None:
    if actor is not None and actor.pk == user.pk:
        return CannotBlockSelf()
    return user_manage_refusal(actor=actor, user=user)


def _set_roles(user: User, roles: list[str]) -> None:
    """Make the user's role groups exactly `roles`; any other group (a superuser's doing) stays."""
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups.exclude(name__in=roles))
    user.groups.add(*role_groups.filter(name__in=roles))
    user.__dict__.pop("role_names", None)
    # The admin is open to administrators; superusers keep their flag whatever their roles.
    user.is_staff = user.is_superuser or Role.ADMINISTRATOR in roles
    user.save(update_fields=["is_staff"])


def audit_record(*, actor: User | None, action: str, target: Model, changes: dict | None = None) -> AuditEvent:
    """Append one row to the audit trail; `target` is any model instance.

    The type is the table's: a proxy's row (a doctor as the admin's doctor page has it) is a user.
    """
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=(target._meta.concrete_model or type(target))._meta.model_name or "",
        target_id=target.pk,
        target_repr=str(target)[:300],
        changes=changes or {},
    )


def _audit_value(value: object) -> object:
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
    user_manage_check(actor=actor, groups=groups)
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
    _save_user(user)
    _set_roles(user, groups)
    audit_record(
        actor=actor,
        action=AuditAction.USER_CREATED,
        target=user,
        changes={
            **{name: [None, _audit_value(getattr(user, name))] for name in PERSON_FIELDS},
            "groups": [None, sorted(groups)],
        },
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    password: str | None = None,
    groups: list[str] | None = None,
    actor: User | None = None,
    **fields: object,
) -> User:
    """Change personal data, roles or password; a new password revokes every token."""
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"user_update() got fields it may not change: {sorted(unknown)}")
    user_manage_check(actor=actor, user=user, groups=groups)
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
    _save_user(user)
    if password:
        tokens_revoke(user=user)
    if groups is not None:
        old_groups = sorted(name for name in user.role_names if name in Role.values)
        if old_groups != sorted(groups):
            changes["groups"] = [old_groups, sorted(groups)]
        _set_roles(user, groups)
        user_access_changed.send(sender=User, user=user, actor=actor)
    if changes:
        audit_record(actor=actor, action=AuditAction.USER_CHANGED, target=user, changes=changes)
    return user


@transaction.atomic
def user_block(*, user: User, actor: User | None = None) -> User:
    """Deactivate the user, revoke their tokens and (through user_blocked) release their future appointments."""
    refusal = user_block_refusal(actor=actor, user=user)
    if refusal is not None:
        raise refusal
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    tokens_revoke(user=user)
    released = sum(int(count or 0) for _receiver, count in user_blocked.send(sender=User, user=user, actor=actor))
    user_access_changed.send(sender=User, user=user, actor=actor)
    audit_record(actor=actor, action=AuditAction.USER_BLOCKED, target=user, changes={"appointments_released": released})
    return user


@transaction.atomic
def user_unblock(*, user: User, actor: User | None = None) -> User:
    user_manage_check(actor=actor, user=user)
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    user_access_changed.send(sender=User, user=user, actor=actor)
    audit_record(actor=actor, action=AuditAction.USER_UNBLOCKED, target=user)
    return user


@transaction.atomic
def user_delete(*, user: User, actor: User | None = None) -> None:
    """Delete a user (the admin's delete): blocked first, so that tokens and appointments go as on a block."""
    if actor is not None and actor.pk == user.pk:
        raise CannotDeleteSelf()
    user_manage_check(actor=actor, user=user)
    if user.is_active:
        user_block(user=user, actor=actor)
    audit_record(actor=actor, action=AuditAction.USER_DELETED, target=user, changes={"username": [user.username, None]})
    user.delete()
