"""The API's documentation pages, served offline from our own static files."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

# ReDoc's standalone bundle (drf-spectacular-sidecar) draws "API docs by Redocly" with an <img>
# from cdn.redoc.ly, whatever its options. The policy keeps images on our own host, so the
# browser never sends that request (a page that holds a token talks to nobody else); the image
# simply does not show. Nothing else on the page comes from elsewhere (see api/redoc.html).
REDOC_CONTENT_SECURITY_POLICY = "img-src 'self' data:"


class OfflineRedocView(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = REDOC_CONTENT_SECURITY_POLICY
        return response
