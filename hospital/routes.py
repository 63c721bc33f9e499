"""Routes that answer with and without a trailing slash; dates in paths."""

import datetime

from django.urls import path


class IsoDateConverter:
    """A YYYY-MM-DD date in a path; anything else, an impossible date (2026-02-30) included, matches nothing (404)."""

    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        # A ValueError here makes Django try the next pattern, so the path ends in the API's 404.
        return datetime.date.fromisoformat(value)

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else str(value)


def both_slashes(route: str, view_factory, name: str) -> list:
    """Two paths for one view: the canonical `route` and its trailing-slash twin."""
    canonical = view_factory()
    alias = view_factory()
    alias.is_slash_alias = True
    twin = route[:-1] if route.endswith("/") else route + "/"
    return [path(route, canonical, name=name), path(twin, alias)]
