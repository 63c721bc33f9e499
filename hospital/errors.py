"""One JSON shape for every API error: {"detail", "code", "fields"?}."""

import logging

from django import db
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

INVALID_INPUT = _("Invalid input.")
BODY_TOO_LARGE = _("The request body is too large.")
DATABASE_UNAVAILABLE = _("The service is briefly unavailable. Try again in a few seconds.")
# Seconds a client is asked to wait when the database is unreachable (a restart takes a few).
DATABASE_RETRY_AFTER = 5


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = BODY_TOO_LARGE
    default_code = "too_large"


class DatabaseUnavailable(exceptions.APIException):
    """503: the database cannot be reached (restarting, failing over) or asks for a retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_UNAVAILABLE
    default_code = "unavailable"


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
    elif isinstance(exc, (db.OperationalError, db.InterfaceError)):
        # The connection is gone or refused (a PostgreSQL restart), or the database asks for a
        # retry (serialisation failure, deadlock): the transaction was rolled back. Retryable, so
        # a 503 with Retry-After; a query the database rejects (a DataError, say) is still a 500.
        logger.warning("Database unavailable: %s", exc)
        exc = DatabaseUnavailable()

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
    headers = _headers(response)
    if isinstance(exc, DatabaseUnavailable):
        headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return Response(body, status=response.status_code, headers=headers)


def _headers(response):
    return {key: value for key, value in response.items() if key in {"WWW-Authenticate", "Retry-After", "Allow"}}


@csrf_exempt  # a 404 whatever the method; a session cookie must not turn it into CSRF's HTML 403
def api_not_found(request, *args, **kwargs):
    """An unknown path under /api/ (say /api/users/abc/): the API's JSON 404, debug on or off."""
    body = {"detail": str(exceptions.NotFound.default_detail), "code": exceptions.NotFound.default_code}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)


def page_not_found(request, exception=None):
    """Django's 404 handler: a 404 raised under /api/ outside DRF answers in the API's shape too."""
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)
