"""A fixed-window rate limit shared by every web process through Redis: one round trip per request."""

import datetime as dt
import hashlib
import time
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.utils import timezone
from django.utils.translation import gettext as _


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
    key = _window_key(scope, client, now, window)
    redis_client = _client(settings.REDIS_URL)
    count = redis_client.incr(key)
    if count == 1:
        # The key names its own window, so even if this never ran (a crash right after INCR) the counter could
        # not block anyone: the next window counts under a new key. The TTL only reclaims the memory.
        redis_client.expire(key, window + 1)
    return _wait(count, limit, now, window)


def hit_and_get(*, scope: str, client: str, limit: int, key: str, window: int = 60) -> tuple[int | None, Any]:
    """``hit``, and the default cache's entry ``key``, in one round trip to Redis: (seconds to wait or None, the
    entry or None). For a request that is counted and then answered from the cache."""
    now = time.time()
    count, value = django_cache.count_and_get(counter=_window_key(scope, client, now, window), ttl=window + 1, key=key)
    return _wait(count, limit, now, window), value


def _window_key(scope: str, client: str, now: float, window: int) -> str:
    return f"rl:{scope}:{client}:{int(now // window)}"


def _wait(count: int, limit: int, now: float, window: int) -> int | None:
    if count <= limit:
        return None
    return max(1, int((int(now // window) + 1) * window - now + 0.999))


# -- Failed sign-ins -------------------------------------------------------------------------------------------------
# Unlike ``hit``'s fixed windows, a failure window starts at the first failure and lasts LOGIN_FAILURE_WINDOW
# seconds: a guesser cannot get twice the allowance by straddling a window boundary. SET NX EX and INCR run in one
# MULTI, so the counter always carries its expiry (a counter without one would lock an account for ever).


def _failure_key(scope: str, name: str) -> str:
    # Hashed: no typed user names or e-mail addresses in Redis, and keys of bounded length whatever was typed.
    digest = hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}"


def login_wait(*, username: str, client: str) -> int | None:
    """None while sign-in may be tried for this user name from this client, else the seconds to wait: too many
    failures for the user name (LOGIN_FAILURES_MAX) or from the client (LOGIN_FAILURES_MAX_PER_IP) lately."""
    keys = [_failure_key("login-user", username), _failure_key("login-ip", client)]
    limits = [settings.LOGIN_FAILURES_MAX, settings.LOGIN_FAILURES_MAX_PER_IP]
    redis_client = _client(settings.REDIS_URL)
    pipe = redis_client.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
        pipe.ttl(key)
    answers = pipe.execute()
    waits = []
    for i, limit in enumerate(limits):
        count, ttl = answers[2 * i], answers[2 * i + 1]
        if count is not None and int(count) >= limit:
            waits.append(max(1, int(ttl)))
    return max(waits) if waits else None


def login_failure_record(*, username: str, client: str) -> None:
    """Count one failed sign-in against the user name and against the client."""
    window = settings.LOGIN_FAILURE_WINDOW
    pipe = _client(settings.REDIS_URL).pipeline(transaction=True)
    for key in (_failure_key("login-user", username), _failure_key("login-ip", client)):
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
    pipe.execute()


def login_success_record(*, username: str) -> None:
    """The user name's failures are forgiven; the client's are not (one good password must not reopen the door
    for guessing other accounts' passwords from the same address)."""
    _client(settings.REDIS_URL).delete(_failure_key("login-user", username))


def login_wait_message(wait: int) -> str:
    until = timezone.localtime() + dt.timedelta(seconds=wait)
    return _("Too many failed sign-in attempts. To protect your account, please try again after %(time)s.") % {
        "time": until.strftime("%H:%M")
    }
