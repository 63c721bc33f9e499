"""factory_boy factories for schedules, absences and slots."""

import datetime

import factory
from django.utils import timezone

from appointments.models import Absence, AbsenceKind, AppointmentStatus, DoctorSchedule, Timetable, WorkingHours
from appointments.zone import clinic_zone
from staff.roles import Role
from staff.tests.factories import UserFactory, assign_roles


class DoctorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"doctor{n}")

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        assign_roles(user, create, extracted or [Role.DOCTOR])


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorSchedule
        django_get_or_create = ("doctor",)

    doctor = factory.SubFactory(DoctorFactory)
    slot_minutes = 20
    horizon_days = 7


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    schedule = factory.SubFactory(ScheduleFactory)
    weekday = 0
    start = datetime.time(9, 0)
    end = datetime.time(13, 0)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    doctor = factory.SubFactory(DoctorFactory)
    kind = AbsenceKind.VACATION
    start = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    end = factory.LazyAttribute(lambda absence: absence.start + datetime.timedelta(hours=2))


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Timetable

    doctor = factory.SubFactory(DoctorFactory)
    client = None
    start_time = factory.Sequence(
        lambda n: timezone.now().replace(microsecond=0, second=0) + datetime.timedelta(days=1, minutes=20 * n)
    )
    stop_time = factory.LazyAttribute(lambda slot: slot.start_time + datetime.timedelta(minutes=20))
    # A booked slot has a status, a free one none (a CHECK constraint).
    status = factory.LazyAttribute(lambda slot: AppointmentStatus.BOOKED if slot.client else None)


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A wall-clock time of a day in the clinic's zone."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=clinic_zone())


def every_day(schedule, start=datetime.time(9, 0), end=datetime.time(13, 0)):
    """Give the schedule the same hours on all seven weekdays."""
    for weekday in range(7):
        WorkingHoursFactory(schedule=schedule, weekday=weekday, start=start, end=end)
    return schedule
