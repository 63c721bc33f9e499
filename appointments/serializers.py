"""Scheduling API shapes. Validation only: writes go through appointments.services."""

import datetime
import re

from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hospital.fields import DigitsIntegerField, IdField, IsoDateField, TextField
from hospital.openapi import NOT_BLANK, SchemaPattern

from .availability import Day, Reason
from .filters import DATE_RANGE_REVERSED, date_range_clamp
from .models import (
    HORIZON_DAYS_MAX,
    HORIZON_DAYS_MIN,
    SLOT_MINUTES_MAX,
    SLOT_MINUTES_MIN,
    Absence,
    AbsenceKind,
    Closure,
    Specialty,
    Timetable,
)
from .selectors import NEXT_SLOTS_DEFAULT, NEXT_SLOTS_MAX
from .services import ABSENCE_END_NOT_AFTER_START, CLOSURE_DATES_REVERSED, HOURS_END_NOT_AFTER_START

MAX_INTERVALS_PER_WEEK = 7 * 24
MAX_INTERVALS_PER_DAY = 24
NONEXISTENT_LOCAL_TIME = _(
    "{value} does not exist in the clinic's time zone ({zone}): the clocks skip it. "
    "Give a time with its offset, or another time."
)
TIME_FORMAT = "%H:%M"
SPECIALTY_OR_DOCTOR_REQUIRED = _("Give a specialty or a doctor (or both).")


class QuerySerializer(serializers.Serializer):
    """Query parameters; give it `request.query_params`."""

    def __init__(self, *args, data=serializers.empty, **kwargs):
        # A query string read as a plain dict (the last value of each name): DRF reads an empty
        # value in a QueryDict as "not given", and `?date_to=` is not a date.
        if hasattr(data, "dict"):
            data = data.dict()
        super().__init__(*args, data=data, **kwargs)


class DateRangeQuerySerializer(QuerySerializer):
    date_from = IsoDateField(required=False, help_text=_("YYYY-MM-DD, clinic-local, inclusive"))
    date_to = IsoDateField(required=False, help_text=_("YYYY-MM-DD, clinic-local, inclusive"))

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_from": [DATE_RANGE_REVERSED]}, code="date_range")
        attrs["date_from"], attrs["date_to"] = date_range_clamp(start, end)
        return attrs


class FreeSlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Timetable
        fields = ["id", "start_time", "stop_time"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    """A slot with its doctor and patient (ids); `client` and `status` are null when the slot is free."""

    class Meta:
        model = Timetable
        fields = ["id", "doctor", "client", "start_time", "stop_time", "status"]
        read_only_fields = fields


class AppointmentListSerializer(serializers.ModelSerializer):
    doctor_name = serializers.CharField(source="doctor.full_name", read_only=True)
    client_name = serializers.CharField(source="client.full_name", read_only=True)

    class Meta:
        model = Timetable
        fields = [
            "id",
            "doctor",
            "doctor_name",
            "client",
            "client_name",
            "start_time",
            "stop_time",
            "conflict",
            "status",
        ]
        read_only_fields = fields


class SlotSerializer(serializers.ModelSerializer):
    free = serializers.SerializerMethodField()

    class Meta:
        model = Timetable
        fields = ["id", "doctor", "start_time", "stop_time", "free"]
        read_only_fields = fields

    def get_free(self, slot) -> bool:
        return slot.client_id is None


CLOCK_TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"


@extend_schema_field({"type": "string", "pattern": CLOCK_TIME_PATTERN, "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time written HH:MM, in and out (not OpenAPI's `time`, which carries seconds and an offset)."""

    def __init__(self, **kwargs):
        super().__init__(format=TIME_FORMAT, input_formats=[TIME_FORMAT], **kwargs)

    def to_internal_value(self, value):
        # strptime alone also takes "9:5"; the documented pattern is exactly two digits each.
        if not isinstance(value, str) or not re.fullmatch(CLOCK_TIME_PATTERN, value):
            self.fail("invalid", format="hh:mm")
        return super().to_internal_value(value)


class WorkingHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text=_("Monday = 0 .. Sunday = 6"))
    start = ClockTimeField(help_text="HH:MM")
    end = ClockTimeField(help_text="HH:MM")

    def validate(self, attrs):
        if not attrs["start"] < attrs["end"]:
            raise serializers.ValidationError({"end": [HOURS_END_NOT_AFTER_START]}, code="end_not_after_start")
        return attrs


class ScheduleSerializer(serializers.Serializer):
    slot_minutes = serializers.IntegerField(min_value=SLOT_MINUTES_MIN, max_value=SLOT_MINUTES_MAX)
    horizon_days = serializers.IntegerField(min_value=HORIZON_DAYS_MIN, max_value=HORIZON_DAYS_MAX)
    # `many=True` builds a ListSerializer, which takes max_length; the stubs type the child class.
    working_hours = WorkingHoursSerializer(many=True, max_length=MAX_INTERVALS_PER_WEEK)  # type: ignore[call-arg]

    @staticmethod
    def from_schedule(schedule) -> dict:
        return ScheduleSerializer(
            {
                "slot_minutes": schedule.slot_minutes,
                "horizon_days": schedule.horizon_days,
                "working_hours": [
                    {"weekday": h.weekday, "start": h.start, "end": h.end}
                    for h in (schedule.working_hours.all() if schedule.pk else ())
                ],
            }
        ).data


class ClinicDateTimeField(serializers.DateTimeField):
    """A datetime shown in the clinic's zone, except where that cannot be written: then in UTC.

    Python's datetime ends at years 1 and 9999, so an instant near either end may have no local
    time; and far in the past a zone's offset is the local mean time, in seconds (Moscow's was
    +02:30:17), which RFC 3339 cannot write.
    """

    default_error_messages = {"nonexistent_time": NONEXISTENT_LOCAL_TIME}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            return self._local(value)
        # An instant with an offset is not converted to the clinic's zone, which could step past
        # year 9999 and refuse a valid instant.
        if timezone.is_aware(value):
            # In UTC, as it is stored: PostgreSQL takes offsets up to 15:59 only (Python up to
            # 23:59), and year 1 at +05:00 has no UTC time at all.
            try:
                return value.astimezone(datetime.UTC)
            except OverflowError:
                self.fail("overflow")
        return super().enforce_timezone(value)

    def _local(self, value):
        """A wall-clock time in the clinic's zone: refused if the clocks skip it (spring forward);
        if they show it twice (fall back), its first occurrence, as README says."""
        zone = self.timezone if hasattr(self, "timezone") else self.default_timezone()
        first = value.replace(tzinfo=zone, fold=0)
        try:
            exists = first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) == value
        except OverflowError:
            self.fail("overflow")
        if not exists:
            self.fail("nonexistent_time", value=value.isoformat(), zone=str(zone))
        return first

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:  # DRF's DST check on a naive time converts without catching it
            self.fail("overflow")

    def to_representation(self, value):
        if not value:
            return None
        zone = self.timezone if hasattr(self, "timezone") else self.default_timezone()
        try:
            local = value.astimezone(zone)
        except OverflowError:
            local = None
        if local is None or local.utcoffset().total_seconds() % 60:
            local = value.astimezone(datetime.UTC)
        # ISO 8601 as DRF writes it (not through super(): enforce_timezone above keeps UTC).
        text = local.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class AbsenceSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AbsenceKind.choices, default=AbsenceKind.VACATION)
    start = ClinicDateTimeField(help_text=_("ISO 8601; without an offset it is read in the clinic's zone"))
    end = ClinicDateTimeField(help_text=_("ISO 8601; must be after start"))
    # One character or more in the pattern: drf-spectacular offers "" as a `oneOf` branch of its own.
    comment = TextField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        validators=[RegexValidator(r"^[^\u0000]+$", code="null_characters_not_allowed")],
    )

    class Meta:
        model = Absence
        fields = ["id", "kind", "start", "end", "comment"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        if not attrs["start"] < attrs["end"]:
            raise serializers.ValidationError({"end": [ABSENCE_END_NOT_AFTER_START]}, code="end_not_after_start")
        return attrs


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["id", "name"]
        read_only_fields = fields


class DoctorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    middle_name = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    # Null for a doctor whose schedule was never set (GET .../schedule shows the defaults then).
    slot_minutes = serializers.IntegerField(
        source="schedule.slot_minutes", read_only=True, default=None, allow_null=True
    )
    horizon_days = serializers.IntegerField(
        source="schedule.horizon_days", read_only=True, default=None, allow_null=True
    )
    # By name; the views prefetch them (one query for a page of doctors).
    specialties = SpecialtySerializer(many=True, read_only=True)


class NextSlotsQuerySerializer(QuerySerializer):
    specialty = IdField(required=False, help_text=_("a specialty's id"))
    doctor = IdField(required=False, help_text=_("an active doctor's user id"))
    after = ClinicDateTimeField(
        required=False, help_text=_("ISO 8601; without an offset it is read in the clinic's zone; default: now")
    )
    limit = DigitsIntegerField(
        default=NEXT_SLOTS_DEFAULT,
        min_value=1,
        max_value=NEXT_SLOTS_MAX,
        help_text=_("how many slots, 1..50"),
    )

    def validate(self, attrs):
        if attrs.get("specialty") is None and attrs.get("doctor") is None:
            raise serializers.ValidationError(SPECIALTY_OR_DOCTOR_REQUIRED, code="specialty_or_doctor_required")
        return attrs


class SlotDoctorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class NextSlotSerializer(serializers.Serializer):
    """A free slot with its doctor, as /api/slots/next lists it."""

    id = serializers.IntegerField(read_only=True)
    doctor = SlotDoctorSerializer(read_only=True)
    start_time = serializers.DateTimeField(read_only=True)
    stop_time = serializers.DateTimeField(read_only=True)


# --- closures and date overrides -----------------------------------------------------------------

_COMMENT_VALIDATORS = [RegexValidator(r"^[^\u0000]+$", code="null_characters_not_allowed")]


class ClosureSerializer(serializers.ModelSerializer):
    date_from = IsoDateField(help_text=_("YYYY-MM-DD, clinic-local: the first closed day"))
    date_to = IsoDateField(help_text=_("YYYY-MM-DD, clinic-local: the last closed day (inclusive)"))
    reason = serializers.CharField(max_length=500, validators=[SchemaPattern(NOT_BLANK)])

    class Meta:
        model = Closure
        fields = ["id", "date_from", "date_to", "reason"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [CLOSURE_DATES_REVERSED]}, code="date_range")
        return attrs


