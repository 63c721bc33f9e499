"""Appointment outcome endpoints: arrive, fulfil, no-show and the clinic's cancel. Validate, call one service."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.fields import StrictCharField
from hospital.openapi import ERRORS, NOT_BLANK, ErrorSerializer
from staff.permissions import IsDoctorOrAdministrator

from . import outcomes
from .api import SLOT_ID
from .serializers import AppointmentSerializer

INVALID_TRANSITION = OpenApiResponse(
    ErrorSerializer, description="`invalid_transition`: the appointment's status does not allow this step."
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No booked appointment in this slot, or (for a doctor) not one of theirs."
)


class CancelSerializer(serializers.Serializer):
    # Not trimmed, so that the schema's length is the stored length; a reason of blanks only is refused.
    reason = StrictCharField(
        min_length=1,
        max_length=outcomes.REASON_MAX_LENGTH,
        trim_whitespace=False,
        validators=[RegexValidator(NOT_BLANK, message=outcomes.REASON_REQUIRED, code="blank")],
        help_text=_("Why the clinic cancels (1-500 characters); kept in the booking history."),
    )


def _outcome_schema(summary: str, description: str, errors: dict):
    return extend_schema(
        request=None,
        parameters=[SLOT_ID],
        responses={200: AppointmentSerializer, **ERRORS.pick(401, 403), 404: NOT_FOUND, **errors},
        summary=summary,
        description=description,
        tags=["appointments"],
    )


# Administrators act on every appointment, a doctor on their own; patients get 403.


class ArriveView(APIView):
    permission_classes = [IsDoctorOrAdministrator]

    @_outcome_schema(
        "The patient has arrived: booked -> arrived",
        "409 `invalid_transition` unless the appointment is `booked`.",
        {409: INVALID_TRANSITION},
    )
    def post(self, request, slot_pk):
        slot = outcomes.appointment_arrive(slot_id=slot_pk, actor=request.user)
        return Response(AppointmentSerializer(slot).data)


class FulfilView(APIView):
    permission_classes = [IsDoctorOrAdministrator]

    @_outcome_schema(
        "The visit took place: arrived -> fulfilled",
        "409 `invalid_transition` unless the appointment is `arrived`.",
        {409: INVALID_TRANSITION},
    )
    def post(self, request, slot_pk):
        slot = outcomes.appointment_fulfil(slot_id=slot_pk, actor=request.user)
        return Response(AppointmentSerializer(slot).data)


class NoShowView(APIView):
    permission_classes = [IsDoctorOrAdministrator]

    @_outcome_schema(
        "The patient did not come: booked -> noshow",
        "409 `invalid_transition` unless the appointment is `booked`; 400 `not_started` before its start.",
        {400: ERRORS[400], 409: INVALID_TRANSITION},
    )
    def post(self, request, slot_pk):
        slot = outcomes.appointment_no_show(slot_id=slot_pk, actor=request.user)
        return Response(AppointmentSerializer(slot).data)


class ClinicCancelView(APIView):
    permission_classes = [IsDoctorOrAdministrator]

    @extend_schema(
        request=CancelSerializer,
        parameters=[SLOT_ID],
        responses={
            200: AppointmentSerializer,
            **ERRORS.pick(400, 401, 403),
            404: NOT_FOUND,
            409: INVALID_TRANSITION,
        },
        summary="The clinic cancels an appointment: the slot is free again",
        description="Not bound by the cancellation cutoff. 400 with a field error on `reason`; 400 "
        "`appointment_started`; 409 `invalid_transition` when the patient has arrived or the visit took place. "
        "The history records the cancellation as the clinic's, with the reason.",
        tags=["appointments"],
    )
    def post(self, request, slot_pk):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        slot = outcomes.appointment_cancel(slot_id=slot_pk, actor=request.user, reason=body.validated_data["reason"])
        return Response(AppointmentSerializer(slot).data)
