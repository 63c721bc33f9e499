"""Generate slots now, synchronously: every active doctor, or one."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from appointments import generation
from appointments.models import DoctorSchedule


class Command(BaseCommand):
    help = "Reconcile doctors' future slots with their schedules (what the Celery sweep does)."

    def add_arguments(self, parser):
        parser.add_argument("--doctor", type=int, help="only this doctor's id")

    def handle(self, *args, doctor=None, **options):
        if doctor is not None:
            if not DoctorSchedule.objects.filter(doctor_id=doctor).exists():
                raise CommandError(f"Doctor {doctor} has no schedule.")
            doctor_ids = [doctor]
        else:
            doctor_ids = list(generation.doctors_to_generate())
        created = deleted = conflicts = 0
        batch_size = settings.SLOT_GENERATION_BATCH_SIZE
        # The bar shows on a terminal only; logs and pipes get the summary line.
        with tqdm(total=len(doctor_ids), unit="doctor", disable=not self.stdout.isatty()) as progress:
            # The batches of the Celery sweep: one transaction and a few statements per batch.
            for first in range(0, len(doctor_ids), batch_size):
                batch = doctor_ids[first : first + batch_size]
                for result in generation.slots_generate_for_doctors(doctor_ids=batch):
                    created += result.created
                    deleted += result.deleted
                    conflicts += result.conflicts
                progress.update(len(batch))
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(doctor_ids)} doctors: {created} slots created, {deleted} deleted, {conflicts} in conflict."
            )
        )
