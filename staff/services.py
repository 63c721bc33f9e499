"""Writes with rules for people and access: create, update, block, unblock, roles."""

from datetime import date

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from knox.models import AuthToken

from .models import User
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
    return user


UPDATABLE_FIELDS = ("username", "last_name", "first_name", "middle_name", "sex", "birth_date", "email")


@transaction.atomic
def user_update(*, user: User, password: str | None = None, groups: list[str] | None = None, **fields) -> User:
    """Change personal data, roles or password; a new password revokes every token."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"user_update() got fields it may not change: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
    user.save()
    if password:
        tokens_revoke(user=user)
    if groups is not None:
        _set_roles(user, groups)
        from appointments.services import doctor_availability_changed

        doctor_availability_changed(user=user)
    return user


@transaction.atomic
def user_block(*, user: User) -> User:
    """Deactivate the user, revoke their tokens and release their future appointments."""
    from appointments.services import appointments_release_for_patient, doctor_availability_changed

    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    tokens_revoke(user=user)
    appointments_release_for_patient(patient=user)
    doctor_availability_changed(user=user)
    return user


@transaction.atomic
def user_unblock(*, user: User) -> User:
    from appointments.services import doctor_availability_changed

    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    doctor_availability_changed(user=user)
    return user
