"""OpenAPI helpers: the shared error shape and the schema hooks."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

# Escapes, not characters: the same text is a Python and an ECMA (schema) pattern.
NO_NULL_CHARACTERS = r"^[^\u0000]*$"
# What DRF's CharField accepts when it trims: no null character, and something besides what
# str.strip() removes (which includes control characters such as U+001E).
_STRIPPED = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\u0000]*[^\u0000{_STRIPPED}][^\u0000]*$"


class SchemaPattern(RegexValidator):
    """Puts in the schema a pattern that the field enforces by itself (DRF refuses blanks and U+0000)."""

    def __call__(self, value):
        # The field's own checks do the refusing, with their own messages.
        return None


@extend_schema_field(
    {
        "type": "object",
        # A plain field has a list of messages; a list field (groups, working_hours) has them per
        # item and a nested field per sub-field, so a value may also be an object or hold objects.
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                {"type": "object"},
            ]
        },
    }
)
class FieldErrorsField(serializers.DictField):
    """The messages per input field, as DRF's validation builds them."""


class ErrorSerializer(serializers.Serializer):
    """Every 4xx body: a message, a machine code and, for bad input, the errors per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = FieldErrorsField(required=False)  # type: ignore[assignment]  # the error shape's own `fields` key


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

# A paginated list answers 404 for a page that is not a number, below 1 or past the last (DRF's
# page-number pagination).
PAGE_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description="No such page: not a page number, below 1 or past the last."
)


def drop_slash_aliases(endpoints, **kwargs):
    """Every path also answers with a trailing slash; the schema lists each path once."""
    return [endpoint for endpoint in endpoints if not getattr(endpoint[3], "is_slash_alias", False)]
