"""Serializer fields shared by the API's apps."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hospital.filters import ID_INVALID, ID_MAX, ID_SCHEMA, ISO_DATE, id_parse


class IsoDateField(serializers.DateField):
    """A date written exactly YYYY-MM-DD: DRF's "%Y-%m-%d" also takes "1985-3-2"."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)

    def to_representation(self, value):
        # Four digits of year whatever the year: strftime's "%Y" writes year 1 as "1-01-01".
        return value.isoformat() if value else None


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: DRF's IntegerField also takes "5" and "5.0" (strings), which the schema does not allow."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(ID_SCHEMA)
class IdField(serializers.Field):
    """A database id (id_parse), with the same message as the query filters' id."""

    def to_internal_value(self, data):
        parsed = id_parse(data)
        if parsed is None:
            # Formatted here: DRF's fail() fills str.format fields, and the message is %-formatted.
            raise serializers.ValidationError(ID_INVALID % {"max": ID_MAX}, code="invalid")
        return parsed

    def to_representation(self, value):
        return value


class StrictTextMixin:
    """Text must arrive as a JSON string: DRF's CharField would take 123 as "123", which the schema refuses."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictTextMixin, serializers.CharField):
    pass


class TextRegexField(StrictTextMixin, serializers.RegexField):
    pass


class TextEmailField(StrictTextMixin, serializers.EmailField):
    pass


class DigitsIntegerField(serializers.IntegerField):
    """A whole number in a query string, digits only (DRF's IntegerField also takes "1.0", " 1", "١")."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and re.fullmatch("[0-9]{1,19}", data)):
            self.fail("invalid")
        return super().to_internal_value(data)
