"""User admin: roles and active state at a glance, block and unblock through the services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import User
from .roles import Role


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
class UserAdmin(DjangoUserAdmin):
    add_form = HospitalUserCreationForm
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
            services.user_block(user=user)
            blocked += 1
        self.message_user(
            request, ngettext("%d user blocked.", "%d users blocked.", blocked) % blocked, messages.SUCCESS
        )

    @admin.action(description=_("Unblock selected users"))
    def unblock_users(self, request, queryset):
        count = 0
        for user in queryset:
            services.user_unblock(user=user)
            count += 1
        self.message_user(
            request, ngettext("%d user unblocked.", "%d users unblocked.", count) % count, messages.SUCCESS
        )
