"""Serializer fields shared by the API's apps."""

from rest_framework import serializers

from hospital.filters import ISO_DATE


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


class StrictCharField(serializers.CharField):
    """A JSON string: DRF's CharField also takes numbers (5 becomes "5"), which the schema does not allow."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
