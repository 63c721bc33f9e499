"""Writes with rules for slots and appointments."""

from staff.models import User


def appointments_release_for_patient(*, patient: User) -> int:
    """Free the patient's future appointments (used when a patient is blocked)."""
    return 0
