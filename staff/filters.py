"""Filters of the user list."""

from django_filters import rest_framework as filters

from hospital.filters import BooleanFilter, SearchFilter, StrictFilterForm

from .models import NAME_FIELDS, Sex, User
from .roles import Role


class UserFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    is_active = BooleanFilter()
    sex = filters.ChoiceFilter(choices=Sex.choices)
    search = SearchFilter(fields=("username", *NAME_FIELDS))

    class Meta:
        model = User
        form = StrictFilterForm
        fields = ["role", "is_active", "sex", "search"]

    def filter_role(self, queryset, name, value):
        return queryset.with_role(value)
