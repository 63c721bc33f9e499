"""Routes that answer with and without a trailing slash."""

from django.urls import path


def both_slashes(route: str, view_factory, name: str) -> list:
    """Two paths for one view: the canonical `route` and its trailing-slash twin."""
    canonical = view_factory()
    alias = view_factory()
    alias.is_slash_alias = True
    twin = route[:-1] if route.endswith("/") else route + "/"
    return [path(route, canonical, name=name), path(twin, alias)]
