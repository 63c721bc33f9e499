"""The import/export kit every resource, admin page and command shares.

Reading a .csv or .xlsx file, the problems of a refused file (line and reason), the all-or-nothing
outcome, the file formats the admin offers (with exports made safe for spreadsheets), the
YYYY-MM-DD date widget, and the base of the `import_*` management commands. The resources live
with their models: `staff.resources` (people, patients), `appointments.resources` (doctors and
their schedules, absences, the Timetable). The admin's all-or-nothing mixin is in
`hospital.admin_base`.
"""

from dataclasses import dataclass
from pathlib import Path

import tablib
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import widgets
from import_export.formats import base_formats
from tqdm import tqdm

from hospital.filters import DATE_INVALID

MISSING_COLUMNS = _("The file has no column(s): %(columns)s.")
UNREADABLE_FILE = _("The file cannot be read as %(format)s: %(error)s")
UNSUPPORTED_FORMAT = _("Only .csv and .xlsx files can be imported.")
ROW_PROBLEM = _("Line %(line)s: %(message)s")

# What a spreadsheet reads as the start of a formula (OWASP's CSV injection rule).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeExportMixin:
    """Every exported cell passes spreadsheet_safe: a name '=HYPERLINK(...)' stays text.

    import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips one leading '='.
    """

    def export_data(self, dataset, **kwargs):
        safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            safe.append([spreadsheet_safe(cell) for cell in row])
        return super().export_data(safe, **kwargs)


class CSV(SafeExportMixin, base_formats.CSV):
    pass


class XLSX(SafeExportMixin, base_formats.XLSX):
    pass


FILE_FORMATS = [CSV, XLSX]


class IsoDateWidget(widgets.DateWidget):
    """Dates as YYYY-MM-DD only: 03/04/1990 means different days in different countries."""

    def __init__(self):
        super().__init__(format="%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(DATE_INVALID)


class ImportFileError(Exception):
    """The file itself cannot be read (wrong format, broken encoding)."""


@dataclass(frozen=True)
class RowProblem:
    """Why a line of the file was refused; the header is line 1, so data row n is line n + 1."""

    line: int
    message: str

    def __str__(self):
        return str(ROW_PROBLEM % {"line": self.line, "message": self.message})


@dataclass(frozen=True)
class ImportOutcome:
    dry_run: bool
    new: int
    updated: int
    user_ids: tuple[int, ...]
    problems: tuple[RowProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> bool:
        """Whether the database now holds the file's rows (not a dry run, no problem)."""
        return self.ok and not self.dry_run


def dataset_read(file) -> tablib.Dataset:
    """A tablib dataset from a .csv or .xlsx path or an open file (text or bytes)."""
    name = str(getattr(file, "name", file))
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ""):
        raise ImportFileError(UNSUPPORTED_FORMAT)
    file_format = base_formats.XLSX() if suffix == ".xlsx" else base_formats.CSV(encoding="utf-8-sig")
    data = Path(file).read_bytes() if isinstance(file, str | Path) else file.read()
    if isinstance(data, bytes) and not file_format.is_binary():
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportFileError(UNREADABLE_FILE % {"format": file_format.get_title(), "error": error})
    try:
        return file_format.create_dataset(data)
    except Exception as error:  # tablib and openpyxl raise many kinds on a malformed file
        raise ImportFileError(UNREADABLE_FILE % {"format": file_format.get_title(), "error": error})


def problems_of(result) -> tuple[RowProblem, ...]:
    """Every refused line of an import result, in file order, with its reason."""
    problems = [RowProblem(1, str(error.error)) for error in result.base_errors]
    for row in result.rows:
        for error in row.errors:
            problems.append(RowProblem(error.number + 1, str(error.error)))
    for invalid in result.invalid_rows:
        for column, messages in invalid.field_specific_errors.items():
            problems.append(RowProblem(invalid.number + 1, f"{column}: {' '.join(map(str, messages))}"))
        for message in invalid.non_field_specific_errors:
            problems.append(RowProblem(invalid.number + 1, str(message)))
    return tuple(sorted(problems, key=lambda problem: problem.line))


def rows_import(resource, dataset, *, dry_run: bool = False, actor: AbstractBaseUser | None = None):
    """Run the resource over the dataset in one transaction; the outcome lists every bad line."""
    result = resource.import_data(dataset, dry_run=dry_run, user=actor)
    problems = problems_of(result)
    return ImportOutcome(
        dry_run=dry_run,
        new=result.totals["new"],
        updated=result.totals["update"],
        # Ids of a dry run or a refused file name rows that were rolled back.
        user_ids=tuple(dict.fromkeys(resource.user_ids)) if not problems and not dry_run else (),
        problems=problems,
    )


class ImportCommand(BaseCommand):
    noun = _("rows")

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
            raise CommandError(gettext("No such file: %(path)s") % {"path": path})
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
                gettext("Nothing was imported: %(count)d problem(s) in %(path)s.")
                % {"count": len(outcome.problems), "path": path}
            )
        counts = {"new": outcome.new, "updated": outcome.updated, "noun": self.noun}
        if dry_run:
            self.stdout.write(
                gettext("Dry run: %(new)d new and %(updated)d updated %(noun)s would be imported; nothing was written.")
                % counts
            )
            return
        self.stdout.write(
            self.style.SUCCESS(gettext("Imported %(new)d new and %(updated)d updated %(noun)s.") % counts)
            + self.after_import(outcome)
        )
