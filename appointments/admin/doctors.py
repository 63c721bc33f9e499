"""The doctor's page: specialties, slot length, horizon, weekly hours, date overrides and absences, the coming week,
the load chart.

Saving hands everything to the schedule services, which regenerate the doctor's slots on commit.
"""

from collections import defaultdict
from datetime import date, timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin

from appointments import availability, generation, planner, rules, services, statistics
from appointments.models import (
    HORIZON_DAYS_MAX,
    HORIZON_DAYS_MIN,
    RULE_FIELDS,
    RULE_VALUE_MAX,
    SLOT_MINUTES_MAX,
    SLOT_MINUTES_MIN,
    Absence,
    AbsenceKind,
    DateOverride,
    Doctor,
    DoctorBookingRules,
    DoctorSchedule,
    Specialty,
    Timetable,
    WorkingHours,
)
from appointments.resources import DoctorResource, intervals_format, intervals_parse
from appointments.templatetags.charts import bar_chart, days_between, per_day_bars
from appointments.zone import clinic_zone
from hospital.admin_base import AllOrNothingImportMixin
from hospital.errors import ServiceError
from hospital.filters import DATE_INVALID, ISO_DATE
from hospital.imports import FILE_FORMATS
from staff.models import NAME_FIELDS

PREVIEW_DAYS = 7
AVAILABILITY_PARAMETER = "availability"
LOAD_DAYS_BEFORE = LOAD_DAYS_AFTER = 13
NO_SCHEDULE = _("No schedule yet: set the working hours and save.")
WEEKDAY_CELLS = _(
    "mon ... sun hold the day's working intervals such as 09:00-13:00;14:00-18:00 (empty: a day off). "
    "Rows are matched on username: importing a file again updates it. A file with any bad row imports nothing."
)
FOLLOWS_CLINIC = _("Empty: the clinic's (now %(value)s).")
NO_CAP = _("no cap")


def _rule_field(name: str) -> forms.IntegerField:
    field = DoctorBookingRules._meta.get_field(name)
    assert isinstance(field, models.Field)
    return forms.IntegerField(
        label=capfirst(field.verbose_name),
        required=False,
        min_value=0,
        max_value=RULE_VALUE_MAX,
        help_text=field.help_text,
    )


class DoctorForm(forms.ModelForm):
    """The specialties and schedule settings of the doctor's page; personal data are edited on the user's page."""

    specialties = forms.ModelMultipleChoiceField(
        label=_("Specialties"),
        queryset=Specialty.objects.order_by("name"),
        required=False,
        widget=FilteredSelectMultiple(_("specialties"), is_stacked=False),
        help_text=_("The specialties are added and renamed on the Specialties page."),
    )

    slot_minutes = forms.IntegerField(
        label=capfirst(DoctorSchedule._meta.get_field("slot_minutes").verbose_name),
        min_value=SLOT_MINUTES_MIN,
        max_value=SLOT_MINUTES_MAX,
        help_text=DoctorSchedule._meta.get_field("slot_minutes").help_text,
    )
    horizon_days = forms.IntegerField(
        label=capfirst(DoctorSchedule._meta.get_field("horizon_days").verbose_name),
        min_value=HORIZON_DAYS_MIN,
        max_value=HORIZON_DAYS_MAX,
        help_text=DoctorSchedule._meta.get_field("horizon_days").help_text,
    )

    min_notice_minutes = _rule_field("min_notice_minutes")
    cancel_cutoff_minutes = _rule_field("cancel_cutoff_minutes")
    max_active_per_patient = _rule_field("max_active_per_patient")
    max_per_patient_per_day = _rule_field("max_per_patient_per_day")

    class Meta:
        model = Doctor
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schedule = DoctorSchedule.objects.filter(doctor_id=self.instance.pk).first() if self.instance.pk else None
        if self.instance.pk:
            self.fields["specialties"].initial = list(self.instance.specialties.all())
        for name in ("slot_minutes", "horizon_days"):
            default = DoctorSchedule._meta.get_field(name).default
            self.fields[name].initial = getattr(schedule, name) if schedule else default
        # The doctor's booking rules: their own value, or empty to follow the clinic's (said with its value).
        overrides = rules.doctor_overrides(doctor_id=self.instance.pk) if self.instance.pk else {}
        clinic = rules.clinic_rules()
        for name in RULE_FIELDS:
            clinic_value = getattr(clinic, name)
            follows = FOLLOWS_CLINIC % {"value": NO_CAP if clinic_value is None else clinic_value}
            self.fields[name].initial = overrides.get(name)
            self.fields[name].help_text = format_html("{} {}", self.fields[name].help_text, follows)


class EndAfterStartForm(forms.ModelForm):
    """A row with a start and an end; an end not after the start gets the service's message."""

    end_not_after_start: str | Promise = ""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and not start < end:
            self.add_error("end", self.end_not_after_start)
        return cleaned


