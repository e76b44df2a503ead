"""The public lookup API without the framework's request cycle.

``GET /api/v1/lookup/<code>/`` is the most requested address of the system (every QR code on every receipt points
to the lookup) and is public, unauthenticated and read-only. Django's middleware, URL resolution and DRF's
dispatch cost several times the lookup itself (docs/performance.md), so this WSGI layer answers that one path
directly: the same rate limit (one round trip to Redis), the same selector (one prepared statement on denormalised
columns: as cheap as reading a cached copy, and never stale), the same body (``api.dossiers.lookup_body``), the
same error shape and the security headers the middleware would add. Everything else, and anything unusual about
the request (another method, a host outside ALLOWED_HOSTS), goes to Django untouched.
"""

import json
import logging
from collections.abc import Callable, Iterable
from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http.cookie import parse_cookie
from django.utils import translation
from rest_framework.exceptions import Throttled
from rest_framework.utils.encoders import JSONEncoder

from core.errors import NotFound
from core.middleware import SECURITY_HEADERS, allowed_host, language_from_cookies
from dossiers.selectors import dossier_public_view
from dossiers.services import lookup_budget_spend

from .dossiers import lookup_body, lookup_qr_path

PREFIX = "/api/v1/lookup/"
log = logging.getLogger(__name__)
_HEADERS = [("Content-Type", "application/json"), *SECURITY_HEADERS]
_STATUS = {200: "200 OK", 404: "404 Not Found", 429: "429 Too Many Requests", 500: "500 Internal Server Error"}


class LookupFastPath:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(PREFIX) or not path.endswith("/"):
            return self.app(environ, start_response)
        code = path[len(PREFIX) : -1]
        host = allowed_host(environ)
        if "/" in code or host is None:
            return self.app(environ, start_response)  # Django answers (404, or 400 for a bad host)
        return self._lookup(environ, start_response, code=code, host=host)

    def _lookup(
        self, environ: dict[str, Any], start_response: Callable[..., Any], *, code: str, host: str
    ) -> Iterable[bytes]:
        language = language_from_cookies(parse_cookie(environ.get("HTTP_COOKIE", "")))
        headers = [*_HEADERS, ("Content-Language", language)]
        try:
            with translation.override(language):
                wait = lookup_budget_spend(client=environ.get("REMOTE_ADDR", "unknown"))
                if wait is not None:
                    status, body = (
                        429,
                        _error("throttled", str(Throttled(wait=wait).detail), {"retry_after": wait}),
                    )
                    headers.append(("Retry-After", str(wait)))
                else:
                    try:
                        view = dossier_public_view(code=code)
                    except NotFound as exc:
                        status, body = 404, _error(exc.code, exc.message, exc.detail)
                    else:
                        status, body = 200, lookup_body(view, qr_url=_qr_url(environ, host=host, code=view.code))
        except Exception:
            log.exception("public lookup failed")
            status, body = 500, _error("error", "Internal server error.", None)
        finally:
            close_old_connections()  # as Django does when a request ends: honours CONN_MAX_AGE, drops broken ones
        payload = _dumps(body)
        start_response(_STATUS[status], [*headers, ("Content-Length", str(len(payload)))])
        return [payload]


@memoize
def _qr_prefix() -> tuple[str, str]:
    marker = "CODE"
    before, after = lookup_qr_path(marker).split(marker)
    return before, after


def _qr_path(code: str) -> str:
    before, after = _qr_prefix()
    return f"{before}{code}{after}"


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, cls=JSONEncoder, ensure_ascii=False).encode()


def _qr_url(environ: dict[str, Any], *, host: str, code: str) -> str:
    return f"{_scheme(environ)}://{host}{_qr_path(code)}"


def _error(code: str, message: str, detail: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail}


def _scheme(environ: dict[str, Any]) -> str:
    header, value = settings.SECURE_PROXY_SSL_HEADER or (None, None)
    if header and environ.get(header) == value:
        return "https"
    return environ.get("wsgi.url_scheme", "http")
