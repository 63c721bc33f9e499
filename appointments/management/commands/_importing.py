"""What `import_doctors` and `import_patients` share: arguments, progress bar, exit status."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from staff.resources import ImportFileError, ImportOutcome, dataset_read


class ImportCommand(BaseCommand):
    noun = gettext_lazy("rows")

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv (UTF-8, header in the first line) or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the whole file and report what would change; write nothing"
        )

    def run_import(self, path: Path, *, dry_run: bool, progress) -> ImportOutcome:
        raise NotImplementedError

    def after_import(self, outcome: ImportOutcome) -> str:
        """Anything to add to the summary line."""
        return ""

    def handle(self, *args, file, dry_run=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            total = len(dataset_read(path))
            # The bar shows on a terminal only; logs and pipes get the summary line.
            with tqdm(total=total, unit="row", disable=not self.stdout.isatty()) as bar:
                outcome = self.run_import(path, dry_run=dry_run, progress=bar.update)
        except ImportFileError as error:
            raise CommandError(str(error))
        if not outcome.ok:
            for problem in outcome.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("Nothing was imported: %(count)d problem(s) in %(path)s.")
                % {"count": len(outcome.problems), "path": path}
            )
        counts = {"new": outcome.new, "updated": outcome.updated, "noun": self.noun}
        if dry_run:
            self.stdout.write(
                _("Dry run: %(new)d new and %(updated)d updated %(noun)s would be imported; nothing was written.")
                % counts
            )
            return
        self.stdout.write(
            self.style.SUCCESS(_("Imported %(new)d new and %(updated)d updated %(noun)s.") % counts)
            + self.after_import(outcome)
        )
