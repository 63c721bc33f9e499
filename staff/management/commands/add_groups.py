"""Create the patient, doctor and administrator groups (idempotent)."""

from django.core.management.base import BaseCommand

from staff.services import roles_ensure


class Command(BaseCommand):
    help = "Create the role groups (patient, doctor, administrator) and grant administrators the admin."

    def handle(self, *args, **options):
        groups = roles_ensure()
        self.stdout.write(self.style.SUCCESS("Groups ready: " + ", ".join(group.name for group in groups)))
