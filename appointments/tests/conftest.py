"""Fixtures the appointments tests share: a fixed week to plan in."""

import datetime

import pytest
from django.utils import timezone

from appointments.tests.factories import local


@pytest.fixture
def monday() -> datetime.date:
    """A Monday at least a day ahead, so that every slot of the week is in the real future."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday())


@pytest.fixture
def now(monday) -> datetime.datetime:
    """08:00 on that Monday: the clock the generator plans from, before the first working hour."""
    return local(monday, 8)


@pytest.fixture
def run_tasks_here(monkeypatch):
    """Run the regeneration task in-process where it is sent, instead of sending it to the broker."""
    from appointments import tasks

    task = tasks.generate_slots_for_doctors

    def run(args=None, kwargs=None, **options):
        return task.apply(args=args, kwargs=kwargs)

    monkeypatch.setattr(task, "apply_async", run)
