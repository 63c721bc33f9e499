"""Import patients from a CSV/XLSX file, all or nothing."""

from django.utils.translation import gettext_lazy as _

from hospital.imports import ImportCommand
from staff.models import PERSON_FIELDS
from staff.resources import patients_import


class Command(ImportCommand):
    help = (
        "Import patients from a CSV/XLSX file with the columns "
        + ", ".join(PERSON_FIELDS)
        + ". Rows are matched on username, so importing a file again updates it. A bad row aborts "
        "the whole import (exit status 1, with the line and the reason). New users cannot log in "
        "until an administrator sets their password."
    )
    noun = _("patients")

    def run_import(self, path, *, dry_run, progress):
        return patients_import(path, dry_run=dry_run, progress=progress)
