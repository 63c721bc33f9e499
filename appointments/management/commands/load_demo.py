"""Load the demo data from fixtures/ (idempotent): patients, and doctors with their schedules."""

import csv
import datetime
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from staff.models import User
from staff.roles import Role
from staff.services import user_create

FIXTURES = settings.BASE_DIR / "fixtures"


class Command(BaseCommand):
    help = "Load demo patients and doctors from fixtures/ (skips users that exist)."

    def handle(self, *args, **options):
        created = 0
        with (FIXTURES / "patients.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if User.objects.filter(username=row["username"]).exists():
                    continue
                user_create(
                    username=row["username"],
                    # Demo patients cannot log in until an administrator sets a password.
                    password=secrets.token_urlsafe(16),
                    last_name=row["last_name"],
                    first_name=row["first_name"],
                    middle_name=row["middle_name"],
                    sex=row["sex"],
                    birth_date=datetime.date.fromisoformat(row["birth_date"]),
                    email=row["email"],
                    groups=[Role.PATIENT],
                )
                created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {created} new patients."))
