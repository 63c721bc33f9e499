"""CSV/XLSX import of doctors with specialties and schedules; exports of schedules, absences and the Timetable.

A doctors file has the columns `username, last_name, first_name, middle_name, sex, birth_date, email,
specialties, slot_minutes, horizon_days, mon, tue, wed, thu, fri, sat, sun`; `specialties` holds names
separated by `;` (matched regardless of case; a name the clinic does not have is a row error; a file
without the column leaves specialties as they are); a weekday cell holds that day's working intervals
such as `09:00-13:00;14:00-18:00` (empty: a day off). The same columns come out of the doctors
export, so an exported file can be edited and imported back.

Used by the admin (import-export's preview and confirm), `manage.py import_doctors` and the demo loader.
"""

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from hospital.errors import ServiceError
from hospital.imports import ImportOutcome, dataset_read, rows_import
from staff.models import PERSON_FIELDS, User
from staff.resources import PersonResource
from staff.roles import Role

from . import generation, selectors, services
from .models import Absence, AppointmentEvent, DoctorSchedule, DoctorSpecialty, Specialty, Timetable

# Column name for each weekday, in Weekday order (Monday = 0).
WEEKDAY_COLUMNS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHEDULE_COLUMNS = ("slot_minutes", "horizon_days", *WEEKDAY_COLUMNS)
SPECIALTIES_COLUMN = "specialties"
DOCTOR_COLUMNS = (*PERSON_FIELDS, SPECIALTIES_COLUMN, *SCHEDULE_COLUMNS)
SPECIALTIES_SEPARATOR = ";"

INTERVALS_INVALID = _("“%(value)s” is not a list of intervals such as 09:00-13:00;14:00-18:00.")
SPECIALTY_UNKNOWN = _("The clinic has no specialty “%(name)s”: add it on the Specialties page, or correct the name.")
WHOLE_NUMBER = _("Enter a whole number.")

_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_LOCAL = "%Y-%m-%d %H:%M"


def intervals_parse(text: str) -> list[tuple[time, time]]:
    """`09:00-13:00;14:00-18:00` -> [(09:00, 13:00), (14:00, 18:00)]; empty -> []; ValueError if malformed."""
    intervals = []
    for part in str(text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        match = _INTERVAL.match(part)
        try:
            if match is None:
                raise ValueError(part)
            start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
            intervals.append((time(start_h, start_m), time(end_h, end_m)))
        except ValueError:
            raise ValueError(INTERVALS_INVALID % {"value": text})
    return intervals


def intervals_format(intervals) -> str:
    return ";".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in sorted(intervals))


def schedule_columns(schedule: DoctorSchedule | None) -> dict:
    """The schedule as the file's columns (working hours read through `working_hours.all()`)."""
    if schedule is None:
        return dict.fromkeys(SCHEDULE_COLUMNS, "")
    by_day: dict[int, list] = {}
    for hours in schedule.working_hours.all():
        by_day.setdefault(hours.weekday, []).append((hours.start, hours.end))
    columns: dict[str, int | str] = {"slot_minutes": schedule.slot_minutes, "horizon_days": schedule.horizon_days}
    for weekday, column in enumerate(WEEKDAY_COLUMNS):
        columns[column] = intervals_format(by_day.get(weekday, ()))
    return columns


def _columns_of(user) -> dict:
    # Cached on the instance: the import preview reads the old values from a copy made before the
    # row is saved and the new ones from the saved instance, each with one fresh query.
    cached = user.__dict__.get("_schedule_columns")
    if cached is None:
        schedule = None
        if user.pk is not None:
            schedule = DoctorSchedule.objects.prefetch_related("working_hours").filter(doctor_id=user.pk).first()
        cached = user.__dict__["_schedule_columns"] = schedule_columns(schedule)
    return cached


class ScheduleColumn(fields.Field):
    """A schedule setting as a column: the resource reads it on import, this field renders it on export."""

    def __init__(self, column_name):
        super().__init__(attribute=None, column_name=column_name)

    def get_value(self, instance):
        return _columns_of(instance)[self.column_name]


def specialties_format(names) -> str:
    return SPECIALTIES_SEPARATOR.join(sorted(names, key=str.casefold))


def specialties_parse(text) -> list[str]:
    """`Кардиолог; Терапевт` -> ["Кардиолог", "Терапевт"]; empty -> []."""
    return [name.strip() for name in str(text or "").split(SPECIALTIES_SEPARATOR) if name.strip()]


