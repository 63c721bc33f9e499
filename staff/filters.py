"""Filters of the user list."""

from django.db.models import Q
from django_filters import rest_framework as filters

from .models import Sex, User
from .roles import Role


class UserFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices, method="filter_role")
    is_active = filters.BooleanFilter()
    sex = filters.ChoiceFilter(choices=Sex.choices)
    search = filters.CharFilter(method="filter_search", max_length=150)

    class Meta:
        model = User
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
