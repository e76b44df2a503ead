"""Officers' daily work: the work queues, the dossier page with the actions they may take, the action forms."""

from html import escape

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import Conflict, DomainError, NotFound
from core.selectors import calendar_for
from dossiers import deadlines, engine, online
from dossiers import selectors as dossier_selectors
from dossiers.models import Status
from organizations.selectors import counters_of
from procedures import eforms
from procedures.selectors import procedures_of_agency
from workflows.models import Action

from .views import _get, officer_required

QUEUE_LABELS = {
    "mine": gettext_lazy("My tasks"),
    "department": gettext_lazy("Unassigned in my department"),
    "due_soon": gettext_lazy("Due within one working day"),
    "overdue": gettext_lazy("Overdue"),
    "waiting": gettext_lazy("Waiting for the applicant"),
}
# Actions that need more than a click: the page shows them as small forms.
WITH_FORM = {Action.FORWARD, Action.HAND_OVER, Action.APPROVE, Action.SEND_BACK, Action.ASSIGN,
             Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT, Action.REFUSE, Action.STOP, Action.APOLOGISE,
             Action.RECORD_RESULT, Action.RESUME}  # fmt: skip


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def queue_rows_html(rows, *, now, soon) -> str:  # type: ignore[no-untyped-def]
    """The table rows of a queue page, every value escaped. Built here rather than in a template loop: the page is
    every officer's home, and a template's per-variable lookups were most of its time."""
    statuses = {value: escape(str(label)) for value, label in Status.choices}
    link = reverse("backoffice:dossier", args=["-"])[:-2]
    html = []
    for code, status, procedure, step, due_at, first, last, username in rows:
        state = "overdue" if due_at < now else "due_soon" if due_at < soon else "on_time"
        late = ' class="late"' if state == "overdue" else ""
        who = escape(f"{first} {last}".strip() or username) if username else "—"
        code = escape(code)
        html.append(
            f'<tr{late}><td><a class="code" href="{link}{code}/">{code}</a>'
            f'</td><td class="clip">{escape(procedure)}</td><td>{escape(step)}</td><td>{who}</td><td><span '
            f'class="deadline deadline-{state}">{timezone.localtime(due_at):%H:%M %d/%m/%Y}</span></td>'
            f"<td>{statuses.get(status, status)}</td></tr>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 -- every value above is escaped


def options_html(choices, selected: int | None) -> str:  # type: ignore[no-untyped-def]
    """``<option>`` elements for (pk, name) pairs, the selected one marked; every name escaped."""
    return mark_safe(  # noqa: S308 -- names are escaped, keys are integers
        "".join(
            f'<option value="{pk}"{" selected" if pk == selected else ""}>{escape(name)}</option>'
            for pk, name in choices
        )
    )


@officer_required
def queues(request, officer):  # type: ignore[no-untyped-def]
    queue = request.GET.get("queue", "mine")
    if queue not in dossier_selectors.QUEUES:
        raise Http404(_("No such work queue."))
    now = timezone.now()
    soon = calendar_for(working_hours=officer.agency.working_hours).add(now, 1, "days")
    filters = dossier_selectors.QueueFilter(
        queue=queue, procedure_id=_int(request.GET.get("procedure")), counter_id=_int(request.GET.get("counter"))
    )
    rows = dossier_selectors.queue_rows(officer=officer, filters=filters, now=now, soon=soon)
    counts = dossier_selectors.queue_counts(officer=officer, now=now, soon=soon)
    paginator = Paginator(rows, dossier_selectors.QUEUE_PAGE, allow_empty_first_page=True)
    if not (filters.procedure_id or filters.counter_id):
        paginator.count = counts[queue]  # the queue's count, read a moment ago: no second count of the same rows
    page = paginator.get_page(request.GET.get("page"))
    procedures = procedures_of_agency(agency_id=officer.agency_id)
    counters = counters_of(agency_id=officer.agency_id)
    return render(
        request,
        "backoffice/queues.html",
        {
            "officer": officer,
            "inbox": dossier_selectors.unread_notifications(staff=officer),
            "queue": queue,
            "queues": [(key, QUEUE_LABELS[key], counts[key]) for key in dossier_selectors.QUEUES],
            "page": page,
            "rows": queue_rows_html(page.object_list, now=now, soon=soon),
            "now": now,
            "soon": soon,
            "filters": filters,
            "procedures": options_html(procedures.values_list("pk", "name"), filters.procedure_id),
            "counters": options_html(counters.values_list("pk", "name"), filters.counter_id),
        },
    )


def dossier_page(request, officer, dossier, *, errors=None, failed_action="", status=200):  # type: ignore[no-untyped-def]
    now = timezone.now()
    available = engine.actions_available(officer=officer, dossier=dossier, now=now)
    rows = [
        (a, Action(a).label, engine.move_targets(dossier=dossier, action=a) if a in engine.MOVES else [])
        for a in available
    ]
    return render(
        request,
        "backoffice/dossier.html",
        {
            "officer": officer,
            "dossier": dossier,
            "task": dossier.current_task,
            "documents": dossier.documents.all(),
            "fees": dossier.fees.all(),
            "events": dossier_selectors.events_of(dossier=dossier),
            "tasks": dossier_selectors.tasks_of(dossier=dossier),
            "notices": dossier.notices.order_by("issued_at"),
            "attachments": dossier.attachments.order_by("uploaded_at"),
            "deadline": engine.deadline_state(dossier=dossier, now=now),
            "actions": rows,
            "with_form": WITH_FORM,
            "assignees": engine.assignees(dossier=dossier) if Action.ASSIGN in available else [],
            "errors": errors or {},
            "failed_action": failed_action,
            "form": request.POST if failed_action else {},
            "Status": Status,
            "can_receive_online": online.can_receive_online(officer=officer, dossier=dossier),
            "form_rows": eforms.display_rows(dossier.procedure.form_schema, dossier.form_data),
        },
        status=status,
    )


@officer_required
def dossier_detail(request, officer, code: str):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
    return dossier_page(request, officer, dossier)


def action_input(data, files) -> engine.ActionInput:  # type: ignore[no-untyped-def]
    """The action's fields from a form or an API request (items one per line or repeated)."""
    items = data.getlist("items") if hasattr(data, "getlist") else data.get("items", [])
    if isinstance(items, str):
        items = [items]
    lines = [line for item in items for line in str(item).splitlines()]
    extra = data.get("extra_days")
    return engine.ActionInput(
        note=str(data.get("note", "")),
        to_step=str(data.get("to_step", "")),
        assignee_id=_int(str(data.get("assignee") or "")),
        items=lines,
        reason=str(data.get("reason", "")),
        contact=str(data.get("contact", "")),
        extra_days=_int(str(extra)) if extra not in (None, "") else None,
        files=files.getlist("files") if files is not None else [],
    )


@officer_required
def act(request, officer, code: str, action: str):  # type: ignore[no-untyped-def]
    if request.method != "POST":
        return redirect("backoffice:dossier", code=code)
    try:
        engine.dossier_act(
            officer=officer,
            code=code,
            action=action,
            task_id=_int(request.POST.get("task")),
            data=action_input(request.POST, request.FILES),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Conflict as exc:
        messages.error(request, exc.message)
        dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
        return dossier_page(request, officer, dossier, status=409)
    except DomainError as exc:
        dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
        errors = exc.detail if isinstance(exc.detail, dict) else {}
        messages.error(request, exc.message)
        return dossier_page(request, officer, dossier, errors=errors, failed_action=action, status=exc.status)
    label = Action(action).label
    messages.success(request, _("Done: %(action)s.") % {"action": label})
    return redirect("backoffice:dossier", code=code)


@officer_required
def attachment(request, officer, code: str, pk: int):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
    item = dossier.attachments.filter(pk=pk).first()
    if item is None:
        raise Http404(_("No such file."))
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.file_name)


@officer_required
def notification_read(request, officer, pk: int):  # type: ignore[no-untyped-def]
    """Mark one of the officer's notifications read, then back to the page it was listed on."""
    if request.method == "POST":
        _get(deadlines.notification_mark_read, staff=officer, pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("backoffice:queues")
    return redirect(back)
