"""CSV/XLSX import and export of people, and the all-or-nothing import runner the admin and commands share.

One row is one user, matched on `username`: importing a file twice updates, never duplicates. A new
user gets an unusable password (nobody can log in until an administrator sets one) and every
imported user gets the resource's role. One bad row aborts the whole file: nothing is written.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from . import services
from .models import AuditAction, AuditEvent, User
from .roles import Role

REQUIRED_VALUE = _("This value is required.")
DATE_INVALID = _("Enter the date as YYYY-MM-DD.")
MISSING_COLUMNS = _("The file has no column(s): %(columns)s.")
UNREADABLE_FILE = _("The file cannot be read as %(format)s: %(error)s")
UNSUPPORTED_FORMAT = _("Only .csv and .xlsx files can be imported.")
ROW_PROBLEM = _("Line %(line)s: %(message)s")
# What the admin offers to import and export (CSV, and XLSX for spreadsheets).
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
PERSON_COLUMNS = ("username", "last_name", "first_name", "middle_name", "sex", "birth_date", "email")


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


class PersonResource(resources.ModelResource):
    """Users matched on username; subclasses name the role they get and may read more columns."""

    role: str = ""
    required_columns: tuple[str, ...] = ("username", "last_name", "first_name", "sex", "birth_date")
    required_values: tuple[str, ...] = ("username", "last_name", "first_name", "sex", "birth_date")

    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=IsoDateWidget())

    class Meta:
        model = User
        fields = PERSON_COLUMNS
        import_order = PERSON_COLUMNS
        export_order = PERSON_COLUMNS
        import_id_fields = ("username",)
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = False
        name = _("People")

    def __init__(self, *, progress: Callable[[], None] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.progress = progress
        self.user_ids: list[int] = []

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """Import the file as one transaction that any bad row (error or invalid value) rolls back."""
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def before_import(self, dataset, **kwargs):
        dataset.headers = [str(header or "").strip() for header in dataset.headers or []]
        missing = [column for column in self.required_columns if column not in dataset.headers]
        if missing:
            raise ValueError(MISSING_COLUMNS % {"columns": ", ".join(missing)})

    def before_import_row(self, row, **kwargs):
        for column, value in row.items():
            if isinstance(value, str):
                row[column] = value.strip()

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            # Nobody logs in as an imported user until an administrator sets a password.
            instance.set_unusable_password()
            instance._created_by_import = True

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        # A file may name an existing user: the rule of who manages whom applies as in the admin.
        refusal = services.user_manage_refusal(actor=kwargs.get("user"), user=instance) if instance.pk else None
        if refusal is not None:
            raise ValidationError({"username": [refusal.message]})
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for column in self.required_values:
            if column not in errors and row.get(column) in (None, ""):
                errors[column] = [REQUIRED_VALUE]
        errors.update(self.import_extra(instance, row))
        if errors:
            raise ValidationError(errors)

    def import_extra(self, instance, row) -> dict:
        """Read the columns beyond personal data; return {column: [messages]} for bad values."""
        return {}

    def after_save_instance(self, instance, row, **kwargs):
        actor = kwargs.get("user")
        if getattr(instance, "_created_by_import", False):
            services.audit_record(
                actor=actor,
                action=AuditAction.USER_CREATED,
                target=instance,
                changes={"source": "csv import", "username": [None, instance.username]},
            )
        roles = set(instance.role_names)
        if self.role and self.role not in roles:
            services.user_update(user=instance, groups=sorted(roles | {self.role}), actor=actor)
        self.user_ids.append(instance.pk)

    def after_import_row(self, row, row_result, **kwargs):
        if self.progress is not None:
            self.progress()


class PatientResource(PersonResource):
    role = Role.PATIENT

    class Meta(PersonResource.Meta):
        name = _("Patients")


class UserResource(resources.ModelResource):
    """Export of users: personal data, roles and state; never passwords."""

    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=IsoDateWidget())
    roles = fields.Field(column_name="roles")

    class Meta:
        model = User
        fields = ("id", *PERSON_COLUMNS, "roles", "is_active", "date_joined", "last_login")
        export_order = fields
        name = _("Users")

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related("groups")

    def dehydrate_roles(self, user):
        return ",".join(sorted(user.role_names))


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


def rows_import(resource: PersonResource, dataset, *, dry_run: bool = False, actor: User | None = None):
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


def patients_import(file, *, dry_run: bool = False, progress=None, actor: User | None = None) -> ImportOutcome:
    """Import patients from a CSV/XLSX file (username, names, sex, birth_date, email); all or nothing."""
    return rows_import(PatientResource(progress=progress), dataset_read(file), dry_run=dry_run, actor=actor)


class AuditEventResource(resources.ModelResource):
    """The audit trail as a table: who did what to which object, when, with the changes."""

    actor = fields.Field(attribute="actor__username", column_name="actor")

    class Meta:
        model = AuditEvent
        fields = ("at", "actor", "action", "target_type", "target_id", "target_repr", "changes")
        export_order = fields
