"""The eForm editor: administrators write each procedure's online form as JSON (docs/eforms.md), see the checks and
a live preview, and save it.

Without JavaScript the page works by plain POSTs: "Preview" renders the page again with the preview of the posted
text, "Save" saves and redirects. With htmx the preview follows the typing. The rules live in procedures.eforms and
procedures.services; these views parse, call and render.
"""

import json
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import PermissionDenied, ValidationFailed
from procedures import eforms
from procedures.models import Procedure
from procedures.selectors import procedure_search
from procedures.services import procedure_form_set

from .views import officer_required

PAGE_SIZE = 50
MAX_SCHEMA_CHARS = 200_000
# Filter of the list: every procedure, those with a form, those without.
WITH, WITHOUT = "co", "chua"
# Ready-made fields the editor inserts (their content is procedures/data/eforms/_snippets.json).
SNIPPETS = [
    ("section", gettext_lazy("Section heading")),
    ("full_name", gettext_lazy("Full name")),
    ("birth_date", gettext_lazy("Date of birth")),
    ("id_number", gettext_lazy("Personal ID number")),
    ("sex", gettext_lazy("Sex")),
    ("address", gettext_lazy("Address")),
    ("phone", gettext_lazy("Phone")),
    ("email", gettext_lazy("Email")),
    ("yes_no", gettext_lazy("Yes/no question")),
    ("members", gettext_lazy("List of members")),
    ("declaration", gettext_lazy("Declaration")),
]


def editor_required(view):  # type: ignore[no-untyped-def]
    """An agency or province administrator; anyone else is told so (403)."""

    @officer_required
    @wraps(view)
    def wrapper(request, officer, *args, **kwargs):  # type: ignore[no-untyped-def]
        if officer.role not in eforms.EDITOR_ROLES:
            return _refused(request, officer, _("Only agency and province administrators edit online forms."))
        try:
            return view(request, officer, *args, **kwargs)
        except PermissionDenied as exc:
            return _refused(request, officer, exc.message)

    return wrapper


def _refused(request, officer, message: str):  # type: ignore[no-untyped-def]
    return render(request, "backoffice/designer/refused.html", {"officer": officer, "message": message}, status=403)


def _procedure(officer, code: str) -> Procedure:  # type: ignore[no-untyped-def]
    procedure = eforms.procedures_for_form_editor(actor=officer).filter(code=code).select_related("field").first()
    if procedure is None:
        raise Http404(_("No procedure you may edit has the code “%(code)s”.") % {"code": code})
    return procedure


def _parse(text: str) -> tuple[dict[str, Any], list[str]]:
    """The schema typed in the editor, or the reasons it is not one."""
    text = text.strip()
    if not text:
        return {}, []
    if len(text) > MAX_SCHEMA_CHARS:
        return {}, [_("The form is too long (at most %(count)d characters).") % {"count": MAX_SCHEMA_CHARS}]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, [
            _("The text is not valid JSON: look near line %(line)d, column %(column)d.")
            % {"line": exc.lineno, "column": exc.colno}
        ]
    if not isinstance(schema, dict):
        return {}, [_("The form must be a JSON object.")]
    return schema, eforms.schema_errors(schema)


def _pretty(schema: dict[str, Any]) -> str:
    return json.dumps(eforms.ordered(schema), ensure_ascii=False, indent=2) if schema else ""


def _snippets() -> list[dict[str, str]]:
    bodies = eforms.field_snippets()
    return [
        {
            "label": str(label),
            "json": json.dumps(eforms.ordered({"fields": [bodies[key]]})["fields"][0], ensure_ascii=False),
        }
        for key, label in SNIPPETS
        if key in bodies
    ]


def _preview_context(text: str, answers: Any = None) -> dict[str, Any]:
    """The checks of the typed schema and, when it is valid, the form as citizens will see it (with the checks of
    sample answers when the administrator tried some)."""
    schema, errors = _parse(text)
    values: dict[str, Any] = {}
    answer_errors: dict[str, str] = {}
    if not errors and answers is not None:
        values, answer_errors = eforms.clean(schema, answers)
    return {
        "text": text,
        "errors": errors,
        "fields": eforms.bound_fields(schema, values, answer_errors) if not errors else [],
        "has_fields": bool(schema.get("fields")) if not errors else False,
        "tried": answers is not None and not errors,
        "answer_errors": answer_errors,
    }


def _page(request, officer, procedure: Procedure, text: str, *, answers: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    context = {
        "officer": officer,
        "procedure": procedure,
        "snippets": _snippets(),
        "not_saved": request.method == "POST" and status == 400,
        **_preview_context(text, answers),
    }
    return render(request, "backoffice/eforms_edit.html", context, status=status)


# Views


@require_GET
@editor_required
def index(request, officer):  # type: ignore[no-untyped-def]
    q = request.GET.get("q", "").strip()[:200]
    having = request.GET.get("bieu-mau", "")
    procedures = procedure_search(q=q).filter(pk__in=eforms.procedures_for_form_editor(actor=officer).values("pk"))
    if having == WITH:
        procedures = procedures.exclude(form_schema={})
    elif having == WITHOUT:
        procedures = procedures.filter(form_schema={})
    page = Paginator(procedures, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    tabs = [("", _("All")), (WITH, _("With a form")), (WITHOUT, _("Without a form"))]
    return render(
        request,
        "backoffice/eforms.html",
        {
            "officer": officer,
            "q": q,
            "having": having,
            "tabs": tabs,
            "page": page,
            "query": query.urlencode(),
        },
    )


@require_http_methods(["GET", "POST"])
@editor_required
def edit(request, officer, code: str):  # type: ignore[no-untyped-def]
    procedure = _procedure(officer, code)
    if request.method == "GET":
        return _page(request, officer, procedure, _pretty(procedure.form_schema))
    text = request.POST.get("schema", "")
    schema, errors = _parse(text)
    if not errors:
        try:
            procedure_form_set(procedure=procedure, schema=schema, by=officer)
        except ValidationFailed:
            pass  # the page shows the same checks (eforms.schema_errors) beside the text
        else:
            messages.success(request, _("The online form of %(code)s was saved.") % {"code": procedure.code})
            return redirect("backoffice:eform", code=procedure.code)
    return _page(request, officer, procedure, text, status=400)


@require_POST
@editor_required
def preview(request, officer, code: str):  # type: ignore[no-untyped-def]
    """The checks and the preview of the posted text (nothing is saved); with sample answers, their checks too."""
    procedure = _procedure(officer, code)
    text = request.POST.get("schema", "")
    answers = request.POST if request.POST.get("_answers") else None
    if request.htmx:
        context = {"procedure": procedure, **_preview_context(text, answers)}
        return render(request, "backoffice/eforms_preview.html", context)
    return _page(request, officer, procedure, text, answers=answers)


urlpatterns = [
    path("bieu-mau/", index, name="eforms"),
    path("bieu-mau/<str:code>/", edit, name="eform"),
    path("bieu-mau/<str:code>/xem-truoc/", preview, name="eform-preview"),
]
