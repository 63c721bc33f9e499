"""What the appointments admin pages share."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from staff.models import User


class DoctorListFilter(admin.SimpleListFilter):
    """Doctors by name (the doctor group only, not every user who ever had a slot)."""

    title = _("doctor")
    parameter_name = "doctor"

    def lookups(self, request, model_admin):
        return [(doctor.pk, str(doctor)) for doctor in User.objects.doctors().order_by("last_name", "first_name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit() and len(value) < 19:
            return queryset.filter(doctor_id=int(value))
        return queryset
