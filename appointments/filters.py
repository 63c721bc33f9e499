"""Filters of the slot and appointment lists; dates are clinic-local and inclusive."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from hospital.filters import BooleanFilter, DateFilter, IdFilter, StrictFilterForm

from .models import AppointmentStatus, Timetable
from .selectors import free_slots_bookable_now, in_local_dates

DATE_RANGE_REVERSED = _("date_from must not be after date_to.")

# A local day at the very ends of the calendar has no UTC bounds (Python's datetime stops at years
# 1 and 9999). No slot is anywhere near them, so a bound beyond these days filters nothing more.
EARLIEST_DAY = datetime.date.min + datetime.timedelta(days=2)
LATEST_DAY = datetime.date.max - datetime.timedelta(days=2)


def date_range_clamp(date_from, date_to):
    """Keep a clinic-local date range within the days that have UTC bounds; results do not change."""
    if date_from is not None:
        date_from = None if date_from < EARLIEST_DAY else min(date_from, LATEST_DAY)
    if date_to is not None:
        date_to = None if date_to > LATEST_DAY else max(date_to, EARLIEST_DAY)
    return date_from, date_to


class DateRangeForm(StrictFilterForm):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            # The same code as the serializers' check, so both kinds of list say it alike.
            self.add_error("date_from", ValidationError(DATE_RANGE_REVERSED, code="date_range"))
        return cleaned


class LocalDateRangeFilterSet(filters.FilterSet):
    date_from = DateFilter(method="filter_dates", label=_("from date (YYYY-MM-DD, clinic-local)"))
    date_to = DateFilter(method="filter_dates", label=_("to date (YYYY-MM-DD, clinic-local, inclusive)"))

    def filter_dates(self, queryset, name, value):
        # Both bounds are applied together in filter_queryset, as one local-day interval.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        return in_local_dates(queryset, *date_range_clamp(data.get("date_from"), data.get("date_to")))


class SlotFilter(LocalDateRangeFilterSet):
    doctor = IdFilter(field_name="doctor_id")
    # free=true: the slots a patient could book now (free, beyond the doctor's minimum notice).
    free = BooleanFilter(method="filter_free")

    class Meta:
        model = Timetable
        form = DateRangeForm
        fields = ["doctor", "free", "date_from", "date_to"]

    def filter_free(self, queryset, name, value):
        if value:
            return free_slots_bookable_now(queryset)
        return queryset.filter(client__isnull=False)


@extend_schema_field({"type": "string", "enum": AppointmentStatus.values})
class StatusFilter(filters.ChoiceFilter):
    """Appointments in one status (a free slot has none, so it is never one of them)."""


class AppointmentFilter(LocalDateRangeFilterSet):
    doctor = IdFilter(field_name="doctor_id")
    patient = IdFilter(field_name="client_id")
    conflict = BooleanFilter()
    status = StatusFilter(choices=AppointmentStatus.choices)

    class Meta:
        model = Timetable
        form = DateRangeForm
        fields = ["doctor", "patient", "conflict", "status", "date_from", "date_to"]
