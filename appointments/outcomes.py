"""Appointment outcomes: arrive, fulfil, no-show and the clinic's cancel, and the no-show sweep.

`booked` -> `arrived` -> `fulfilled`, or `booked` -> `noshow`; the clinic's cancel frees a booked
slot that has not started. Each step is one conditional UPDATE on the status it leaves (`WHERE
status = 'booked'`, ...), so of two concurrent steps on one appointment exactly one applies and the
other gets 409 `invalid_transition`; each is recorded in the booking history.

Who may: administrators on every appointment, a doctor on their own (another doctor's is a 404,
as if it did not exist); `actor=None` is the system (the no-show task).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospital.errors import ServiceError
from staff.models import User

from .models import AppointmentAction, AppointmentEvent, AppointmentStatus, CancelledBy, Timetable
from .services import AppointmentStarted, InvalidTransition, _drop_freed_conflicts, _record

logger = logging.getLogger(__name__)

NOT_BOOKED = _("No appointment in this slot that you may manage.")
NOT_STARTED = _("The appointment has not started yet: a patient cannot miss it before its start.")
REASON_REQUIRED = _("Give the reason for cancelling.")
REASON_MAX_LENGTH = 500

# How many appointments the no-show sweep marks per transaction.
NO_SHOW_BATCH = 500


class AppointmentNotFound(ServiceError):
    status = 404
    code = "appointment_not_found"
    message = NOT_BOOKED


class ReasonRequired(ServiceError):
    status = 400
    code = "reason_required"
    message = REASON_REQUIRED


class NotStarted(ServiceError):
    status = 400
    code = "not_started"
    message = NOT_STARTED


def managed_by(actor: User | None) -> Q:
    """The booked slots `actor` may act on: all for administrators and the system, a doctor's own."""
    if actor is None or actor.is_administrator:
        return Q(client__isnull=False)
    if actor.is_doctor:
        return Q(client__isnull=False, doctor=actor)
    return Q(pk__in=[])


def _appointment(slot_id: int, actor: User | None) -> Timetable:
    slot = Timetable.objects.filter(managed_by(actor), pk=slot_id).first()
    if slot is None:
        raise AppointmentNotFound()
    return slot


def _step(slot: Timetable, *, source: str, target: str, action: str, actor: User | None, now: datetime) -> Timetable:
    """Move one appointment from `source` to `target`: one conditional UPDATE, then the history row."""
    moved = Timetable.objects.filter(pk=slot.pk, client_id=slot.client_id, status=source).update(status=target)
    if not moved:
        # Someone else moved it (or cancelled it) since we read it.
        current = Timetable.objects.filter(pk=slot.pk, client_id=slot.client_id).values_list("status", flat=True)
        status = current.first()
        if status is None:
            raise AppointmentNotFound()
        raise InvalidTransition(status)
    slot.status = target
    _record(action, slot, slot.client_id, actor, now)
    return slot


@transaction.atomic
def appointment_arrive(*, slot_id: int, actor: User | None, now: datetime | None = None) -> Timetable:
    """The patient has come: booked -> arrived (at any time: early is welcome)."""
    slot = _appointment(slot_id, actor)
    if slot.status != AppointmentStatus.BOOKED:
        raise InvalidTransition(slot.status)
    return _step(
        slot,
        source=AppointmentStatus.BOOKED,
        target=AppointmentStatus.ARRIVED,
        action=AppointmentAction.ARRIVED,
        actor=actor,
        now=now or timezone.now(),
    )


@transaction.atomic
def appointment_fulfil(*, slot_id: int, actor: User | None, now: datetime | None = None) -> Timetable:
    """The visit took place: arrived -> fulfilled."""
    slot = _appointment(slot_id, actor)
    if slot.status != AppointmentStatus.ARRIVED:
        raise InvalidTransition(slot.status)
    return _step(
        slot,
        source=AppointmentStatus.ARRIVED,
        target=AppointmentStatus.FULFILLED,
        action=AppointmentAction.FULFILLED,
        actor=actor,
        now=now or timezone.now(),
    )


