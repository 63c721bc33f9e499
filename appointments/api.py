"""Scheduling endpoints: validate, call one service or selector, serialise."""

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.filters import IdFilter, SearchFilter, StrictFilterForm
from hospital.openapi import ERRORS, PAGE_NOT_FOUND
from staff.models import NAME_FIELDS, User
from staff.permissions import IsPatient

from . import availability, selectors, services
from .filters import AppointmentFilter, SlotFilter
from .models import Absence, Closure, DateOverride, DoctorSchedule, Specialty, Timetable, WorkingHours
from .serializers import (
    AbsenceSerializer,
    AppointmentListSerializer,
    AppointmentSerializer,
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    ClosureSerializer,
    DateOverrideSerializer,
    DateRangeQuerySerializer,
    DoctorSerializer,
    FreeSlotSerializer,
    NextSlotSerializer,
    NextSlotsQuerySerializer,
    ScheduleSerializer,
    SlotSerializer,
    SpecialtySerializer,
)

DOCTOR_ID = OpenApiParameter("doctor_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="doctor's user id")
SLOT_ID = OpenApiParameter("slot_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="slot id")
DATE_PARAMS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="YYYY-MM-DD, clinic-local, inclusive"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="YYYY-MM-DD, clinic-local, inclusive"),
]
DATE = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    OpenApiParameter.PATH,
    description="YYYY-MM-DD, clinic-local; a malformed or impossible date is a 404",
)


