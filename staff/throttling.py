"""Login throttles: one bucket per username *from an address*, and one per client address.

A bucket per username alone would let anyone who sends ten wrong passwords a minute keep its
owner out from every address; like the lockout, it counts a username from one address.
"""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from hospital.security import client_address


class LoginUsernameThrottle(SimpleRateThrottle):
    scope = "login_username"

    def get_cache_key(self, request, view):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        # Case-folded so that "Alice" and "alice" share one bucket; hashed so that any username
        # makes a valid, fixed-length cache key (and none is stored in the cache in clear).
        who = f"{username.casefold()[:150]}\n{client_address(request)}"
        ident = hashlib.sha256(who.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginAddressThrottle(SimpleRateThrottle):
    scope = "login_address"

    def get_cache_key(self, request, view):
        # The address the lockout counts by too: X-Forwarded-For only past the trusted proxies.
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
