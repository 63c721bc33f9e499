"""A Redis cache that fails open: while Redis is unreachable, reads miss and writes are dropped.

The cache holds only what the API can do without for a while (the login throttle's counters), so
an outage must cost that, not a 500 on every login: Django's own RedisCache raises instead.
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# After a failure, Redis is not tried again for this long: requests of an outage do not each wait
# for a connection to fail.
RETRY_AFTER_SECONDS = 5
# At most one warning this many seconds apart, not one per request of an outage.
WARN_EVERY_SECONDS = 30


def _fail_open(fallback):
    """Answer `fallback(*args, **kwargs)` instead of raising when Redis cannot be reached."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as error:
                self.unreachable(method.__name__, error)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _missing_key(key, *args, **kwargs):
    # What incr/decr say of a missing key: callers of incr already handle it.
    raise ValueError(f"Key {key!r} not found (the cache is unreachable)")


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache, but an unreachable Redis reads as an empty cache that keeps nothing."""

    _last_warning = float("-inf")
    _down_until = float("-inf")

    def unreachable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        self._down_until = now + RETRY_AFTER_SECONDS
        if now - FailOpenRedisCache._last_warning >= WARN_EVERY_SECONDS:
            FailOpenRedisCache._last_warning = now
            logger.warning("Cache unreachable (%s: %s); carrying on without it", operation, error)

    add = _fail_open(lambda *args, **kwargs: False)(RedisCache.add)
    get = _fail_open(lambda key, default=None, version=None: default)(RedisCache.get)
    set = _fail_open(lambda *args, **kwargs: None)(RedisCache.set)
    touch = _fail_open(lambda *args, **kwargs: False)(RedisCache.touch)
    delete = _fail_open(lambda *args, **kwargs: False)(RedisCache.delete)
    get_many = _fail_open(lambda *args, **kwargs: {})(RedisCache.get_many)
    has_key = _fail_open(lambda *args, **kwargs: False)(RedisCache.has_key)
    incr = _fail_open(_missing_key)(RedisCache.incr)
    set_many = _fail_open(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    delete_many = _fail_open(lambda *args, **kwargs: None)(RedisCache.delete_many)
    clear = _fail_open(lambda *args, **kwargs: False)(RedisCache.clear)
