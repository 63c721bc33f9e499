"""Top-level routes: admin, API, OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hospital.docs import OfflineRedocView
from hospital.errors import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("staff.urls")),
    path("api/", include("appointments.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="schema"), name="redoc"),
    # Last: any other path under /api/ answers the API's JSON 404, with debug on as well as off
    # (with debug on Django would otherwise answer its HTML debug page).
    re_path(r"^api/", api_not_found),
]

# An unknown path under /api/ answers in the API's JSON error shape (see hospital.errors).
handler404 = "hospital.errors.page_not_found"
