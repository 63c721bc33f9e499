"""User admin: roles and active state at a glance, block and unblock through the services, CSV import/export."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin, ImportExportMixin

from hospital.admin_base import ReadOnlyAdmin

from . import services
from .models import AuditEvent, User
from .resources import FILE_FORMATS, AuditEventResource, PatientResource, UserResource, problems_of
from .roles import Role

IMPORT_ABORTED = _("Nothing was imported: the file has errors. Correct them and import it again.")


class AllOrNothingImportMixin:
    """Import-export's preview-and-confirm flow, where a file with any bad row writes nothing.

    The resources roll the whole import back on any error (see PersonResource.import_data); this
    reports it instead of import-export's "Import finished" and returns to the import page.
    """

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        # Jazzmin's import page lists `fields`, a name import-export 4 no longer fills (it has
        # `fields_list`): give it the columns so the page says what the file needs.
        context = getattr(response, "context_data", None)
        if context is not None and "fields" not in context:
            listed = context.get("fields_list", [])
            context["fields"] = (
                [", ".join(columns) for _name, columns in listed]
                if len(listed) == 1
                else [f"{name}: {', '.join(columns)}" for name, columns in listed]
            )
            context["fields"] += [str(line) for line in self.import_notes]
        return response

    #: Lines added under the columns on the import page.
    import_notes = ()

    def process_result(self, result, request):
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        for problem in problems_of(result):
            messages.error(request, str(problem))
        messages.error(request, IMPORT_ABORTED)
        app_label, model_name = self.get_model_info()
        url = reverse(f"admin:{app_label}_{model_name}_import", current_app=self.admin_site.name)
        return HttpResponseRedirect(url)


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.with_role(self.value())
        return queryset


class HospitalUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = (
            "username",
            "last_name",
            "first_name",
            "middle_name",
            "sex",
            "birth_date",
            "email",
            "groups",
        )


@admin.register(User)
class UserAdmin(AllOrNothingImportMixin, ImportExportMixin, DjangoUserAdmin):
    add_form = HospitalUserCreationForm
    formats = FILE_FORMATS
    list_display = ("username", "full_name", "roles", "sex", "birth_date", "is_active")
    list_filter = (RoleFilter, "is_active", "sex", "is_superuser")
    search_fields = ("username", "last_name", "first_name", "middle_name", "email")
    ordering = ("last_name", "first_name")
    actions = ("block_users", "unblock_users")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal data"),
            {"fields": ("last_name", "first_name", "middle_name", "sex", "birth_date", "email")},
        ),
        (
            _("Roles and access"),
            {"fields": ("groups", "is_active", "is_staff", "is_superuser", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "last_name",
                    "first_name",
                    "middle_name",
                    "sex",
                    "birth_date",
                    "email",
                    "groups",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            # Role groups show their translated label ("врач"), other groups their name.
            field.label_from_instance = lambda group: (
                str(Role(group.name).label) if group.name in Role.values else group.name
            )
        return field

    def get_import_resource_classes(self, request):
        # Imported lazily: the doctors' resource belongs to appointments, which imports staff.
        from appointments.importing import DoctorResource

        return [PatientResource, DoctorResource]

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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        user.__dict__.pop("role_names", None)
        # Administrators reach the admin; keep is_staff in step with the role.
        if user.is_administrator and not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)

    @admin.action(description=_("Block selected users"))
    def block_users(self, request, queryset):
        blocked = 0
        for user in queryset.exclude(pk=request.user.pk):
            services.user_block(user=user, actor=request.user)
            blocked += 1
        self.message_user(
            request, ngettext("%d user blocked.", "%d users blocked.", blocked) % blocked, messages.SUCCESS
        )

    @admin.action(description=_("Unblock selected users"))
    def unblock_users(self, request, queryset):
        count = 0
        for user in queryset:
            services.user_unblock(user=user, actor=request.user)
            count += 1
        self.message_user(
            request, ngettext("%d user unblocked.", "%d users unblocked.", count) % count, messages.SUCCESS
        )


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