class WorkingHoursForm(EndAfterStartForm):
    end_not_after_start = services.HOURS_END_NOT_AFTER_START

    class Meta:
        model = WorkingHours
        fields = ("weekday", "start", "end")

    def validate_unique(self):
        """Skipped: the service replaces the week as a whole (see WorkingHoursFormSet.clean)."""


class WorkingHoursFormSet(BaseInlineFormSet):
    def hours(self) -> list[tuple]:
        """(weekday, start, end) of every row kept on the page."""
        return [
            (form.cleaned_data["weekday"], form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            services.working_hours_validate(self.hours())
        except ServiceError as error:
            raise forms.ValidationError(error.message, code=error.code)

    def validate_unique(self):
        # A row may take the start of a row deleted in the same save, which a check against the
        # stored rows would refuse; overlaps, duplicates included, are the service's check above.
        pass


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    form = WorkingHoursForm
    formset = WorkingHoursFormSet
    fields = ("weekday", "start", "end")
    ordering = ("weekday", "start")
    extra = 1
    verbose_name_plural = _("working hours by weekday")

    def __init__(self, parent_model, admin_site):
        # The hours hang on the doctor's schedule, not on the user the page shows: the formset's
        # parent is the schedule, which DoctorAdmin.get_formset_kwargs hands it.
        super().__init__(DoctorSchedule, admin_site)


class AbsenceForm(EndAfterStartForm):
    end_not_after_start = services.ABSENCE_END_NOT_AFTER_START

    class Meta:
        model = Absence
        fields = ("kind", "start", "end", "comment")


class AbsenceInline(admin.TabularInline):
    model = Absence
    fk_name = "doctor"
    form = AbsenceForm
    fields = ("kind", "start", "end", "comment")
    ordering = ("start",)
    extra = 0
    verbose_name_plural = _("current and coming absences")

    def get_queryset(self, request):
        # Past absences no longer shape any slot; the Absences list keeps them.
        return super().get_queryset(request).filter(end__gt=timezone.now())


class DateOverrideForm(forms.ModelForm):
    """A date and its hours written as in the CSV import (09:00-13:00;14:00-18:00); empty: a day off."""

    hours = forms.CharField(
        label=_("working intervals"),
        required=False,
        help_text=_("Such as 09:00-13:00;14:00-18:00, in place of the weekday's hours. Empty: a day off."),
    )

    class Meta:
        model = DateOverride
        fields = ("date", "hours", "comment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["hours"].initial = intervals_format(self.instance.times)

    def clean(self):
        cleaned = super().clean()
        try:
            times = intervals_parse(cleaned.get("hours", ""))
            services.working_hours_validate((0, start, end) for start, end in times)
        except ValueError as error:
            self.add_error("hours", str(error))
        except ServiceError as error:
            self.add_error("hours", error.message)
        else:
            cleaned["times"] = times
        return cleaned

    def validate_unique(self):
        """Skipped: the service sets the hours of a date whether or not it had an override (the formset
        still refuses two rows for one date)."""


class DateOverrideInline(admin.TabularInline):
    model = DateOverride
    fk_name = "doctor"
    form = DateOverrideForm
    fields = ("date", "hours", "comment")
    ordering = ("date",)
    extra = 0
    verbose_name_plural = _("date overrides from today")

    def get_queryset(self, request):
        # Past dates no longer shape any slot; the API lists them.
        return super().get_queryset(request).filter(date__gte=timezone.localdate(timezone=clinic_zone()))


@admin.register(Doctor)
class DoctorAdmin(AllOrNothingImportMixin, ImportExportMixin, admin.ModelAdmin):
    formats = FILE_FORMATS
    form = DoctorForm
    resource_classes = [DoctorResource]
    import_notes = (WEEKDAY_CELLS,)
    inlines = (WorkingHoursInline, DateOverrideInline, AbsenceInline)
    list_display = (
        "name",
        "username",
        "specialty_names",
        "slot_length",
        "days_ahead",
        "week",
        "generated_at",
        "is_active",
    )
    list_filter = ("is_active", "specialties")
    search_fields = ("username", *NAME_FIELDS)
    ordering = ("last_name", "first_name")
    readonly_fields = ("person", "is_active", "generated_at", "week_preview", "availability_on_date", "load_chart")
    # The change form plus the small GET form that the availability tab's date picker submits.
    change_form_template = "appointments/admin/doctor_change_form.html"
    fieldsets = (
        (
            _("Schedule"),
            {"fields": ("person", "is_active", "specialties", "slot_minutes", "horizon_days", "generated_at")},
        ),
        (_("Booking rules"), {"fields": RULE_FIELDS}),
        (_("Coming week"), {"fields": ("week_preview",)}),
        (_("Availability"), {"fields": ("availability_on_date",)}),
        (_("Load"), {"fields": ("load_chart",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("schedule")
            .prefetch_related("schedule__working_hours", "specialties")
        )

    def get_object(self, request, object_id, from_field=None):
        """The doctor, with the date the availability tab explains (`?availability=YYYY-MM-DD`, else today)."""
        doctor = super().get_object(request, object_id, from_field)
        if doctor is not None:
            chosen = request.GET.get(AVAILABILITY_PARAMETER, "")
            doctor.availability_day, doctor.availability_error = timezone.localdate(timezone=clinic_zone()), None
            if chosen:
                try:
                    if not ISO_DATE.fullmatch(chosen):
                        raise ValueError(chosen)
                    doctor.availability_day = date.fromisoformat(chosen)
                except ValueError:
                    doctor.availability_error = DATE_INVALID
        return doctor

    def has_add_permission(self, request):
        # A doctor is a user with the doctor role: created on the Users page or by a CSV import.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, WorkingHoursInline):
            kwargs["instance"] = DoctorSchedule.objects.filter(doctor=obj).first() or DoctorSchedule(doctor=obj)
        return kwargs

    def save_model(self, request, obj, form, change):
        """Nothing of the user changes here; save_related hands the schedule to the services."""

    def save_related(self, request, form, formsets, change):
        doctor = form.instance
        by_model = {formset.model: formset for formset in formsets}
        hours, absences = by_model[WorkingHours], by_model[Absence]
        # commit=False writes nothing: it lists what changed, for the page's history.
        hours.save(commit=False)
        absences.save(commit=False)
        services.doctor_specialties_set(doctor=doctor, specialties=form.cleaned_data["specialties"], actor=request.user)
        services.schedule_update(
            doctor=doctor,
            slot_minutes=form.cleaned_data["slot_minutes"],
            horizon_days=form.cleaned_data["horizon_days"],
            working_hours=hours.hours(),
            actor=request.user,
        )
        rules.doctor_rules_update(doctor=doctor, **{name: form.cleaned_data.get(name) for name in RULE_FIELDS})
        for absence in absences.deleted_objects:
            services.absence_delete(absence=absence, actor=request.user)
        for absence, _changed in absences.changed_objects:
            services.absence_update(absence=absence, **self._absence_fields(absence), actor=request.user)
        for absence in absences.new_objects:
            services.absence_create(doctor=doctor, **self._absence_fields(absence), actor=request.user)
        self._save_overrides(request, doctor, by_model[DateOverride])

    @staticmethod
    def _save_overrides(request, doctor, formset) -> None:
        """Hand the overrides rows to the services: deletions first, so that a date moved or re-added is free."""
        formset.save(commit=False)
        # By identity: a new row's instance has no pk yet, so it cannot be a dict key itself.
        times = {id(form.instance): form.cleaned_data.get("times") for form in formset.forms if form.cleaned_data}
        for override in formset.deleted_objects:
            services.date_override_delete(override=override, actor=request.user)
        for override, changed in formset.changed_objects:
            if "date" in changed:
                moved = DateOverride.objects.get(pk=override.pk)
                services.date_override_delete(override=moved, actor=request.user)
        for override in [override for override, _changed in formset.changed_objects] + formset.new_objects:
            services.date_override_set(
                doctor=doctor,
                day=override.date,
                intervals=times[id(override)],
                comment=override.comment,
                actor=request.user,
            )

    @staticmethod
    def _absence_fields(absence) -> dict:
        return {"kind": absence.kind, "start": absence.start, "end": absence.end, "comment": absence.comment}

    @staticmethod
    def _schedule(doctor):
        try:
            return doctor.schedule
        except DoctorSchedule.DoesNotExist:
            return None

    @admin.display(description=_("name"), ordering="last_name")
    def name(self, doctor):
        return doctor.full_name or doctor.username

    @admin.display(description=_("specialties"))
    def specialty_names(self, doctor):
        return ", ".join(specialty.name for specialty in doctor.specialties.all()) or "-"

    @admin.display(description=_("slot length, minutes"), ordering="schedule__slot_minutes")
    def slot_length(self, doctor):
        schedule = self._schedule(doctor)
        return schedule.slot_minutes if schedule else None

    @admin.display(description=_("days ahead"), ordering="schedule__horizon_days")
    def days_ahead(self, doctor):
        schedule = self._schedule(doctor)
        return schedule.horizon_days if schedule else None

    # empty_value is rendered as text, so a lazy translation works; the stubs ask for str.
    @admin.display(  # type: ignore[call-overload]
        description=_("slots generated at"), ordering="schedule__generated_at", empty_value=_("never")
    )
    def generated_at(self, doctor):
        schedule = self._schedule(doctor)
        return schedule.generated_at if schedule else None

    @admin.display(description=_("working week"))
    def week(self, doctor):
        schedule = self._schedule(doctor)
        intervals = list(schedule.working_hours.all()) if schedule else []
        if not intervals:
            return "-"
        days = len({interval.weekday for interval in intervals})
        minutes = sum(
            (interval.end.hour * 60 + interval.end.minute) - (interval.start.hour * 60 + interval.start.minute)
            for interval in intervals
        )
        return ngettext("%(days)d day, %(hours)s h", "%(days)d days, %(hours)s h", days) % {
            "days": days,
            "hours": f"{minutes / 60:g}",
        }

    @admin.display(description=_("doctor"))
    def person(self, doctor):
        url = reverse("admin:staff_user_change", args=[doctor.pk])
        return format_html(
            '<a href="{}">{}</a> ({})<div class="help">{}</div>',
            url,
            doctor.full_name or doctor.username,
            doctor.username,
            _("Personal data and roles are edited on the user's page."),
        )

    @admin.display(description=_("slots of the coming week"))
    def week_preview(self, doctor):
        if doctor.pk is None:
            return "-"
        schedule = (
            DoctorSchedule.objects.select_related("doctor")
            .prefetch_related("working_hours")
            .filter(doctor_id=doctor.pk)
            .first()
        )
        if schedule is None:
            return NO_SCHEDULE
        now = timezone.now()
        zone = clinic_zone()
        today = now.astimezone(zone).date()
        last_day = today + timedelta(days=PREVIEW_DAYS - 1)
        week_end = planner.local_day_bounds(last_day, zone)[1]
        plan = [slot for slot in generation.doctor_plan(schedule=schedule, now=now, zone=zone) if slot.start < week_end]
        booked = Timetable.objects.filter(
            doctor_id=doctor.pk, client__isnull=False, start_time__gt=now, start_time__lt=week_end
        ).select_related("client")
        patients = {slot.start_time: slot.client for slot in booked}
        by_day = defaultdict(list)
        for slot in plan:
            start = slot.start.astimezone(zone)
            by_day[start.date()].append(
                {
                    "start": f"{start:%H:%M}",
                    "stop": f"{slot.stop.astimezone(zone):%H:%M}",
                    "patient": patients.pop(slot.start, None),
                }
            )
        context = {
            "days": [{"day": day, "slots": by_day.get(day, [])} for day in days_between(today, last_day)],
            "planned": len(plan),
            # Booked slots of the week that the current schedule no longer has.
            "conflicts": len(patients),
            "timetable_url": reverse("admin:appointments_timetable_changelist")
            + f"?doctor={doctor.pk}&conflict__exact=1",
            "blocked": not schedule.doctor.is_active_doctor,
        }
        return render_to_string("appointments/admin/week_preview.html", context)

    @admin.display(description=_("slots of a date, explained"))
    def availability_on_date(self, doctor):
        if doctor.pk is None:
            return "-"
        day = getattr(doctor, "availability_day", None) or timezone.localdate(timezone=clinic_zone())
        result = availability.doctor_availability(doctor=doctor, day=day)
        zone = clinic_zone()
        slots = [
            {
                "start": f"{slot.start.astimezone(zone):%H:%M}",
                "stop": f"{slot.stop.astimezone(zone):%H:%M}",
                "bookable": slot.bookable,
                "reasons": [availability.Reason(reason).label for reason in slot.reasons],
                "absence": slot.absence and AbsenceKind(slot.absence.kind).label,
                "slot_id": slot.slot_id,
                "url": slot.slot_id and reverse("admin:appointments_timetable_change", args=[slot.slot_id]),
            }
            for slot in result.slots
        ]
        context = {
            "parameter": AVAILABILITY_PARAMETER,
            "day": day,
            "previous": day - timedelta(days=1) if day > date.min else day,
            "next": day + timedelta(days=1) if day < date.max else day,
            "error": getattr(doctor, "availability_error", None),
            "kind": result.day,
            "kind_label": availability.Day(result.day).label,
            "hours": ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in result.intervals),
            "slots": slots,
            "bookable": sum(slot["bookable"] for slot in slots),
        }
        return render_to_string("appointments/admin/availability.html", context)

    @admin.display(description=_("appointments per day"))
    def load_chart(self, doctor):
        if doctor.pk is None:
            return "-"
        today = timezone.localdate()
        date_from, date_to = today - timedelta(days=LOAD_DAYS_BEFORE), today + timedelta(days=LOAD_DAYS_AFTER)
        rows = statistics.appointments_per_day(date_from=date_from, date_to=date_to, doctor_id=doctor.pk)
        return bar_chart(
            per_day_bars(rows, date_from, date_to, key="count"),
            title=_("Appointments per day of %(doctor)s") % {"doctor": doctor},
            x_label=_("day"),
            y_label=_("appointments"),
        )
