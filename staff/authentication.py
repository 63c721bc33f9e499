"""Token authentication: knox's hashed, expiring tokens without its per-request sweep."""

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's authentication, checking only the presented token's expiry.

    Knox reads all the user's tokens on every request to delete the expired ones; that is one query
    per request (a fifth of a free-slot request's time in docs/benchmarks.md). Expired tokens are
    refused all the same, and the hourly beat task `staff.purge_expired_tokens` deletes them.
    """

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """OpenAPI: `Authorization: Token <key>`, as knox's own scheme describes it."""

    target_class = "staff.authentication.TokenAuthentication"
    name = "tokenAuth"
