"""Filters of the slot and appointment lists; dates are clinic-local and inclusive."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from .models import Timetable
from .selectors import in_local_dates

DATE_RANGE_REVERSED = _("date_from must not be after date_to.")


class DateRangeForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_from", DATE_RANGE_REVERSED)
        return cleaned


class LocalDateRangeFilterSet(filters.FilterSet):
    date_from = filters.DateFilter(method="filter_dates", label=_("from date (YYYY-MM-DD, clinic-local)"))
    date_to = filters.DateFilter(method="filter_dates", label=_("to date (YYYY-MM-DD, clinic-local, inclusive)"))

    def filter_dates(self, queryset, name, value):
        # Both bounds are applied together in filter_queryset, as one local-day interval.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        return in_local_dates(queryset, data.get("date_from"), data.get("date_to"))


class SlotFilter(LocalDateRangeFilterSet):
    doctor = filters.NumberFilter(field_name="doctor_id")
    free = filters.BooleanFilter(field_name="client", lookup_expr="isnull")

    class Meta:
        model = Timetable
        form = DateRangeForm
        fields = ["doctor", "free", "date_from", "date_to"]


class AppointmentFilter(LocalDateRangeFilterSet):
    doctor = filters.NumberFilter(field_name="doctor_id")
    patient = filters.NumberFilter(field_name="client_id")
    conflict = filters.BooleanFilter()

    class Meta:
        model = Timetable
        form = DateRangeForm
        fields = ["doctor", "patient", "conflict", "date_from", "date_to"]
