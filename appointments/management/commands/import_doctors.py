"""Import doctors and their schedules from a CSV/XLSX file, all or nothing, and generate their slots."""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from appointments.models import Timetable
from appointments.resources import DOCTOR_COLUMNS, doctors_import
from hospital.imports import ImportCommand


class Command(ImportCommand):
    help = (
        "Import doctors from a CSV/XLSX file with the columns "
        + ", ".join(DOCTOR_COLUMNS)
        + " (a weekday cell such as 09:00-13:00;14:00-18:00, empty for a day off). "
        "Rows are matched on username, so importing a file again updates it. A bad row aborts the "
        "whole import (exit status 1, with the line and the reason); otherwise the doctors' slots "
        "are generated at once."
    )
    noun = _("doctors")

    def run_import(self, path, *, dry_run, progress):
        return doctors_import(path, dry_run=dry_run, generate=True, progress=progress)

    def after_import(self, outcome):
        free = Timetable.objects.filter(
            doctor_id__in=outcome.user_ids, client__isnull=True, start_time__gt=timezone.now()
        ).count()
        return " " + gettext("Their free future slots: %(count)d.") % {"count": free}
