"""Page-number pagination with a capped, client-chosen page size."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

PAGE_SIZE_INVALID = _("page_size must be an integer from 1 to %(max)d.")


class Pagination(PageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_number(self, request, paginator):
        # DRF reads `?page=` as the first page; like any other text that is no page number, it is a 404.
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        """Reject, rather than silently cap, a page size out of range."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [PAGE_SIZE_INVALID % {"max": self.max_page_size}]})
        return size

    def get_schema_operation_parameters(self, view):
        """Document the bounds the API enforces: a page from 1 (past the last is a 404), a size of 1..max."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds.get(parameter["name"], {})}
        return parameters
