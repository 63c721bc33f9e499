"""The clinic's booking rules: one page, saved through the rules service (a doctor's are on the doctor page)."""

from django.contrib import admin

from appointments import rules
from appointments.models import RULE_FIELDS, ClinicBookingRules


@admin.register(ClinicBookingRules)
class ClinicBookingRulesAdmin(admin.ModelAdmin):
    """One row, created by a migration: it is changed, never added twice or deleted."""

    fields = (*RULE_FIELDS, "updated_at")
    readonly_fields = ("updated_at",)
    list_display = ("__str__", *RULE_FIELDS, "updated_at")
    list_display_links = ("__str__",)

    def has_add_permission(self, request):
        # Only should the row be missing (it never is after migrating): then it can be made here.
        return super().has_add_permission(request) and not ClinicBookingRules.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rules.clinic_rules_update(**{name: form.cleaned_data[name] for name in RULE_FIELDS})
