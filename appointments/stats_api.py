"""Statistics endpoints: appointments and utilisation per clinic-local day."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.fields import IdQueryField
from hospital.filters import ID_MAX
from hospital.openapi import ERRORS
from staff.permissions import IsDoctorOrAdministrator

from . import statistics
from .serializers import DateRangeQuerySerializer

DOCTOR_ID_MIN, DOCTOR_ID_MAX = 1, ID_MAX


class StatisticsQuerySerializer(DateRangeQuerySerializer):
    doctor = IdQueryField(required=False)


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class DayUtilisationSerializer(serializers.Serializer):
    day = serializers.DateField()
    total = serializers.IntegerField()
    booked = serializers.IntegerField()
    free = serializers.IntegerField()
    utilisation = serializers.FloatField(help_text="booked / total, percent, one decimal")


FILTERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="YYYY-MM-DD, clinic-local, inclusive"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="YYYY-MM-DD, clinic-local, inclusive"),
    OpenApiParameter(
        "doctor",
        {"type": "integer", "minimum": DOCTOR_ID_MIN, "maximum": DOCTOR_ID_MAX},
        description="only this doctor's slots",
    ),
]


class _StatisticsView(APIView):
    permission_classes = [IsDoctorOrAdministrator]

    def query(self, request) -> dict:
        serializer = StatisticsQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        params = {
            "date_from": serializer.validated_data.get("date_from"),
            "date_to": serializer.validated_data.get("date_to"),
            "doctor_id": serializer.validated_data.get("doctor"),
        }
        user = request.user
        if not user.is_administrator:
            # A doctor sees only their own load; asking for another doctor gives nothing.
            if params["doctor_id"] not in (None, user.pk):
                params["doctor_id"] = -1
            else:
                params["doctor_id"] = user.pk
        return params


class AppointmentsPerDayView(_StatisticsView):
    @extend_schema(
        parameters=FILTERS,
        responses={200: DayCountSerializer(many=True), **ERRORS.pick(400, 401, 403)},
        summary="How many appointments on which day",
        description="Booked slots per clinic-local day, ascending; days without appointments are omitted. "
        "Administrators see every doctor, a doctor only their own; patients get 403.",
        tags=["statistics"],
    )
    def get(self, request):
        rows = statistics.appointments_per_day(**self.query(request))
        return Response(DayCountSerializer(rows, many=True).data)


class UtilisationView(_StatisticsView):
    @extend_schema(
        parameters=FILTERS,
        responses={200: DayUtilisationSerializer(many=True), **ERRORS.pick(400, 401, 403)},
        summary="Slots per day: total, booked, free and utilisation",
        tags=["statistics"],
    )
    def get(self, request):
        rows = statistics.utilisation_per_day(**self.query(request))
        return Response(DayUtilisationSerializer(rows, many=True).data)


class DayOutcomesSerializer(serializers.Serializer):
    day = serializers.DateField()
    booked = serializers.IntegerField(help_text="appointments now `booked`")
    arrived = serializers.IntegerField(help_text="appointments now `arrived`")
    fulfilled = serializers.IntegerField(help_text="appointments now `fulfilled`")
    noshow = serializers.IntegerField(help_text="appointments now `noshow`")
    cancelled_by_patient = serializers.IntegerField(help_text="cancellations by the patient, from the history")
    cancelled_by_clinic = serializers.IntegerField(help_text="cancellations by the clinic, from the history")
    no_show_rate = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="noshow / (arrived + fulfilled + noshow), a fraction; null when that is 0",
    )


class OutcomesView(_StatisticsView):
    @extend_schema(
        parameters=FILTERS,
        responses={200: DayOutcomesSerializer(many=True), **ERRORS.pick(400, 401, 403)},
        summary="Appointment outcomes per day",
        description="Per clinic-local day of the slots' start, ascending; days with nothing are omitted. Statuses "
        "count appointments as they stand; cancellations come from the booking history (a blocked patient's "
        "released appointments are neither). Administrators see every doctor, a doctor only their own.",
        tags=["statistics"],
    )
    def get(self, request):
        rows = statistics.outcomes_per_day(**self.query(request))
        return Response(DayOutcomesSerializer(rows, many=True).data)