class ReadAuthenticatedWriteAdministrator(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.is_administrator


_FREE_SLOT_TIME = FreeSlotSerializer().fields["start_time"]


class DoctorFreeSlotsView(APIView):
    """A doctor's free slots in the future (the user's `/api/doctor/slots/get/<id>`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[DOCTOR_ID, *DATE_PARAMS],
        responses={200: FreeSlotSerializer(many=True), **ERRORS.pick(400, 401, 404)},
        summary="Free future slots of a doctor, ascending",
        tags=["slots"],
    )
    def get(self, request, doctor_pk):
        query = DateRangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = selectors.doctor_get(pk=doctor_pk, active_only=True)
        slots = selectors.free_slots(doctor=doctor, **query.validated_data)
        # The hottest read of the API: the serializer's own field renders each datetime (same
        # output), without the per-row serializer machinery, half of this request's time
        # (docs/benchmarks.md, scenario 5).
        render = _FREE_SLOT_TIME.to_representation
        rows = [
            {"id": s["id"], "start_time": render(s["start_time"]), "stop_time": render(s["stop_time"])} for s in slots
        ]
        return Response(rows)


class BookView(APIView):
    """Book a slot for the calling patient."""

    permission_classes = [IsPatient]

    @extend_schema(
        request=None,
        parameters=[SLOT_ID],
        responses={201: AppointmentSerializer, **ERRORS.pick(400, 401, 403, 404, 409)},
        summary="Book an appointment: the slot goes to the caller",
        description="409 when the slot is taken (by anyone, the caller included) or the caller already holds "
        "an appointment overlapping it; 400 when the slot has started. The doctor's booking rules apply: 400 "
        "`too_late_to_book` within the minimum notice, 409 `too_many_appointments` or `daily_limit_reached` "
        "at the caller's caps (counted over all doctors).",
        tags=["appointments"],
    )
    def post(self, request, slot_pk):
        slot = services.slot_book(slot_id=slot_pk, patient=request.user)
        return Response(AppointmentSerializer(slot).data, status=status.HTTP_201_CREATED)


class UndoView(APIView):
    """Cancel the calling patient's appointment."""

    permission_classes = [IsPatient]

    @extend_schema(
        request=None,
        parameters=[SLOT_ID],
        responses={200: AppointmentSerializer, **ERRORS.pick(400, 401, 403, 404, 409)},
        summary="Cancel an appointment: the slot is free again",
        description="400 `appointment_started`, or `too_late_to_cancel` within the doctor's cancellation cutoff; "
        "409 `invalid_transition` once the patient has arrived. Recorded as cancelled by the patient.",
        tags=["appointments"],
    )
    def post(self, request, slot_pk):
        slot = services.slot_cancel(slot_id=slot_pk, patient=request.user)
        return Response(AppointmentSerializer(slot).data)


class ScheduleView(APIView):
    """A doctor's slot length, horizon and weekly working hours."""

    permission_classes = [ReadAuthenticatedWriteAdministrator]

    def _schedule(self, doctor) -> dict:
        """The stored schedule, or the defaults a doctor has before one is saved: reads never write."""
        schedule = (
            DoctorSchedule.objects.prefetch_related(
                Prefetch("working_hours", WorkingHours.objects.order_by("weekday", "start"))
            )
            .filter(doctor=doctor)
            .first()
        )
        return ScheduleSerializer.from_schedule(schedule or DoctorSchedule(doctor=doctor))

    @extend_schema(
        parameters=[DOCTOR_ID],
        responses={200: ScheduleSerializer, **ERRORS.pick(401, 404)},
        summary="A doctor's schedule",
        tags=["schedules"],
    )
    def get(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        return Response(self._schedule(doctor))

    @extend_schema(
        parameters=[DOCTOR_ID],
        request=ScheduleSerializer,
        responses={200: ScheduleSerializer, **ERRORS.pick(400, 401, 403, 404)},
        summary="Replace a doctor's schedule; their slots are regenerated",
        tags=["schedules"],
    )
    def put(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.schedule_update(
            doctor=doctor,
            slot_minutes=data["slot_minutes"],
            horizon_days=data["horizon_days"],
            working_hours=[(h["weekday"], h["start"], h["end"]) for h in data["working_hours"]],
            actor=request.user,
        )
        return Response(self._schedule(doctor))


class AbsenceListView(APIView):
    """A doctor's vacations and breaks."""

    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=[DOCTOR_ID],
        responses={200: AbsenceSerializer(many=True), **ERRORS.pick(401, 404)},
        summary="A doctor's absences",
        tags=["schedules"],
    )
    def get(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        return Response(AbsenceSerializer(doctor.absences.order_by("start"), many=True).data)

    @extend_schema(
        parameters=[DOCTOR_ID],
        request=AbsenceSerializer,
        responses={201: AbsenceSerializer, **ERRORS.pick(400, 401, 403, 404)},
        summary="Add an absence; slots overlapping it are removed unless booked",
        tags=["schedules"],
    )
    def post(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        serializer = AbsenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        absence = services.absence_create(doctor=doctor, **serializer.validated_data, actor=request.user)
        return Response(AbsenceSerializer(absence).data, status=status.HTTP_201_CREATED)


class AbsenceDetailView(APIView):
    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=[DOCTOR_ID, OpenApiParameter("absence_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **ERRORS.pick(401, 403, 404)},
        summary="Delete an absence; slots are regenerated",
        tags=["schedules"],
    )
    def delete(self, request, doctor_pk, absence_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        absence = get_object_or_404(Absence, pk=absence_pk, doctor=doctor)
        services.absence_delete(absence=absence, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClosureListView(APIView):
    """Days the whole clinic is closed."""

    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=DATE_PARAMS,
        responses={200: ClosureSerializer(many=True), **ERRORS.pick(400, 401)},
        summary="Clinic closures sharing a day with the date range, ascending",
        tags=["closures"],
    )
    def get(self, request):
        query = DateRangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(ClosureSerializer(selectors.closures(**query.validated_data), many=True).data)

    @extend_schema(
        request=ClosureSerializer,
        responses={201: ClosureSerializer, **ERRORS.pick(400, 401, 403)},
        summary="Close the clinic on local dates, inclusive; every doctor's slots are regenerated",
        description="Free slots of those days are removed; booked ones are kept and flagged `conflict`.",
        tags=["closures"],
    )
    def post(self, request):
        serializer = ClosureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closure = services.closure_create(**serializer.validated_data, actor=request.user)
        return Response(ClosureSerializer(closure).data, status=status.HTTP_201_CREATED)


class ClosureDetailView(APIView):
    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=[OpenApiParameter("closure_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **ERRORS.pick(401, 403, 404)},
        summary="Delete a closure; every doctor's slots are regenerated",
        tags=["closures"],
    )
    def delete(self, request, closure_pk):
        closure = get_object_or_404(Closure, pk=closure_pk)
        services.closure_delete(closure=closure, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DateOverrideListView(APIView):
    """A doctor's dates with hours of their own."""

    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=[DOCTOR_ID, *DATE_PARAMS],
        responses={200: DateOverrideSerializer(many=True), **ERRORS.pick(400, 401, 404)},
        summary="A doctor's date overrides, by date",
        tags=["schedules"],
    )
    def get(self, request, doctor_pk):
        query = DateRangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = selectors.doctor_get(pk=doctor_pk)
        overrides = selectors.date_overrides(doctor=doctor, **query.validated_data)
        return Response([DateOverrideSerializer.from_override(override) for override in overrides])


class DateOverrideDetailView(APIView):
    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        parameters=[DOCTOR_ID, DATE],
        request=DateOverrideSerializer,
        responses={200: DateOverrideSerializer, **ERRORS.pick(400, 401, 403, 404)},
        summary="Set a doctor's hours on one date (`intervals: []`: a day off); their slots are regenerated",
        description="The intervals replace the weekday's hours on that date, with the same rules: each ends after "
        "it starts, none overlap. Free slots the date no longer has are removed; booked ones are kept and "
        "flagged `conflict`.",
        tags=["schedules"],
    )
    def put(self, request, doctor_pk, date):
        doctor = selectors.doctor_get(pk=doctor_pk)
        serializer = DateOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        override = services.date_override_set(
            doctor=doctor,
            day=date,
            intervals=[(interval["start"], interval["end"]) for interval in data["intervals"]],
            comment=data["comment"],
            actor=request.user,
        )
        return Response(DateOverrideSerializer.from_override(override))

    @extend_schema(
        parameters=[DOCTOR_ID, DATE],
        request=None,
        responses={204: None, **ERRORS.pick(401, 403, 404)},
        summary="Delete a date override: the weekday's hours apply again; slots are regenerated",
        tags=["schedules"],
    )
    def delete(self, request, doctor_pk, date):
        doctor = selectors.doctor_get(pk=doctor_pk)
        override = get_object_or_404(DateOverride, doctor=doctor, date=date)
        services.date_override_delete(override=override, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AvailabilityView(APIView):
    """Why each slot of a doctor's date is or is not bookable now."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            DOCTOR_ID,
            OpenApiParameter("date", OpenApiTypes.DATE, required=True, description="YYYY-MM-DD, clinic-local"),
        ],
        responses={200: AvailabilitySerializer, **ERRORS.pick(400, 401, 403, 404)},
        summary="A doctor's availability on one date, explained: every slot their hours give and why it is or is "
        "not bookable now",
        description="For administrators and the doctor themselves. `day`: `working`, `day_off` (no weekly hours "
        "that weekday), `override_day_off`, `closure`, `beyond_horizon` or `doctor_inactive` (the first that "
        "applies, in the order `doctor_inactive`, `closure`, `override_day_off`, `day_off`, `beyond_horizon`). "
        "Each slot lists every reason that applies: `booked`, `absence` (with `absence` beside it), `closure`, "
        "`doctor_inactive`, `started`, `min_notice`, `beyond_horizon`, `not_generated`, `conflict`; it is "
        "`bookable` exactly when there is none, and then `slot_id` is the id to book.",
        tags=["schedules"],
    )
    def get(self, request, doctor_pk):
        user = request.user
        if not (user.is_administrator or (user.is_doctor and user.pk == doctor_pk)):
            raise PermissionDenied()
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = selectors.doctor_get(pk=doctor_pk)
        result = availability.doctor_availability(doctor=doctor, day=query.validated_data["date"])
        return Response(AvailabilitySerializer.from_availability(result))


class DoctorFilter(filters.FilterSet):
    search = SearchFilter(fields=NAME_FIELDS, label=_("name contains"))
    specialty = IdFilter(field_name="specialties", label=_("only doctors of this specialty (id)"))

    class Meta:
        model = User
        form = StrictFilterForm
        fields = ["search", "specialty"]


@extend_schema_view(
    list=extend_schema(
        summary="Active doctors",
        responses={200: DoctorSerializer(many=True), **ERRORS.pick(400, 401), 404: PAGE_NOT_FOUND},
    ),
    retrieve=extend_schema(summary="One doctor", responses={200: DoctorSerializer, **ERRORS.pick(401, 404)}),
)
@extend_schema(tags=["doctors"])
class DoctorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = DoctorSerializer
    filterset_class = DoctorFilter

    def get_queryset(self):
        # One more query per page for every doctor's specialties, not one per doctor.
        return (
            User.objects.active_doctors()
            .select_related("schedule")
            .prefetch_related(Prefetch("specialties", Specialty.objects.order_by("name", "id")))
            .order_by("last_name", "id")
        )


@extend_schema(tags=["doctors"])
class SpecialtyListView(generics.ListAPIView):
    """Every specialty by name: a plain list, not paginated (a clinic has tens)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SpecialtySerializer
    pagination_class = None
    filter_backends: list = []
    queryset = Specialty.objects.order_by("name", "id")

    @extend_schema(summary="Specialties, by name", responses={200: SpecialtySerializer(many=True), **ERRORS.pick(401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NextFreeSlotsView(APIView):
    """The earliest free slots of a specialty or a doctor (`/api/slots/next`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[NextSlotsQuerySerializer],
        responses={200: NextSlotSerializer(many=True), **ERRORS.pick(400, 401, 404)},
        summary="The earliest free slots across the doctors of a specialty, or of one doctor",
        description="At least one of `specialty` and `doctor`; both given, both apply. Slots a patient could "
        "book now (not started; the doctors' minimum notice applies) starting at or after `after` (default "
        "now), ascending by start. 404 for an unknown specialty, or a doctor who is unknown, not a doctor "
        "or blocked.",
        tags=["slots"],
    )
    def get(self, request):
        query = NextSlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data.get("specialty") is not None:
            selectors.specialty_get(pk=data["specialty"])
        if data.get("doctor") is not None:
            selectors.doctor_get(pk=data["doctor"], active_only=True)
        slots = selectors.next_free_slots(
            specialty_id=data.get("specialty"),
            doctor_id=data.get("doctor"),
            after=data.get("after"),
            limit=data["limit"],
        )
        return Response(NextSlotSerializer(slots, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Slots, future by default",
        description="Without date_from only slots that have not started are listed.",
        responses={200: SlotSerializer(many=True), **ERRORS.pick(400, 401), 404: PAGE_NOT_FOUND},
    )
)
@extend_schema(tags=["slots"])
class SlotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = SlotSerializer
    filterset_class = SlotFilter

    def get_queryset(self):
        # Only active doctors' slots: one blocked, or no longer a doctor, offers nothing from that
        # commit on (booking refuses it too), before the regeneration that deletes them has run.
        doctors = User.objects.active_doctors().values("pk")
        queryset = Timetable.objects.filter(doctor__in=doctors).order_by("start_time", "id")
        if "date_from" not in self.request.query_params:
            queryset = queryset.filter(start_time__gt=timezone.now())
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="Appointments: a patient's own, a doctor's, or all for administrators",
        responses={200: AppointmentListSerializer(many=True), **ERRORS.pick(400, 401), 404: PAGE_NOT_FOUND},
    )
)
@extend_schema(tags=["appointments"])
class AppointmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = AppointmentListSerializer
    filterset_class = AppointmentFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Timetable.objects.none()
        return (
            selectors.appointments_visible_to(self.request.user)
            .select_related("doctor", "client")
            .order_by("start_time", "id")
        )
