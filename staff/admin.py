"""User admin: roles and active state at a glance, block and unblock through the services, CSV import/export."""

import contextvars

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin, ImportExportMixin
from knox.models import AuthToken

from hospital.admin_base import AllOrNothingImportMixin, ReadOnlyAdmin, service_each
from hospital.imports import FILE_FORMATS

from . import services
from .models import NAME_FIELDS, PERSON_FIELDS, PERSONAL_DATA_FIELDS, AuditEvent, User
from .resources import AuditEventResource, PatientResource, UserResource
from .roles import ROLES_REQUIRED, Role


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.with_role(self.value())
        return queryset


class ActorFormMixin:
    """The form knows who submits it (UserAdmin.get_form sets it), to ask the services' rule."""

    actor: User | None = None

    def refuse(self, refusal) -> None:
        if refusal is not None:
            raise forms.ValidationError(refusal.message, code=refusal.code)


def role_names(groups) -> list[str]:
    return sorted(group.name for group in groups or ())


class RolesRequiredMixin:
    """At least one role, as the API asks (a user without one can do nothing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "groups" in self.fields:
            self.fields["groups"].required = True
            self.fields["groups"].error_messages["required"] = ROLES_REQUIRED


class HospitalUserCreationForm(ActorFormMixin, RolesRequiredMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", *PERSONAL_DATA_FIELDS, "groups")

    def clean(self):
        cleaned = super().clean()
        if "groups" in cleaned:
            self.refuse(services.user_manage_refusal(actor=self.actor, groups=role_names(cleaned["groups"])))
        return cleaned


class HospitalUserChangeForm(ActorFormMixin, RolesRequiredMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", *PERSONAL_DATA_FIELDS, "groups", "is_active")  # type: ignore[assignment]

    def clean(self):
        cleaned = super().clean()
        user = self.instance  # still as stored: the form's values reach it after clean()
        groups = role_names(cleaned["groups"]) if "groups" in self.changed_data and "groups" in cleaned else None
        self.refuse(services.user_manage_refusal(actor=self.actor, user=user, groups=groups))
        if "is_active" in self.changed_data and not cleaned.get("is_active"):
            self.refuse(services.user_block_refusal(actor=self.actor, user=user))
        return cleaned


class HospitalPasswordChangeForm(AdminPasswordChangeForm):
    """Sets the password through the service (which revokes the user's API tokens and audits)."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        # Disabling password login is blocking the user, which has its own action.
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = self.fields["password2"].required = True

    def save(self, commit=True):
        return services.user_update(user=self.user, password=self.cleaned_data["password1"], actor=_actor.get())


# Who submits the password form: the admin instantiates it without the request.
_actor: contextvars.ContextVar[User | None] = contextvars.ContextVar("admin_actor", default=None)


@admin.register(User)
class UserAdmin(AllOrNothingImportMixin, ImportExportMixin, DjangoUserAdmin):
    """Users, written only through staff.services: the same rules and side effects as the API."""

    add_form = HospitalUserCreationForm
    form = HospitalUserChangeForm
    change_password_form = HospitalPasswordChangeForm
    formats = FILE_FORMATS
    list_display = ("username", "full_name", "roles", "sex", "birth_date", "is_active")
    list_filter = (RoleFilter, "is_active", "sex", "is_superuser")
    search_fields = ("username", *NAME_FIELDS, "email")
    ordering = ("last_name", "first_name")
    actions = ("block_users", "unblock_users")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal data"), {"fields": PERSONAL_DATA_FIELDS}),
        # is_staff follows the administrator role and is_superuser is set only by createsuperuser
        # (DJANGO_SUPERUSER_*): shown, never edited here. Permissions come from the role groups.
        (_("Roles and access"), {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2", *PERSONAL_DATA_FIELDS, "groups"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            # The three roles, no other group: permissions come only with a role.
            kwargs["queryset"] = Group.objects.filter(name__in=Role.values).order_by("name")
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            # Role groups show their translated label ("врач").
            field.label_from_instance = lambda group: str(Role(group.name).label)
        return field

    def has_change_permission(self, request, obj=None):
        if obj is not None and services.user_manage_refusal(actor=request.user, user=obj) is not None:
            return False  # shown read-only; a POST is a 403
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (
            obj.pk == request.user.pk or services.user_manage_refusal(actor=request.user, user=obj)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting in bulk would skip the per-user rule and side effects: one at a time, by the service.
        actions.pop("delete_selected", None)
        return actions

    def save_form(self, request, form, change):
        # The add form's save() would hash the password (slow with Argon2) and user_create hashes it
        # again: the service alone builds the new user.
        return form.instance if not change else super().save_form(request, form, change)

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Deleting a user deletes their API tokens, which administrators may not manage one by one:
        # user_delete revokes them itself, so they need no permission of their own.
        perms_needed.discard(str(AuthToken._meta.verbose_name))
        return to_delete, model_count, perms_needed, protected

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            user = services.user_create(
                **{name: data.get(name) or "" for name in PERSON_FIELDS if name != "birth_date"},
                birth_date=data.get("birth_date"),
                password=data["password1"],
                groups=role_names(data["groups"]),
                actor=request.user,
            )
            # The admin goes on with `obj` (its history entry, the redirect): make it the created user.
            obj.pk, obj._state.adding, obj._state.db = user.pk, False, user._state.db
            return
        user = User.objects.get(pk=obj.pk)
        fields = {name: data[name] for name in PERSON_FIELDS if name in form.changed_data}
        groups = role_names(data["groups"]) if "groups" in form.changed_data else None
        if fields or groups is not None:
            user = services.user_update(user=user, groups=groups, actor=request.user, **fields)
        if "is_active" in form.changed_data:
            block = services.user_unblock if data["is_active"] else services.user_block
            block(user=user, actor=request.user)

    def save_related(self, request, form, formsets, change):
        """Nothing: the roles were set by the service in save_model (the page has no inlines)."""

    def delete_model(self, request, obj):
        services.user_delete(user=obj, actor=request.user)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and not self.has_change_permission(request, user):
            raise PermissionDenied
        token = _actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _actor.reset(token)

    def get_import_resource_classes(self, request):
        # Patients only: doctors (a schedule besides the person) are imported on the Doctors page.
        return [PatientResource]

    def get_export_resource_classes(self, request):
        return [UserResource]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The Timetable's "book for a patient" picker searches here: offer active patients only.
        if request.GET.get("model_name") == "timetable" and request.GET.get("field_name") == "client":
            queryset = queryset.filter(is_active=True).patients()
        return queryset, may_have_duplicates

    @admin.display(description=_("full name"), ordering="last_name")
    def full_name(self, user):
        return user.full_name

    @admin.display(description=_("roles"))
    def roles(self, user):
        return ", ".join(str(Role(name).label) for name in sorted(user.role_names) if name in Role.values)

    @admin.action(description=_("Block selected users"))
    def block_users(self, request, queryset):
        done = self._each(request, queryset, services.user_block)
        if done:
            self.message_user(request, ngettext("%d user blocked.", "%d users blocked.", done) % done, messages.SUCCESS)

    @admin.action(description=_("Unblock selected users"))
    def unblock_users(self, request, queryset):
        done = self._each(request, queryset, services.user_unblock)
        if done:
            message = ngettext("%d user unblocked.", "%d users unblocked.", done) % done
            self.message_user(request, message, messages.SUCCESS)

    def _each(self, request, queryset, service) -> int:
        """Run the service on each user; report by name what it refused; return how many it did."""
        done, refused = service_each(queryset, lambda user: service(user=user, actor=request.user))
        for user, refusal in refused:
            self.message_user(request, f"{user}: {refusal.message}", messages.ERROR)
        return done


@admin.register(AuditEvent)
class AuditEventAdmin(ExportMixin, ReadOnlyAdmin):
    """The audit trail: read-only for everyone, exportable."""

    formats = FILE_FORMATS
    resource_classes = [AuditEventResource]
    list_display = ("at", "action", "target_repr", "target_type", "target_id", "actor")
    list_filter = ("action", "target_type")
    date_hierarchy = "at"
    search_fields = ("target_repr", "actor__username")
    list_select_related = ("actor",)
    readonly_fields = ("at", "actor", "action", "target_type", "target_id", "target_repr", "changes")
    show_full_result_count = False
