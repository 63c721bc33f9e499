"""Generate slots now, synchronously: every active doctor, or one."""

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
            batches = [[doctor]]
        else:
            # The batches of the Celery sweep: one transaction and a few statements per batch.
            batches = list(generation.doctor_batches())
        doctors = sum(len(batch) for batch in batches)
        created = deleted = conflicts = 0
        # The bar shows on a terminal only; logs and pipes get the summary line.
        with tqdm(total=doctors, unit="doctor", disable=not self.stdout.isatty()) as progress:
            for batch in batches:
                for result in generation.slots_generate_for_doctors(doctor_ids=batch):
                    created += result.created
                    deleted += result.deleted
                    conflicts += result.conflicts
                progress.update(len(batch))
        self.stdout.write(
            self.style.SUCCESS(
                f"{doctors} doctors: {created} slots created, {deleted} deleted, {conflicts} in conflict."
            )
        )
