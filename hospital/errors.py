"""One JSON shape for every API error: {"detail", "code", "fields"?}."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

INVALID_INPUT = _("Invalid input.")
BODY_TOO_LARGE = _("The request body is too large.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = BODY_TOO_LARGE
    default_code = "too_large"


class Conflict(exceptions.APIException):
    """409: the request is valid but the state of the resource forbids it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Conflict.")
    default_code = "conflict"


class ServiceError(Exception):
    """A business rule refused the operation; `status` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"
    message = _("The request cannot be carried out.")

    def __init__(self, message=None, *, code: str | None = None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(str(self.message))


def _first_code(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


def exception_handler(exc, context):
    """Render DRF, Django and service errors in the one shape clients parse."""
    if isinstance(exc, ServiceError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            fields = {key: value for key, value in detail.items() if key != "non_field_errors"}
            non_field = detail.get("non_field_errors")
            message = str(non_field[0]) if non_field else str(INVALID_INPUT)
            body = {"detail": message, "code": _first_code(detail)}
            if fields:
                body["fields"] = fields
        elif isinstance(detail, list):
            body = {"detail": str(detail[0]) if detail else str(INVALID_INPUT), "code": _first_code(detail)}
        else:
            body = {"detail": str(detail), "code": getattr(detail, "code", "invalid")}
    else:
        body = {"detail": str(detail), "code": getattr(detail, "code", None) or exc.default_code}
    return Response(body, status=response.status_code, headers=_headers(response))


def _headers(response):
    return {key: value for key, value in response.items() if key in {"WWW-Authenticate", "Retry-After", "Allow"}}
