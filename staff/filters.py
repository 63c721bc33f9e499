"""Filters of the user list."""

from django.db.models import Q
from django_filters import rest_framework as filters

from hospital.filters import BooleanFilter, SearchFilter, StrictFilterForm

from .models import Sex, User
from .roles import Role


class UserFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    is_active = BooleanFilter()
    sex = filters.ChoiceFilter(choices=Sex.choices)
    search = SearchFilter(method="filter_search")

    class Meta:
        model = User
        form = StrictFilterForm
        fields = ["role", "is_active", "sex", "search"]

    def filter_role(self, queryset, name, value):
        return queryset.with_role(value)

    def filter_search(self, queryset, name, value):
        query = Q()
        for word in value.split():
            query &= (
                Q(username__icontains=word)
                | Q(last_name__icontains=word)
                | Q(first_name__icontains=word)
                | Q(middle_name__icontains=word)
            )
        return queryset.filter(query)
