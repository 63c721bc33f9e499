"""CSV/XLSX import and export of people, and the all-or-nothing import runner the admin and commands share.

One row is one user, matched on `username`: importing a file twice updates, never duplicates. A new
user gets an unusable password (nobody can log in until an administrator sets one) and every
imported user gets the resource's role. One bad row aborts the whole file: nothing is written.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from hospital.imports import (
    MISSING_COLUMNS,
    ImportOutcome,
    IsoDateWidget,
    dataset_read,
    rows_import,
)

from . import services
from .models import PERSON_FIELDS, AuditAction, AuditEvent, User
from .roles import Role

REQUIRED_VALUE = _("This value is required.")
# What every person's row must have (a column, and a value in it): middle name and email may be left out.
REQUIRED_PERSON_FIELDS = ("username", "last_name", "first_name", "sex", "birth_date")


class PersonResource(resources.ModelResource):
    """Users matched on username; subclasses name the role they get and may read more columns."""

    role: str = ""
    required_columns: tuple[str, ...] = REQUIRED_PERSON_FIELDS
    required_values: tuple[str, ...] = REQUIRED_PERSON_FIELDS

    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=IsoDateWidget())

    class Meta:
        model = User
        fields: tuple[str, ...] = PERSON_FIELDS
        import_order: tuple[str, ...] = PERSON_FIELDS
        export_order: tuple[str, ...] = PERSON_FIELDS
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
        fields = ("id", *PERSON_FIELDS, "roles", "is_active", "date_joined", "last_login")
        export_order = fields
        name = _("Users")

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related("groups")

    def dehydrate_roles(self, user):
        return ",".join(sorted(user.role_names))


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
