"""Booking rules endpoints: the clinic's and a doctor's. Validate, call one service or selector, serialise."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.fields import StrictIntegerField
from hospital.openapi import ERRORS

from . import rules, selectors
from .api import DOCTOR_ID, ReadAuthenticatedWriteAdministrator
from .models import CANCEL_CUTOFF_HELP, MAX_ACTIVE_HELP, MAX_PER_DAY_HELP, MIN_NOTICE_HELP, RULE_VALUE_MAX

DOCTOR_VALUE_HELP = _("The doctor's own value; null follows the clinic's.")


def _minutes(**kwargs):
    return StrictIntegerField(min_value=0, max_value=RULE_VALUE_MAX, **kwargs)


class ClinicRulesSerializer(serializers.Serializer):
    """The clinic's rules: every field required; the caps may be null (no cap)."""

    min_notice_minutes = _minutes(help_text=MIN_NOTICE_HELP)
    cancel_cutoff_minutes = _minutes(help_text=CANCEL_CUTOFF_HELP)
    max_active_per_patient = _minutes(allow_null=True, help_text=MAX_ACTIVE_HELP)
    max_per_patient_per_day = _minutes(allow_null=True, help_text=MAX_PER_DAY_HELP)


class DoctorRulesSerializer(serializers.Serializer):
    """A doctor's overrides (null: the clinic's) and, read-only, the rules in force for their slots."""

    min_notice_minutes = _minutes(allow_null=True, help_text=DOCTOR_VALUE_HELP)
    cancel_cutoff_minutes = _minutes(allow_null=True, help_text=DOCTOR_VALUE_HELP)
    max_active_per_patient = _minutes(allow_null=True, help_text=DOCTOR_VALUE_HELP)
    max_per_patient_per_day = _minutes(allow_null=True, help_text=DOCTOR_VALUE_HELP)
    effective = ClinicRulesSerializer(read_only=True, help_text=_("The rules in force: overrides over the clinic's."))


class ClinicRulesView(APIView):
    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @extend_schema(
        responses={200: ClinicRulesSerializer, **ERRORS.pick(401)},
        summary="The clinic's booking rules",
        tags=["booking rules"],
    )
    def get(self, request):
        return Response(ClinicRulesSerializer(rules.clinic_rules().as_dict()).data)

    @extend_schema(
        request=ClinicRulesSerializer,
        responses={200: ClinicRulesSerializer, **ERRORS.pick(400, 401, 403)},
        summary="Replace the clinic's booking rules (all four fields)",
        tags=["booking rules"],
    )
    def put(self, request):
        body = ClinicRulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        in_force = rules.clinic_rules_update(**body.validated_data)
        return Response(ClinicRulesSerializer(in_force.as_dict()).data)


class DoctorRulesView(APIView):
    permission_classes = [ReadAuthenticatedWriteAdministrator]

    @staticmethod
    def _body(doctor) -> dict:
        overrides = rules.doctor_overrides(doctor_id=doctor.pk)
        effective = rules.doctor_rules(doctor_id=doctor.pk)
        return DoctorRulesSerializer({**overrides, "effective": effective.as_dict()}).data

    @extend_schema(
        parameters=[DOCTOR_ID],
        responses={200: DoctorRulesSerializer, **ERRORS.pick(401, 404)},
        summary="A doctor's booking rules: overrides and the rules in force",
        tags=["booking rules"],
    )
    def get(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        return Response(self._body(doctor))

    @extend_schema(
        parameters=[DOCTOR_ID],
        request=DoctorRulesSerializer,
        responses={200: DoctorRulesSerializer, **ERRORS.pick(400, 401, 403, 404)},
        summary="Replace a doctor's overrides (all four fields; null follows the clinic's)",
        tags=["booking rules"],
    )
    def put(self, request, doctor_pk):
        doctor = selectors.doctor_get(pk=doctor_pk)
        body = DoctorRulesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rules.doctor_rules_update(doctor=doctor, **body.validated_data)
        return Response(self._body(doctor))
