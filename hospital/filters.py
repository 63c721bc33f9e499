"""Strict query filters: a value the schema does not allow is a 400, never silently ignored."""

import operator
import re
from collections.abc import Iterable
from functools import reduce

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from hospital.openapi import NO_NULL_CHARACTERS

BOOLEAN_INVALID = _("Enter true or false.")
ID_INVALID = _("Enter a whole number from 1 to %(max)d.")
ID_MAX = 2**63 - 1  # a bigint primary key
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAX}
BLANK_INVALID = _("This parameter cannot be empty; leave it out instead.")
DATE_INVALID = _("Enter the date as YYYY-MM-DD.")
# Exactly YYYY-MM-DD: strptime's %m and %d also take "1", so "2026-1-1" passed as a date.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class StrictBooleanField(forms.Field):
    """`true` or `false`, as the schema's boolean is written in a query string; anything else is invalid.

    django-filter's own boolean widget turns an unknown value into "no filter", so `?free=maybe`
    would silently list every slot.
    """

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(BOOLEAN_INVALID, code="invalid")


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class IsoDateField(forms.DateField):
    """A date written exactly YYYY-MM-DD (the schema's `date` format)."""

    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if isinstance(value, str) and value not in self.empty_values and not ISO_DATE.fullmatch(value):
            raise ValidationError(DATE_INVALID, code="invalid")
        return super().to_python(value)


class DateFilter(filters.DateFilter):
    field_class = IsoDateField


def id_parse(value) -> int | None:
    """A database id written in ASCII digits, 1 to ID_MAX; None for anything else.

    The one id rule of the API's filters and serializers and the admin's parameters: int() and
    Django's IntegerField also take "1.0", " 1" and other scripts' digits ("١").
    """
    if isinstance(value, str) and re.fullmatch("[0-9]{1,19}", value) and 1 <= int(value) <= ID_MAX:
        return int(value)
    return None


class IdField(forms.Field):
    """A database id in a query string (id_parse)."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parsed = id_parse(value)
        if parsed is None:
            raise ValidationError(ID_INVALID, code="invalid", params={"max": ID_MAX})
        return parsed


@extend_schema_field(ID_SCHEMA)
class IdFilter(filters.NumberFilter):
    """Rows of one doctor or patient, by id."""

    field_class = IdField


SEARCH_MAX_LENGTH = 150


def words_query(text: str, fields: Iterable[str]) -> Q:
    """Every word of `text` in one of `fields`, ignoring case ("ivan petr" finds Petrov Ivan)."""
    query = Q()
    for word in text.split():
        query &= reduce(operator.or_, (Q(**{f"{field}__icontains": word}) for field in fields))
    return query


@extend_schema_field({"type": "string", "maxLength": SEARCH_MAX_LENGTH, "pattern": NO_NULL_CHARACTERS})
class SearchFilter(filters.CharFilter):
    """Free text matched word by word against `fields` (words_query).

    Django's form field refuses what the schema says: null characters, over 150 long.
    """

    def __init__(self, *args, fields: Iterable[str], **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(*args, **kwargs)
        self.search_fields = tuple(fields)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(words_query(value, self.search_fields))


class StrictFilterForm(forms.Form):
    """The form of a filter set: a parameter given with an empty value is an error, except free text.

    Django's form fields read an empty value as "not given"; the schema documents dates, numbers,
    booleans and choices, none of which is empty.
    """

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if self.data.get(name) == "" and not isinstance(field, forms.CharField):
                self.add_error(name, ValidationError(BLANK_INVALID, code="blank"))
        return cleaned
