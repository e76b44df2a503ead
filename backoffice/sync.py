"""The national portal sync monitor: province administrators watch the outbox per agency and day, read one message
with the portal's answer, send failed messages again, queue the catalogue, and compare what the portal holds with
ours (reconciliation). The rules live in sync; these views parse, call, and render."""

import datetime as dt
import json
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from core.models import OutboxMessage
from core.national import Status
from organizations.models import Role
from organizations.selectors import agency_list
from procedures.models import Procedure
from sync import selectors
from sync.outbox import outbox_retry
from sync.reconcile import reconcile_dossiers, reconcile_procedures
from sync.services import catalogue_send_all

from .views import _get, officer_required

Topic = OutboxMessage.Topic
TOPICS = [(Topic.DOSSIER.value, gettext_lazy("Dossiers")), (Topic.PROCEDURE.value, gettext_lazy("Procedure catalogue"))]
DEFAULT_DAYS = 7
FAILED_PAGE = 50
RECONCILE_LIMIT = 5000  # dossiers asked of the portal in one report (200 a call): the page waits for the answers
COUNTS = ("pending", "retrying", "delivered", "failed")
# The portal's catalogue states ("1" published, "0" closed) in our words.
PROCEDURE_STATES = {"1": Procedure.Status.PUBLISHED.label, "0": Procedure.Status.CLOSED.label}


class SyncFilter(forms.Form):
    topic = forms.ChoiceField(label=gettext_lazy("Synchronised data"), choices=TOPICS)
    start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int, required=False, empty_value=None)

    def __init__(self, query, *, agencies: list[tuple[int, str]]) -> None:  # type: ignore[no-untyped-def]
        """Bound to the query string, the last seven days and the dossier topic unless it says otherwise."""
        data = query.copy()
        today = timezone.localdate()
        for name, default in (
            ("topic", Topic.DOSSIER.value),
            ("start", (today - dt.timedelta(DEFAULT_DAYS - 1)).isoformat()),
            ("end", today.isoformat()),
        ):
            if not data.get(name):
                data[name] = default
        super().__init__(data)
        self.fields["agency"].choices = [("", _("All")), *agencies]  # type: ignore[attr-defined]

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return data

    def query(self, **changes) -> str:  # type: ignore[no-untyped-def]
        """The filter as a query string (for links), with some values changed."""
        d = self.cleaned_data
        values = {"topic": d["topic"], "start": d["start"].isoformat(), "end": d["end"].isoformat()}
        values["agency"] = d["agency"] or ""
        values.update(changes)
        return urlencode({k: "" if v is None else v for k, v in values.items()})


def province_admin_required(view):  # type: ignore[no-untyped-def]
    """Province administrators only; anyone else is told so (403)."""

    @officer_required
    @wraps(view)
    def wrapper(request, officer, *args, **kwargs):  # type: ignore[no-untyped-def]
        if officer.role != Role.PROVINCE_ADMIN:
            message = _("Only province administrators monitor the national portal sync.")
            context = {"officer": officer, "message": message}
            return render(request, "backoffice/designer/refused.html", context, status=403)
        return view(request, officer, *args, **kwargs)

    return wrapper


def _agencies() -> list[tuple[int, str]]:
    return list(agency_list(on=timezone.localdate()).values_list("pk", "name"))


def _int(value) -> int | None:  # type: ignore[no-untyped-def]
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pretty(value) -> str | None:  # type: ignore[no-untyped-def]
    return None if value is None else json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def _monitor_url(topic: str, agency_id: int | None = None) -> str:
    query = {"topic": topic} | ({"agency": agency_id} if agency_id else {})
    return f"{reverse('backoffice:sync')}?{urlencode(query)}"


def _state_label(topic: str, value: str | None) -> str:
    if value is None:
        return _("Not on the national portal")
    if topic == Topic.PROCEDURE:
        return str(PROCEDURE_STATES.get(value, value))
    number = _int(value)
    return f"{value}. {Status(number).label}" if number in Status.values else value


# Views


