"""The workflow designer: administrators build, check, publish and apply internal workflows.

Every form works as a plain POST followed by a redirect; with htmx the step table, the check and the apply report are
swapped in place. The rules live in workflows.services; these views parse, call, and render.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from core.errors import Conflict, DomainError, ValidationFailed
from core.national import Status
from organizations.models import Agency, Department, Role
from procedures.models import Procedure
from procedures.selectors import procedure_search
from workflows import graph, services
from workflows.models import CONFIGURABLE_ACTIONS, Action, Step, Version
from workflows.selectors import (
    access_step_for_designer,
    access_version_for_designer,
    apply_targets,
    clone_sources,
    competences_without_workflow,
    departments_of,
    steps_of,
    workflows_for_designer,
)

from .views import _get, int_or_none, paginate, roles_required

PAGE_SIZE = 50
STEP_ROLES = [Role.ONE_STOP_OFFICER, Role.SPECIALIST, Role.DEPARTMENT_HEAD, Role.AGENCY_LEADER]
STEP_STATUSES = [Status.ACCEPTED, Status.IN_PROCESS, Status.WAITING_SUPPLEMENT, Status.WAITING_PAYMENT,
                 Status.RESOLVED, Status.RETURNED]  # fmt: skip
MOVES = {"len": -1, "xuong": 1}


def _label(name: str) -> str:
    return capfirst(Step._meta.get_field(name).verbose_name)  # type: ignore[return-value]


class StepForm(forms.Form):
    """Parses a step; the rules (and their messages) are the service's, so little is required here."""

    name = forms.CharField(label=_label("name"), max_length=255, required=False)
    kind = forms.ChoiceField(label=_label("kind"), choices=Step.Kind.choices, initial=Step.Kind.PROCESS)
    department_id = forms.TypedChoiceField(label=_label("department"), coerce=int, required=False, empty_value=None)
    role = forms.ChoiceField(
        label=_label("role"), choices=[(r.value, r.label) for r in STEP_ROLES], initial=Role.SPECIALIST
    )
    budget = forms.CharField(
        label=_label("budget"), max_length=12, required=False, initial="1", widget=forms.TextInput({"size": 5})
    )
    budget_unit = forms.ChoiceField(label=_label("budget_unit"), choices=Step.Unit.choices, initial=Step.Unit.DAYS)
    national_status = forms.TypedChoiceField(
        label=_label("national_status"),
        coerce=int,
        choices=[(s.value, f"{s.value}. {s.label}") for s in STEP_STATUSES],
        initial=Status.IN_PROCESS,
    )
    actions = forms.MultipleChoiceField(
        label=_label("actions"),
        required=False,
        choices=[(a.value, a.label) for a in CONFIGURABLE_ACTIONS],
        initial=[Action.FORWARD, Action.SEND_BACK],
        widget=forms.CheckboxSelectMultiple,
    )
    next_keys = forms.MultipleChoiceField(
        label=_label("next_keys"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: the step after it. Several: the officer chooses (a branch)."),
    )

    def __init__(self, *args, departments: list[Department], others: list[Step], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        department = self.fields["department_id"]
        department.choices = [("", _("— none (the counter or the leaders) —"))] + [(d.pk, d.name) for d in departments]  # type: ignore[attr-defined]
        self.fields["next_keys"].choices = [(s.key, f"{s.position}. {s.name}") for s in others]  # type: ignore[attr-defined]

    @classmethod
    def initial_of(cls, step: Step) -> dict:  # type: ignore[type-arg]
        return {
            "name": step.name,
            "kind": step.kind,
            "department_id": step.department_id,
            "role": step.role,
            "budget": f"{step.budget.normalize():f}".replace(".", ","),
            "budget_unit": step.budget_unit,
            "national_status": step.national_status,
            "actions": list(step.actions),
            "next_keys": list(step.next_keys),
        }

    def step_input(self, *, agency_id: int | None = None) -> services.StepInput:
        d = self.cleaned_data
        return services.StepInput(
            name=d["name"] or "",
            role=d["role"],
            kind=d["kind"],
            department_id=d["department_id"],
            agency_id=agency_id,
            budget=d["budget"] or "",
            budget_unit=d["budget_unit"],
            national_status=d["national_status"],
            actions=d["actions"],
            next_keys=d["next_keys"],
        )

    def add_domain_error(self, exc: DomainError) -> None:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        for key, message in detail.items():
            self.add_error(key if key in self.fields else None, message)
        if not any(key in self.fields for key in detail):
            self.add_error(None, exc.message)


class ApplyForm(forms.Form):
    agencies = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Agencies"), coerce=int, required=False, widget=forms.SelectMultiple({"size": 12})
    )
    all_communes = forms.BooleanField(
        label=capfirst(gettext_lazy("all communes, wards and special zones")), required=False
    )
    publish = forms.BooleanField(
        label=capfirst(gettext_lazy("publish where the check passes")), required=False, initial=True
    )

    def __init__(self, *args, agencies: list[Agency], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.agency_list = agencies
        self.fields["agencies"].choices = [(a.pk, a.name) for a in agencies]  # type: ignore[attr-defined]

    def clean(self) -> dict:  # type: ignore[type-arg]
        data = super().clean() or {}
        if not data.get("agencies") and not data.get("all_communes"):
            self.add_error("agencies", _("Choose at least one agency."))
        return data

    def targets(self) -> list[Agency]:
        chosen = set(self.cleaned_data["agencies"])
        communes = self.cleaned_data["all_communes"]
        return [a for a in self.agency_list if a.pk in chosen or (communes and a.level == Agency.Level.COMMUNE)]


# An officer who administers an agency or the province; anyone else is told so (403).
designer_required = roles_required(
    services.DESIGNER_ROLES, gettext_lazy("Only agency and province administrators configure workflows.")
)


# Presentation of a version: the table rows and the diagram.

BOX_W, BOX_H, GAP, MARGIN, LANE = 380, 74, 34, 16, 18
COLOURS = {
    Step.Kind.COUNTER: ("#e3f4e7", "#1d7a35"),
    Step.Kind.SIGN: ("#fdecee", "#a50e24"),
    Step.Kind.PROCESS: ("#e6effa", "#0b57a4"),
}


def _decorate(steps: list[Step]) -> list[Step]:
    for step in steps:
        step.following = graph.successors(steps, step)  # type: ignore[attr-defined]
        step.action_labels = [Action(a).label if a in Action.values else a for a in step.actions]  # type: ignore[attr-defined]
    return steps


def _diagram(steps: list[Step]) -> dict:  # type: ignore[type-arg]
    """Boxes top to bottom; an arrow straight down to the next step, branches and jumps drawn in lanes beside."""
    index = {s.key: i for i, s in enumerate(steps)}
    right = MARGIN + BOX_W
    boxes, down, side = [], [], []
    for i, step in enumerate(steps):
        y = MARGIN + i * (BOX_H + GAP)
        fill, stroke = COLOURS.get(step.kind, COLOURS[Step.Kind.PROCESS])
        role = step.get_role_display()
        who = f"{step.department.name} · {role}" if step.department else role
        boxes.append(
            {"step": step, "x": MARGIN, "y": y, "fill": fill, "stroke": stroke, "who": who,
             "y1": y + 23, "y2": y + 45, "y3": y + 64, "tx": MARGIN + 12}
        )  # fmt: skip
    for i, step in enumerate(steps):
        top = MARGIN + i * (BOX_H + GAP)
        for nxt in graph.successors(steps, step):
            j = index[nxt.key]
            if j == i + 1:
                x = MARGIN + BOX_W // 2
                down.append({"x": x, "y1": top + BOX_H, "y2": top + BOX_H + GAP - 2})
            else:
                lane = right + LANE * (len(side) + 1)
                offset = 16 + 14 * (len(side) % 4)
                y_from = top + offset
                y_to = MARGIN + j * (BOX_H + GAP) + offset
                side.append({"d": f"M{right} {y_from} H{lane} V{y_to} H{right + 2}"})
    height = MARGIN * 2 + max(len(steps), 1) * (BOX_H + GAP) - GAP
    return {
        "boxes": boxes,
        "down": down,
        "side": side,
        "width": right + LANE * (len(side) + 1) + MARGIN,
        "height": height,
        "box_w": BOX_W,
        "box_h": BOX_H,
        "empty_y": MARGIN + BOX_H // 2,
    }


def _context(officer, version: Version, *, steps: list[Step] | None = None, **extra) -> dict:  # type: ignore[no-untyped-def, type-arg]
    steps = _decorate(steps if steps is not None else steps_of(version_id=version.pk))
    editable = version.state == Version.State.DRAFT
    context = {
        "officer": officer,
        "version": version,
        "workflow": version.workflow,
        "steps": steps,
        "editable": editable,
        "diagram": _diagram(steps),
        "column_count": 11 if editable else 10,
    }
    if editable:
        context["clone_sources"] = clone_sources(version=version)
        if "add_form" not in extra:
            context["add_form"] = StepForm(
                prefix="new", departments=departments_of(agency_id=version.workflow.agency_id), others=steps
            )
    elif officer.role == Role.PROVINCE_ADMIN and "apply_form" not in extra:
        context["apply_form"] = ApplyForm(prefix="apply", agencies=apply_targets(version=version))
    context.update(extra)
    return context


def _designer(request, officer, version: Version, *, status: int = 200, **extra):  # type: ignore[no-untyped-def]
    """The step table, the add form and the diagram: the htmx partial, or the whole page without htmx."""
    context = _context(officer, version, **extra)
    if request.htmx:
        response = render(request, "backoffice/designer/_designer.html", context)
        return retarget(reswap(response, "outerHTML"), "#designer")
    return render(request, "backoffice/designer/version.html", context, status=status)


def _to_version(version_id: int):  # type: ignore[no-untyped-def]
    return redirect("backoffice:workflow-version", pk=version_id)


def _step_of(officer, pk: int) -> tuple[Version, list[Step], Step]:  # type: ignore[no-untyped-def]
    return _get(access_step_for_designer, actor=officer, step_id=pk)


# Views


@require_GET
@designer_required
def index(request, officer):  # type: ignore[no-untyped-def]
    q = request.GET.get("q", "").strip()[:200]
    workflows = workflows_for_designer(actor=officer)
    todo = competences_without_workflow(actor=officer)
    if q:
        matching = procedure_search(q=q, include_closed=True).values("pk")
        workflows = workflows.filter(procedure__in=matching)
        todo = todo.filter(procedure__in=matching)
    workflows_page, workflows_query = paginate(request, workflows, size=PAGE_SIZE)
    todo_page, todo_query = paginate(request, todo, size=PAGE_SIZE, param="todo_page")
    return render(
        request,
        "backoffice/designer/index.html",
        {
            "officer": officer,
            "q": q,
            "workflows": workflows_page,
            "workflows_query": workflows_query,
            "todo": todo_page,
            "todo_query": todo_query,
        },
    )


@require_POST
@designer_required
def draft(request, officer):  # type: ignore[no-untyped-def]
    procedure = Procedure.objects.filter(pk=int_or_none(request.POST.get("procedure"))).first()
    agency = Agency.objects.filter(pk=int_or_none(request.POST.get("agency"))).first()
    if procedure is None or agency is None:
        raise Http404(_("No such procedure or agency."))
    version = services.workflow_draft(actor=officer, procedure=procedure, agency=agency)
    return _to_version(version.pk)


@require_GET
@designer_required
def version(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    return _designer(request, officer, version)


@require_POST
@designer_required
def step_add(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    steps = steps_of(version_id=version.pk)
    form = StepForm(
        request.POST, prefix="new", departments=departments_of(agency_id=version.workflow.agency_id), others=steps
    )
    if form.is_valid():
        try:
            step = services.step_add(actor=officer, version_id=version.pk, data=form.step_input())
        except (ValidationFailed, Conflict) as exc:
            form.add_domain_error(exc)
        else:
            if request.htmx:
                return _designer(request, officer, version)
            messages.success(request, _("Step “%(step)s” added.") % {"step": step.name})
            return _to_version(version.pk)
    return _designer(request, officer, version, steps=steps, add_form=form, status=400)


@require_http_methods(["GET", "POST"])
@designer_required
def step_edit(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version, steps, step = _step_of(officer, pk)
    if version.state != Version.State.DRAFT:
        return _designer(
            request,
            officer,
            version,
            steps=steps,
            error=_("Only a draft can be edited; a published version is changed through a new draft."),
            status=409,
        )
    form = StepForm(
        request.POST or None,
        prefix=f"step{step.pk}",
        initial=StepForm.initial_of(step),
        departments=departments_of(agency_id=step.agency_id),
        others=[s for s in steps if s.pk != step.pk],
    )
    if request.method == "POST" and form.is_valid():
        try:
            # An inter-agency leg stays with its agency: only its department and the rest are edited here.
            services.step_update(actor=officer, step_id=step.pk, data=form.step_input(agency_id=step.agency_id))
        except (ValidationFailed, Conflict) as exc:
            form.add_domain_error(exc)
        else:
            if request.htmx:
                return _designer(request, officer, version)
            messages.success(request, _("Step “%(step)s” saved.") % {"step": form.cleaned_data["name"]})
            return _to_version(version.pk)
    context = {"officer": officer, "version": version, "step": step, "form": form, "column_count": 11}
    if request.htmx:
        response = render(request, "backoffice/designer/_step_form_row.html", context)
        return retarget(reswap(response, "outerHTML"), f"#step-{step.pk}")
    status = 400 if request.method == "POST" else 200
    return render(request, "backoffice/designer/step_edit.html", context, status=status)


def _step_change(request, officer, pk: int, change):  # type: ignore[no-untyped-def]
    version, steps, step = _step_of(officer, pk)
    try:
        change(step)
    except (ValidationFailed, Conflict) as exc:
        return _designer(request, officer, version, steps=steps, error=exc.message, status=exc.status)
    if request.htmx:
        return _designer(request, officer, version)
    return _to_version(version.pk)


@require_POST
@designer_required
def step_move(request, officer, pk: int, direction: str):  # type: ignore[no-untyped-def]
    if direction not in MOVES:
        raise Http404(_("A step moves up (len) or down (xuong)."))
    return _step_change(
        request, officer, pk, lambda step: services.step_move(actor=officer, step_id=step.pk, offset=MOVES[direction])
    )


@require_POST
@designer_required
def step_remove(request, officer, pk: int):  # type: ignore[no-untyped-def]
    return _step_change(request, officer, pk, lambda step: services.step_remove(actor=officer, step_id=step.pk))


@require_GET
@designer_required
def diagram(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    steps = steps_of(version_id=version.pk)
    return render(
        request,
        "backoffice/designer/diagram.svg",
        {"diagram": _diagram(steps), "version": version, "standalone": True},
        content_type="image/svg+xml; charset=utf-8",
    )


@require_GET
@designer_required
def check(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    result = services.version_check(version=version)
    if request.htmx:
        return render(request, "backoffice/designer/_check.html", {"check": result, "version": version})
    return render(request, "backoffice/designer/version.html", _context(officer, version, check=result))


@require_POST
@designer_required
def publish(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    try:
        result = services.version_publish(actor=officer, version_id=version.pk)
    except ValidationFailed as exc:
        errors = exc.detail.get("errors", []) if isinstance(exc.detail, dict) else []
        result = graph.Check(errors=errors or [exc.message])
        if request.htmx:
            return render(request, "backoffice/designer/_check.html", {"check": result, "version": version})
        return _designer(request, officer, version, check=result, status=400)
    except Conflict as exc:
        if request.htmx:
            return render(request, "backoffice/designer/_check.html", {"error": exc.message, "version": version})
        return _designer(request, officer, version, error=exc.message, status=409)
    messages.success(request, _("Version %(number)s is published.") % {"number": version.number})
    for warning in result.warnings:
        messages.warning(request, warning)
    url = reverse("backoffice:workflow-version", args=[version.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@designer_required
def apply(request, officer, pk: int):  # type: ignore[no-untyped-def]
    version = _get(access_version_for_designer, actor=officer, version_id=pk)
    if "source" in request.POST:
        return _clone(request, officer, version)
    form = ApplyForm(request.POST, prefix="apply", agencies=apply_targets(version=version))
    if not form.is_valid():
        return _apply_result(request, officer, version, form=form)
    report = services.workflow_apply(
        actor=officer, source_id=version.pk, agencies=form.targets(), publish=form.cleaned_data["publish"]
    )
    if request.htmx:
        return _apply_result(request, officer, version, form=form, report=report)
    if report.published:
        messages.success(request, _("Published in %(agencies)s.") % {"agencies": ", ".join(report.published)})
    for agency, reasons in report.drafts.items():
        messages.warning(
            request,
            _("%(agency)s keeps a draft: %(reasons)s")
            % {"agency": agency, "reasons": " ".join(reasons) or _("to be published by its administrators.")},
        )
    return _to_version(version.pk)


def _apply_result(request, officer, version: Version, *, form: ApplyForm, report=None):  # type: ignore[no-untyped-def]
    status = 200 if form.is_valid() or request.htmx else 400
    if request.htmx:
        return render(
            request, "backoffice/designer/_apply.html", {"version": version, "apply_form": form, "report": report}
        )
    return render(
        request, "backoffice/designer/version.html", _context(officer, version, apply_form=form), status=status
    )


def _clone(request, officer, version: Version):  # type: ignore[no-untyped-def]
    """Start this agency's draft again from another agency's published version, bound to this agency's
    departments of the same kind."""
    sources = {v.pk: v for v in clone_sources(version=version)}
    source = sources.get(int_or_none(request.POST.get("source")))  # type: ignore[arg-type]
    if source is None:
        return _designer(request, officer, version, error=_("Choose a published workflow to copy."), status=400)
    agency = version.workflow.agency
    report = services.workflow_apply(actor=officer, source_id=source.pk, agencies=[agency], publish=False)
    draft = services.workflow_draft(actor=officer, procedure=version.workflow.procedure, agency=agency)
    messages.success(
        request, _("The steps of %(agency)s were copied into this draft.") % {"agency": source.workflow.agency.name}
    )
    for problems in report.drafts.values():
        for problem in problems:
            messages.warning(request, problem)
    url = reverse("backoffice:workflow-version", args=[draft.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