class IntervalSerializer(serializers.Serializer):
    start = ClockTimeField(help_text="HH:MM")
    end = ClockTimeField(help_text="HH:MM")

    def validate(self, attrs):
        if not attrs["start"] < attrs["end"]:
            raise serializers.ValidationError({"end": [HOURS_END_NOT_AFTER_START]}, code="end_not_after_start")
        return attrs


class DateOverrideSerializer(serializers.Serializer):
    """A doctor's hours on one date; `intervals: []` is a day off."""

    date = IsoDateField(read_only=True)
    # `many=True` builds a ListSerializer, which takes max_length; the stubs type the child class.
    intervals = IntervalSerializer(  # type: ignore[call-arg]
        many=True,
        max_length=MAX_INTERVALS_PER_DAY,
        help_text=_("The hours in force that date, in place of the weekday's; empty: a day off"),
    )
    comment = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", validators=_COMMENT_VALIDATORS
    )

    @staticmethod
    def from_override(override) -> dict:
        return DateOverrideSerializer(
            {
                "date": override.date,
                "intervals": [{"start": start, "end": end} for start, end in override.times],
                "comment": override.comment,
            }
        ).data


# --- availability --------------------------------------------------------------------------------


class AvailabilityQuerySerializer(serializers.Serializer):
    """Query parameters; give it `request.query_params`."""

    date = IsoDateField(help_text=_("YYYY-MM-DD, clinic-local"))

    def __init__(self, *args, data=serializers.empty, **kwargs):
        # As DateRangeQuerySerializer: the last value of each name, and `?date=` is not a date.
        if hasattr(data, "dict"):
            data = data.dict()
        super().__init__(*args, data=data, **kwargs)


class AvailabilityAbsenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AbsenceKind.choices)


class AvailabilitySlotSerializer(serializers.Serializer):
    # The clinic's offset, or UTC where it has seconds (a date of long ago, in local mean time).
    start_time = ClinicDateTimeField(source="start")
    stop_time = ClinicDateTimeField(source="stop")
    slot_id = serializers.IntegerField(
        allow_null=True, help_text=_("The slot's id in the timetable (the one to book when bookable); null if none")
    )
    bookable = serializers.BooleanField(help_text=_("True exactly when `reasons` is empty"))
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=Reason.choices))
    absence = AvailabilityAbsenceSerializer(
        required=False, help_text=_("The absence the slot overlaps; present only with the reason `absence`")
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.absence is None:
            del data["absence"]
        return data


class AvailabilitySerializer(serializers.Serializer):
    date = IsoDateField()
    day = serializers.ChoiceField(choices=Day.choices)
    intervals = IntervalSerializer(
        many=True, help_text=_("The hours in force that date: the override's, else the weekday's")
    )
    slots = AvailabilitySlotSerializer(many=True)

    @staticmethod
    def from_availability(availability) -> dict:
        return AvailabilitySerializer(
            {
                "date": availability.date,
                "day": availability.day,
                "intervals": [{"start": start, "end": end} for start, end in availability.intervals],
                "slots": availability.slots,
            }
        ).data
