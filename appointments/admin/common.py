"""What the appointments admin pages share."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hospital.filters import id_parse
from staff.models import User


class DoctorListFilter(admin.SimpleListFilter):
    """Doctors by name (the doctor group only, not every user who ever had a slot)."""

    title = _("doctor")
    parameter_name = "doctor"

    def lookups(self, request, model_admin):
        return [(doctor.pk, str(doctor)) for doctor in User.objects.doctors().order_by("last_name", "first_name")]

    def queryset(self, request, queryset):
        doctor_id = id_parse(self.value())
        if doctor_id is not None:
            return queryset.filter(doctor_id=doctor_id)
        return queryset