def _specialties_of(user) -> str:
    # Cached on the instance like _columns_of, for the same reason (the preview's before and after).
    cached = user.__dict__.get("_specialty_names")
    if cached is None:
        names = Specialty.objects.filter(doctors=user.pk).values_list("name", flat=True) if user.pk else []
        cached = user.__dict__["_specialty_names"] = specialties_format(names)
    return cached


class SpecialtiesColumn(fields.Field):
    """The doctor's specialties as one cell; the resource reads it on import, this field renders it on export."""

    def __init__(self):
        super().__init__(attribute=None, column_name=SPECIALTIES_COLUMN)

    def get_value(self, instance):
        return _specialties_of(instance)


def _whole_number(value, model_field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        # A spreadsheet cell may hold 20.0 for 20.
        number = int(value) if isinstance(value, float) and value.is_integer() else int(str(value).strip())
    except ValueError:
        raise ValidationError(WHOLE_NUMBER)
    DoctorSchedule._meta.get_field(model_field).run_validators(number)  # type: ignore[union-attr]
    return number


class DoctorResource(PersonResource):
    """Doctors with their slot length, horizon and weekly hours; saved through the schedule service."""

    role = Role.DOCTOR
    required_columns = (*PersonResource.required_columns, *WEEKDAY_COLUMNS)

    specialties = SpecialtiesColumn()
    slot_minutes = ScheduleColumn("slot_minutes")
    horizon_days = ScheduleColumn("horizon_days")
    mon = ScheduleColumn("mon")
    tue = ScheduleColumn("tue")
    wed = ScheduleColumn("wed")
    thu = ScheduleColumn("thu")
    fri = ScheduleColumn("fri")
    sat = ScheduleColumn("sat")
    sun = ScheduleColumn("sun")

    class Meta(PersonResource.Meta):
        fields = DOCTOR_COLUMNS
        import_order = DOCTOR_COLUMNS
        export_order = DOCTOR_COLUMNS
        name = _("Doctors with schedules")

    def import_extra(self, instance, row) -> dict:
        errors: dict[str, list] = {}
        instance.__dict__["_specialties_import"] = None
        if SPECIALTIES_COLUMN in row:
            try:
                instance.__dict__["_specialties_import"] = self._specialties(row.get(SPECIALTIES_COLUMN))
            except ValidationError as error:
                errors[SPECIALTIES_COLUMN] = error.messages
        numbers = {}
        for column in ("slot_minutes", "horizon_days"):
            try:
                numbers[column] = _whole_number(row.get(column), column)
            except ValidationError as error:
                errors[column] = error.messages
        hours = []
        for weekday, column in enumerate(WEEKDAY_COLUMNS):
            try:
                day = [(weekday, start, end) for start, end in intervals_parse(row.get(column))]
                # The service's own check, so the file is refused with the message the admin shows.
                services.working_hours_validate(day)
            except ValueError as error:
                errors[column] = [str(error)]
                continue
            except ServiceError as error:
                errors[column] = [str(error.message)]
                continue
            hours.extend(day)
        instance.__dict__["_schedule_import"] = (numbers, hours)
        return errors

    def _specialties(self, text) -> list[Specialty]:
        """The named specialties, each once; ValidationError naming every name the clinic does not have."""
        if not hasattr(self, "_by_name"):
            self._by_name = selectors.specialties_by_name()  # once per file: a clinic has tens
        found: dict[int, Specialty] = {}
        unknown = []
        for name in specialties_parse(text):
            specialty = self._by_name.get(name.casefold())
            if specialty is None:
                unknown.append(SPECIALTY_UNKNOWN % {"name": name})
            else:
                found[specialty.pk] = specialty
        if unknown:
            raise ValidationError(unknown)
        return list(found.values())

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        specialties = instance.__dict__.pop("_specialties_import", None)
        if specialties is not None:
            services.doctor_specialties_set(doctor=instance, specialties=specialties, actor=kwargs.get("user"))
        numbers, hours = instance.__dict__.pop("_schedule_import")
        # Regenerates the doctor's slots once the import commits (nothing is sent for a dry run).
        services.schedule_update(doctor=instance, working_hours=hours, actor=kwargs.get("user"), **numbers)

    def filter_export(self, queryset, **kwargs):
        names: dict[int, list[str]] = {}
        links = DoctorSpecialty.objects.filter(doctor__in=queryset.values("pk")).values_list(
            "doctor_id", "specialty__name"
        )
        for doctor_id, name in links:
            names.setdefault(doctor_id, []).append(name)
        self._export_specialties = {
            doctor_id: specialties_format(doctor_names) for doctor_id, doctor_names in names.items()
        }
        self._export_schedules = {
            schedule.doctor_id: schedule_columns(schedule)
            for schedule in DoctorSchedule.objects.filter(doctor__in=queryset.values("pk")).prefetch_related(
                "working_hours"
            )
        }
        return queryset

    def export_resource(self, instance, selected_fields=None, **kwargs):
        schedules = getattr(self, "_export_schedules", None)
        if schedules is not None:
            instance.__dict__["_schedule_columns"] = schedules.get(instance.pk) or schedule_columns(None)
            instance.__dict__["_specialty_names"] = self._export_specialties.get(instance.pk, "")
        return super().export_resource(instance, selected_fields, **kwargs)


def doctors_import(
    file, *, dry_run: bool = False, generate: bool = False, progress=None, actor: User | None = None
) -> ImportOutcome:
    """Import doctors and their schedules from a CSV/XLSX file; all or nothing.

    Each schedule change enqueues slot generation for when the import commits; with `generate`
    the slots are also generated here and now (a shell or the demo, where no worker may run).
    """
    outcome = rows_import(DoctorResource(progress=progress), dataset_read(file), dry_run=dry_run, actor=actor)
    if generate and outcome.written:
        for doctor_id in outcome.user_ids:
            generation.slots_generate_for_doctor(doctor_id=doctor_id)
    return outcome


# --- exports -----------------------------------------------------------------------------------


class LocalDateTimeWidget(widgets.DateTimeWidget):
    """Clinic-local `YYYY-MM-DD HH:MM` (the widget converts to the current zone)."""

    def __init__(self):
        super().__init__(format=_LOCAL)


class TimetableResource(resources.ModelResource):
    """The Timetable: one row per slot with the doctor's and the patient's names."""

    doctor_username = fields.Field(attribute="doctor__username", column_name="doctor_username")
    doctor = fields.Field(attribute="doctor__full_name", column_name="doctor")
    patient_username = fields.Field(attribute="client__username", column_name="patient_username")
    patient = fields.Field(attribute="client__full_name", column_name="patient")
    start = fields.Field(attribute="start_time", column_name="start", widget=LocalDateTimeWidget())
    end = fields.Field(attribute="stop_time", column_name="end", widget=LocalDateTimeWidget())
    booked_at = fields.Field(attribute="booked_at", column_name="booked_at", widget=LocalDateTimeWidget())
    conflict = fields.Field(attribute="conflict", column_name="conflict", widget=widgets.BooleanWidget())

    class Meta:
        model = Timetable
        fields = (
            "id",
            "doctor_username",
            "doctor",
            "patient_username",
            "patient",
            "start",
            "end",
            "booked_at",
            "conflict",
            "status",
        )
        export_order = fields
        name = _("Timetable")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("doctor", "client")


class AbsenceResource(resources.ModelResource):
    doctor_username = fields.Field(attribute="doctor__username", column_name="doctor_username")
    doctor = fields.Field(attribute="doctor__full_name", column_name="doctor")
    start = fields.Field(attribute="start", column_name="start", widget=LocalDateTimeWidget())
    end = fields.Field(attribute="end", column_name="end", widget=LocalDateTimeWidget())

    class Meta:
        model = Absence
        fields = ("id", "doctor_username", "doctor", "kind", "start", "end", "comment")
        export_order = fields
        name = _("Absences")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("doctor")


class AppointmentEventResource(resources.ModelResource):
    at = fields.Field(attribute="at", column_name="at", widget=LocalDateTimeWidget())
    doctor = fields.Field(attribute="doctor__full_name", column_name="doctor")
    patient_username = fields.Field(attribute="patient__username", column_name="patient_username")
    patient = fields.Field(attribute="patient__full_name", column_name="patient")
    actor = fields.Field(attribute="actor__username", column_name="done_by")
    start = fields.Field(attribute="start_time", column_name="slot_start", widget=LocalDateTimeWidget())
    end = fields.Field(attribute="stop_time", column_name="slot_end", widget=LocalDateTimeWidget())

    class Meta:
        model = AppointmentEvent
        fields = (
            "id",
            "at",
            "action",
            "cancelled_by",
            "reason",
            "slot_id",
            "doctor",
            "patient_username",
            "patient",
            "actor",
            "start",
            "end",
        )
        export_order = fields
        name = _("Booking history")

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("doctor", "patient", "actor")
