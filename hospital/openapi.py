"""OpenAPI helpers: the shared error shape and the schema hooks."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every 4xx body: a message, a machine code and, for bad input, the errors per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


_DESCRIPTIONS = {
    400: "Bad input; nothing was changed.",
    401: "Not authenticated, or the token expired or was revoked.",
    403: "Authenticated, but the role does not allow this.",
    404: "Not found (or not yours).",
    409: "Conflict with the current state (for example the slot is taken).",
    413: "Request body too large.",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
}


class _Errors(dict):
    def pick(self, *codes: int) -> dict:
        return {code: self[code] for code in codes}


ERRORS = _Errors(
    {code: OpenApiResponse(ErrorSerializer, description=description) for code, description in _DESCRIPTIONS.items()}
)


def drop_slash_aliases(endpoints, **kwargs):
    """Every path also answers with a trailing slash; the schema lists each path once."""
    return [endpoint for endpoint in endpoints if not getattr(endpoint[3], "is_slash_alias", False)]
