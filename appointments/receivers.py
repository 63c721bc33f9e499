"""What appointments do when staff reports a fact about a person: one service per receiver.

Connected in AppointmentsConfig.ready(); each runs inside the sending service's transaction.
"""

from django.dispatch import receiver

from staff.signals import user_access_changed, user_blocked

from . import services


@receiver(user_blocked, dispatch_uid="appointments.release_blocked_patients_appointments")
def release_blocked_patients_appointments(sender, *, user, actor=None, **kwargs) -> int:
    return services.appointments_release_for_patient(patient=user, actor=actor)


@receiver(user_access_changed, dispatch_uid="appointments.regenerate_when_access_changes")
def regenerate_when_access_changes(sender, *, user, **kwargs) -> None:
    services.doctor_availability_changed(user=user)
