"""Project middleware."""

from django.utils.cache import add_never_cache_headers


class ApiNoStoreMiddleware:
    """Every API response carries personal data, a token or an error about them: never cached.

    `Cache-Control: no-store` (with Django's never-cache set: max-age=0, no-cache, must-revalidate,
    private) on everything under /api/, the login's token included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            add_never_cache_headers(response)
        return response
