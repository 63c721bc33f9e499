"""Create the demo administrator with a random password and print the credentials (demo only)."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from staff.models import User

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create (once) a demo superuser `admin` with a random password kept in var/; print it."

    def handle(self, *args, **options):
        password_file = settings.VAR_DIR / "demo-admin-password"
        user = User.objects.filter(username=USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(USERNAME, email="admin@clinic.example", password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(
            self.style.WARNING(f"Demo administrator (demo only): username {USERNAME!r}, password {password!r}")
        )
