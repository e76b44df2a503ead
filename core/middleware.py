from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import translation


class LanguageMiddleware:
    """Vietnamese unless the visitor chose another language with the switch (the language cookie).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a public-service portal of a
    Vietnamese province speaks Vietnamese first, whatever language the device happens to be set to.
    """

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        language = language_from_cookies(request.COOKIES)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("Vary", "Cookie")
        return response


# What Django's SecurityMiddleware and clickjacking middleware add, for the few answers given before Django
# (api.fastpath, portal.fastpath).
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Vary", "Cookie"),
]


def allowed_host(environ: Mapping[str, Any]) -> str | None:
    """The request's Host when it is one of ALLOWED_HOSTS, else None (Django then answers 400 itself)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    return host if domain and validate_host(domain, settings.ALLOWED_HOSTS) else None


def language_from_cookies(cookies: Mapping[str, str]) -> str:
    """The visitor's chosen language, or the site's (Vietnamese): the rule LanguageMiddleware applies."""
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