@require_GET
@province_admin_required
def monitor(request, officer):  # type: ignore[no-untyped-def]
    agencies = _agencies()
    form = SyncFilter(request.GET, agencies=agencies)
    context = {"officer": officer, "form": form, "topics": TOPICS, "counts": COUNTS}
    if not form.is_valid():
        context["topic"] = form.data["topic"]
        return render(request, "backoffice/sync/monitor.html", context, status=400)
    d = form.cleaned_data
    rows = selectors.outbox_summary(topic=d["topic"], start=d["start"], end=d["end"], agency_id=d["agency"])
    context |= {
        "topic": d["topic"],
        "rows": [(row, form.query(state="failed", agency=row.agency_id)) for row in rows],
        "total": {name: sum(getattr(row, name) for row in rows) for name in COUNTS},
        "outstanding": selectors.outbox_totals(topic=d["topic"]),
        "query": form.query(),
        "failed_query": form.query(state="failed"),
    }
    if request.GET.get("state") == "failed":
        failed = selectors.failed_messages(topic=d["topic"], agency_id=d["agency"])
        page = Paginator(failed, FAILED_PAGE).get_page(request.GET.get("page"))
        names = dict(agencies)
        context["failed"] = page
        context["failed_rows"] = [
            (m, selectors.dossier_code_of(m) or m.key, names.get(m.agency_id, "—")) for m in page.object_list
        ]
    return render(request, "backoffice/sync/monitor.html", context)


@require_GET
@province_admin_required
def message(request, officer, pk: int):  # type: ignore[no-untyped-def]
    message, body = _get(selectors.outbox_message, pk=pk)
    agency = agency_list().filter(pk=message.agency_id).first() if message.agency_id else None
    context = {
        "officer": officer,
        "message": message,
        "code": str((body or {}).get("MaHoSo") or (body or {}).get("MaTTHC") or ""),
        "agency": agency,
        "body": _pretty(body),
        "answer": _pretty(message.answer),
        "as_sent": message.request is not None,
        "failed": message.state == OutboxMessage.State.DEAD,
    }
    return render(request, "backoffice/sync/message.html", context)


@require_POST
@province_admin_required
def retry(request, officer):  # type: ignore[no-untyped-def]
    """One failed message (``id``), or every failed one of a topic (and an agency, when given)."""
    pk = _int(request.POST.get("id"))
    topic = request.POST.get("topic")
    agency_id = _int(request.POST.get("agency"))
    if pk is not None:
        count = outbox_retry(ids=[pk])
    elif topic in Topic.values:
        count = outbox_retry(topic=topic, agency_id=agency_id)
    else:
        messages.error(request, _("Choose a message or a kind of data to retry."))
        return redirect("backoffice:sync")
    if count:
        messages.success(
            request,
            ngettext("%(count)d message queued for retry.", "%(count)d messages queued for retry.", count)
            % {"count": count},
        )
    else:
        messages.warning(request, _("No failed message to retry."))
    if pk is not None:
        return redirect("backoffice:sync-message", pk=pk)
    return redirect(_monitor_url(topic, agency_id))  # type: ignore[arg-type]


@require_POST
@province_admin_required
def catalogue(request, officer):  # type: ignore[no-untyped-def]
    count = catalogue_send_all()
    messages.success(
        request,
        ngettext(
            "%(count)d procedure queued for the national portal.",
            "%(count)d procedures queued for the national portal.",
            count,
        )
        % {"count": count},
    )
    return redirect(_monitor_url(Topic.PROCEDURE))


@require_GET
@province_admin_required
def reconcile(request, officer):  # type: ignore[no-untyped-def]
    """The form, and on submit (``run``) the report: asks the portal now, so it waits for its answers."""
    form = SyncFilter(request.GET, agencies=_agencies())
    context = {"officer": officer, "form": form, "limit": RECONCILE_LIMIT}
    status = 200
    if "run" in request.GET:
        if form.is_valid():
            d = form.cleaned_data
            if d["topic"] == Topic.PROCEDURE:
                result = reconcile_procedures()
            else:
                result = reconcile_dossiers(
                    start=d["start"], end=d["end"], agency_id=d["agency"], limit=RECONCILE_LIMIT
                )
            context |= {
                "result": result,
                "topic": d["topic"],
                "differences": [
                    (diff, _state_label(d["topic"], diff.local), _state_label(d["topic"], diff.portal))
                    for diff in result.differences
                ],
                "at_limit": d["topic"] == Topic.DOSSIER and result.checked >= RECONCILE_LIMIT,
            }
        else:
            context["invalid"] = True
            status = 200 if request.htmx else 400  # htmx swaps only a success: the errors are in the report's place
    template = "backoffice/sync/_reconciliation.html" if request.htmx else "backoffice/sync/reconcile.html"
    return render(request, template, context, status=status)
