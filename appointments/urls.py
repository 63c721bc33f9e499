"""Paths of the scheduling API."""

urlpatterns: list = []
