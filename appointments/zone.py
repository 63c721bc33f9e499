"""The clinic's time zone: where schedules are planned and days are counted."""

from zoneinfo import ZoneInfo

from django.conf import settings


def clinic_zone() -> ZoneInfo:
    """The zone the clinic plans in and counts days by (settings.TIME_ZONE)."""
    return ZoneInfo(settings.TIME_ZONE)
