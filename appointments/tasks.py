"""Celery tasks: the slot generator's and the no-show sweep. Thin and idempotent: a service does the work."""

import logging

from celery import shared_task
from django.conf import settings

from . import generation, outcomes

logger = logging.getLogger(__name__)

# Below the sweep interval, so a stuck batch is killed before the next sweep repeats it.
_HARD_LIMIT = max(10, int(settings.SLOT_GENERATION_INTERVAL * 0.9))
_SOFT_LIMIT = max(5, int(settings.SLOT_GENERATION_INTERVAL * 0.8))


@shared_task(
    name="appointments.generate_slots_sweep",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=_SOFT_LIMIT,
    time_limit=_HARD_LIMIT,
)
def generate_slots_sweep() -> dict:
    """Fan the active doctors out in batches so that several workers share the sweep."""
    doctors = batches = 0
    for batch in generation.doctor_batches():
        # A batch not started within one interval is stale: the next sweep covers it.
        generate_slots_for_doctors.apply_async(args=[batch], expires=settings.SLOT_GENERATION_INTERVAL)
        doctors += len(batch)
        batches += 1
    logger.info("Slot sweep: %d doctors in %d batches", doctors, batches)
    return {"doctors": doctors, "batches": batches}


@shared_task(
    name="appointments.generate_slots_for_doctors",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=_SOFT_LIMIT,
    time_limit=_HARD_LIMIT,
)
def generate_slots_for_doctors(doctor_ids: list[int]) -> dict:
    """Reconcile the slots of the given doctors; returns how many were created and deleted."""
    results = generation.slots_generate_for_doctors(doctor_ids=doctor_ids)
    summary = {
        "doctors": len(doctor_ids),
        "created": sum(result.created for result in results),
        "deleted": sum(result.deleted for result in results),
        "conflicts": sum(result.conflicts for result in results),
    }
    logger.info("Slots generated: %s", summary)
    return summary


@shared_task(
    name="appointments.mark_no_shows",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=int(settings.NO_SHOW_SWEEP_INTERVAL * 0.8),
    time_limit=int(settings.NO_SHOW_SWEEP_INTERVAL * 0.9),
)
def mark_no_shows() -> dict:
    """Mark appointments still booked NO_SHOW_AFTER_MINUTES after their end as no-shows (off when unset)."""
    return {"marked": outcomes.appointments_mark_no_shows()}
