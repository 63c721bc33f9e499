"""Serializer fields shared by the API's apps."""

from rest_framework import serializers

from hospital.filters import ISO_DATE


class IsoDateField(serializers.DateField):
    """A date written exactly YYYY-MM-DD: DRF's "%Y-%m-%d" also takes "1985-3-2"."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)
