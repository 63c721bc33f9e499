"""What admin pages of several apps share."""

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hospital.errors import ServiceError
from hospital.imports import problems_of

T = TypeVar("T")


class ReadOnlyAdmin(admin.ModelAdmin):
    """A page that lists and shows rows but never adds, changes or deletes them (histories, trails)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def service_each(objects: Iterable[T], service_call: Callable[[T], object]) -> tuple[int, list[tuple[T, ServiceError]]]:
    """An admin action's body: the service once per object; how many it did, and what it refused and why."""
    done, refused = 0, []
    for obj in objects:
        try:
            service_call(obj)
        except ServiceError as refusal:
            refused.append((obj, refusal))
        else:
            done += 1
    return done, refused


IMPORT_ABORTED = _("Nothing was imported: the file has errors. Correct them and import it again.")


class AllOrNothingImportMixin:
    """Import-export's preview-and-confirm flow, where a file with any bad row writes nothing.

    The resources roll the whole import back on any error (see PersonResource.import_data); this
    reports it instead of import-export's "Import finished" and returns to the import page.
    """

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        # Jazzmin's import page lists `fields`, a name import-export 4 no longer fills (it has
        # `fields_list`): give it the columns so the page says what the file needs.
        context = getattr(response, "context_data", None)
        if context is not None and "fields" not in context:
            listed = context.get("fields_list", [])
            context["fields"] = (
                [", ".join(columns) for _name, columns in listed]
                if len(listed) == 1
                else [f"{name}: {', '.join(columns)}" for name, columns in listed]
            )
            context["fields"] += [str(line) for line in self.import_notes]
        return response

    #: Lines added under the columns on the import page.
    import_notes: tuple = ()

    def process_result(self, result, request):
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        for problem in problems_of(result):
            messages.error(request, str(problem))
        messages.error(request, IMPORT_ABORTED)
        app_label, model_name = self.get_model_info()
        url = reverse(f"admin:{app_label}_{model_name}_import", current_app=self.admin_site.name)
        return HttpResponseRedirect(url)
