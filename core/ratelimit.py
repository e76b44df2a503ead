"""A fixed-window rate limit shared by every web process through Redis: one round trip per request."""

import time
from functools import cache

import redis
from django.conf import settings


def client_address(request) -> str:  # type: ignore[no-untyped-def]
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; the proxy must then set it from the client
    # (e.g. nginx real_ip), never trust a header the client can write.
    return request.META.get("REMOTE_ADDR", "unknown")


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def hit(*, scope: str, client: str, limit: int, window: int = 60) -> int | None:
    """Count one request; None while within ``limit`` per ``window`` seconds, else the seconds to wait."""
    now = time.time()
    slot = int(now // window)
    key = f"rl:{scope}:{client}:{slot}"
    client = _client(settings.REDIS_URL)
    count = client.incr(key)
    if count == 1:
        # The key names its own window, so even if this never ran (a crash right after INCR) the counter could
        # not block anyone: the next window counts under a new key. The TTL only reclaims the memory.
        client.expire(key, window + 1)
    if count <= limit:
        return None
    return max(1, int((slot + 1) * window - now + 0.999))
