"""The public lookup page, served from its cached copy before the framework's request cycle.

Every QR code on every receipt opens ``/tra-cuu/<code>/``. The page is the same for every anonymous visitor in a
language, so ``portal.views.lookup_code`` keeps what it rendered for such a visitor in the cache, and this WSGI
layer answers the next ones from there, after the same per-client rate limit. The dossier's services forget the
copies whenever the dossier changes. A request with any other cookie (a signed-in officer or citizen, a pending
message) or a host outside ALLOWED_HOSTS goes to Django, which renders the page itself.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie

from core.middleware import SECURITY_HEADERS, allowed_host, language_from_cookies
from dossiers.models import CODE_PATTERN
from dossiers.selectors import public_page_cache_key
from dossiers.services import lookup_budget_spend_and_read

PREFIX = "/tra-cuu/"
COUNTED = "angiang.lookup_counted"  # set in the WSGI environ once the request was counted against the limit
HARMLESS_COOKIES = {"csrftoken"}


def cacheable(cookies: dict[str, str]) -> bool:
    """Nothing personal can appear on the page: no session, no pending message, only a language choice."""
    return set(cookies) <= {settings.LANGUAGE_COOKIE_NAME, *HARMLESS_COOKIES}


class LookupPageFastPath:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(PREFIX) or not path.endswith("/"):
            return self.app(environ, start_response)
        code = path[len(PREFIX) : -1]
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        if not CODE_PATTERN.match(code) or not cacheable(cookies) or allowed_host(environ) is None:
            return self.app(environ, start_response)
        language = language_from_cookies(cookies)
        wait, html = lookup_budget_spend_and_read(
            client=environ.get("REMOTE_ADDR", "unknown"), cache_key=public_page_cache_key(code=code, language=language)
        )
        environ[COUNTED] = True
        if wait is not None:
            html = None
        if html is None:  # over the limit (Django answers 429 in the visitor's language) or not cached yet
            environ["angiang.lookup_wait"] = wait
            return self.app(environ, start_response)
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Language", language),
                ("Content-Length", str(len(html))),
                *SECURITY_HEADERS,
            ],
        )
        return [html]