@transaction.atomic
def appointment_no_show(*, slot_id: int, actor: User | None, now: datetime | None = None) -> Timetable:
    """The patient did not come: booked -> noshow, once the appointment has started."""
    now = now or timezone.now()
    slot = _appointment(slot_id, actor)
    if slot.status != AppointmentStatus.BOOKED:
        raise InvalidTransition(slot.status)
    if slot.start_time > now:
        raise NotStarted()
    return _step(
        slot,
        source=AppointmentStatus.BOOKED,
        target=AppointmentStatus.NOSHOW,
        action=AppointmentAction.NOSHOW,
        actor=actor,
        now=now,
    )


@transaction.atomic
def appointment_cancel(*, slot_id: int, actor: User | None, reason: str, now: datetime | None = None) -> Timetable:
    """The clinic cancels a booked appointment that has not started, whatever the cancellation cutoff.

    The slot is free again, as after the patient's cancel; the history says the clinic cancelled,
    who did and why.
    """
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    now = now or timezone.now()
    slot = _appointment(slot_id, actor)
    if slot.status in (AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED):
        raise InvalidTransition(slot.status)
    if slot.start_time <= now:
        raise AppointmentStarted()  # a no-show, too, has started
    patient_id = slot.client_id
    freed = Timetable.objects.filter(
        pk=slot.pk, client_id=patient_id, status=AppointmentStatus.BOOKED, start_time__gt=now
    ).update(client=None, booked_at=None, conflict=False, status=None)
    if not freed:
        status = Timetable.objects.filter(pk=slot.pk, client_id=patient_id).values_list("status", flat=True).first()
        if status is None:
            raise AppointmentNotFound()  # cancelled meanwhile
        raise InvalidTransition(status)
    if slot.conflict:
        _drop_freed_conflicts([slot.pk])
    slot.client, slot.booked_at, slot.conflict, slot.status = None, None, False, None
    _record(
        AppointmentAction.CANCELLED,
        slot,
        patient_id,
        actor,
        now,
        cancelled_by=CancelledBy.CLINIC,
        reason=reason[:REASON_MAX_LENGTH],
    )
    return slot


def appointments_mark_no_shows(*, now: datetime | None = None, after_minutes: int | None = None) -> int:
    """Mark appointments still booked `after_minutes` after their end as no-shows; how many were marked.

    `after_minutes` defaults to settings.NO_SHOW_AFTER_MINUTES; None there means off (nothing is
    marked). Idempotent: a second run finds nothing. Rows are locked and skipped when locked, so
    an arrival being recorded at that moment wins and the next run sees it arrived.
    """
    if after_minutes is None:
        after_minutes = settings.NO_SHOW_AFTER_MINUTES
    if after_minutes is None:
        return 0
    now = now or timezone.now()
    ended_before = now - timedelta(minutes=after_minutes)
    marked = 0
    while True:
        with transaction.atomic():
            # Served by the partial index of booked appointments by end.
            slots = list(
                Timetable.objects.select_for_update(skip_locked=True)
                .filter(status=AppointmentStatus.BOOKED, stop_time__lte=ended_before)
                .order_by("stop_time", "pk")[:NO_SHOW_BATCH]
            )
            if not slots:
                break
            # The rows are ours until commit: each is still booked, so all of them move.
            Timetable.objects.filter(pk__in=[slot.pk for slot in slots], status=AppointmentStatus.BOOKED).update(
                status=AppointmentStatus.NOSHOW
            )
            AppointmentEvent.objects.bulk_create(
                AppointmentEvent(
                    slot_id=slot.pk,
                    action=AppointmentAction.NOSHOW,
                    doctor_id=slot.doctor_id,
                    patient_id=slot.client_id,
                    actor=None,
                    start_time=slot.start_time,
                    stop_time=slot.stop_time,
                    at=now,
                )
                for slot in slots
            )
            marked += len(slots)
        if len(slots) < NO_SHOW_BATCH:
            break
    if marked:
        logger.info("Marked %d appointments as no-shows", marked)
    return marked
