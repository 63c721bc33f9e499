"""Scheduling API shapes. Validation only: writes go through appointments.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .filters import DATE_RANGE_REVERSED
from .models import (
    HORIZON_DAYS_MAX,
    HORIZON_DAYS_MIN,
    SLOT_MINUTES_MAX,
    SLOT_MINUTES_MIN,
    Absence,
    AbsenceKind,
    Timetable,
)

MAX_INTERVALS_PER_WEEK = 7 * 24
TIME_FORMAT = "%H:%M"


class DateRangeQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=_("YYYY-MM-DD, clinic-local, inclusive"))
    date_to = serializers.DateField(required=False, help_text=_("YYYY-MM-DD, clinic-local, inclusive"))

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_from": [DATE_RANGE_REVERSED]}, code="date_range")
        return attrs


class FreeSlotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Timetable
        fields = ["id", "start_time", "stop_time"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    """A slot with its doctor and patient (ids); `client` is null when the slot is free."""

    class Meta:
        model = Timetable
        fields = ["id", "doctor", "client", "start_time", "stop_time"]
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


class WorkingHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text=_("Monday = 0 .. Sunday = 6"))
    start = serializers.TimeField(format=TIME_FORMAT, input_formats=[TIME_FORMAT], help_text="HH:MM")
    end = serializers.TimeField(format=TIME_FORMAT, input_formats=[TIME_FORMAT], help_text="HH:MM")

    def validate(self, attrs):
        if not attrs["start"] < attrs["end"]:
            raise serializers.ValidationError(
                {"end": [_("The end of working hours must be after their start.")]},
                code="end_not_after_start",
            )
        return attrs


class ScheduleSerializer(serializers.Serializer):
    slot_minutes = serializers.IntegerField(min_value=SLOT_MINUTES_MIN, max_value=SLOT_MINUTES_MAX)
    horizon_days = serializers.IntegerField(min_value=HORIZON_DAYS_MIN, max_value=HORIZON_DAYS_MAX)
    working_hours = WorkingHoursSerializer(many=True, max_length=MAX_INTERVALS_PER_WEEK)

    @staticmethod
    def from_schedule(schedule) -> dict:
        return ScheduleSerializer(
            {
                "slot_minutes": schedule.slot_minutes,
                "horizon_days": schedule.horizon_days,
                "working_hours": [
                    {"weekday": h.weekday, "start": h.start, "end": h.end} for h in schedule.working_hours.all()
                ],
            }
        ).data


class AbsenceSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AbsenceKind.choices, default=AbsenceKind.VACATION)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    class Meta:
        model = Absence
        fields = ["id", "kind", "start", "end", "comment"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "start": {"help_text": _("ISO 8601; without an offset it is read in the clinic's zone")},
            "end": {"help_text": _("ISO 8601; must be after start")},
        }

    def validate(self, attrs):
        if not attrs["start"] < attrs["end"]:
            raise serializers.ValidationError(
                {"end": [_("The end of an absence must be after its start.")]}, code="end_not_after_start"
            )
        return attrs


class DoctorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    first_name = serializers.CharField(read_only=True)
    middle_name = serializers.CharField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    slot_minutes = serializers.IntegerField(source="schedule.slot_minutes", read_only=True, default=None)
    horizon_days = serializers.IntegerField(source="schedule.horizon_days", read_only=True, default=None)
