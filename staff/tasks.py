"""Celery tasks of people and access: thin, services do the work."""

from celery import shared_task

from . import services


@shared_task(name="staff.purge_expired_tokens", acks_late=True, ignore_result=True, time_limit=300)
def purge_expired_tokens() -> dict:
    """Delete expired API tokens; authentication no longer sweeps them on every request."""
    return {"deleted": services.tokens_purge_expired()}
