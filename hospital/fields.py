"""Serializer fields shared by the API's apps."""

import re

from rest_framework import serializers

from hospital.filters import ID_MAX, ISO_DATE


class IsoDateField(serializers.DateField):
    """A date written exactly YYYY-MM-DD: DRF's "%Y-%m-%d" also takes "1985-3-2"."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: DRF's IntegerField also takes "5" and "5.0" (strings), which the schema does not allow."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string: DRF's CharField also takes numbers (5 becomes "5"), which the schema does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DigitsIntegerField(serializers.IntegerField):
    """A whole number in a query string, digits only (DRF's IntegerField also takes "1.0", " 1", "١")."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and re.fullmatch("[0-9]{1,19}", data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdQueryField(DigitsIntegerField):
    """A database id in a query string: 1 .. 2**63 - 1 (a bigint primary key)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)
