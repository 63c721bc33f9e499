"""Top-level routes: admin, API, OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("staff.urls")),
    path("api/", include("appointments.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

# An unknown path under /api/ answers in the API's JSON error shape (see hospital.errors).
handler404 = "hospital.errors.page_not_found"
