"""A fixed-window rate limit shared by every web process through the cache (Redis)."""

import time

from django.core.cache import cache


def client_address(request) -> str:  # type: ignore[no-untyped-def]
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; the proxy must then set it from the client
    # (e.g. nginx real_ip), never trust a header the client can write.
    return request.META.get("REMOTE_ADDR", "unknown")


def hit(*, scope: str, client: str, limit: int, window: int = 60) -> int | None:
    """Count one request; None while within ``limit`` per ``window`` seconds, else the seconds to wait."""
    now = time.time()
    slot = int(now // window)
    key = f"rl:{scope}:{client}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, int((slot + 1) * window - now + 0.999))
