"""Every API error is ``{"code", "message", "detail"}``; domain errors keep their own code and status."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


def _body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(_body(exc.code, exc.message, exc.detail), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("invalid", _("The request is not valid."), exc.detail)
    elif isinstance(exc, exceptions.NotFound):
        response.data = _body("not_found", str(exc.detail))
    elif isinstance(exc, exceptions.Throttled):
        response.data = _body("throttled", str(exc.detail), {"retry_after": exc.wait})
    elif isinstance(exc, exceptions.APIException):
        response.data = _body(exc.get_codes() if isinstance(exc.get_codes(), str) else "error", str(exc.detail))
    else:  # pragma: no cover - DRF only handles APIException and Http404/PermissionDenied
        response.data = _body("error", str(exc))
    if response.status_code == status.HTTP_404_NOT_FOUND and not response.data["message"]:
        response.data["message"] = _("Not found.")
    return response
