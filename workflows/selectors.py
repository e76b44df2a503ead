"""Reads on workflow definitions."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from organizations.models import Agency, Department, Role, Staff
from procedures.models import Competence

from .models import ChecklistItem, Step, Version, Workflow


def published_version(*, procedure_id: int, agency_id: int) -> Version | None:
    """The version new dossiers of this procedure in this agency start on (one query), or None."""
    return (
        Version.objects.filter(
            workflow__procedure_id=procedure_id, workflow__agency_id=agency_id, state=Version.State.PUBLISHED
        )
        .only("pk", "workflow_id", "number")
        .first()
    )


def steps_of(*, version_id: int) -> list[Step]:
    return list(Step.objects.filter(version_id=version_id).select_related("department", "agency").order_by("position"))


def _scope(actor: Staff) -> dict:  # type: ignore[type-arg]
    if actor.role == Role.PROVINCE_ADMIN:
        return {}
    if actor.role == Role.AGENCY_ADMIN:
        return {"agency_id": actor.agency_id}
    return {"pk__in": []}  # other roles configure nothing


def workflows_for_designer(*, actor: Staff) -> QuerySet[Workflow]:
    """The workflows an administrator may configure, with their published and draft versions' numbers."""
    published = Version.objects.filter(workflow=OuterRef("pk"), state=Version.State.PUBLISHED)
    draft = Version.objects.filter(workflow=OuterRef("pk"), state=Version.State.DRAFT)
    return (
        Workflow.objects.filter(**_scope(actor))
        .select_related("procedure", "agency")
        .annotate(
            has_published=Exists(published),
            has_draft=Exists(draft),
            published_id=Subquery(published.values("pk")[:1]),
            published_number=Subquery(published.values("number")[:1]),
            draft_id=Subquery(draft.values("pk")[:1]),
        )
        .order_by("agency__name", "procedure__name")
    )


def competences_without_workflow(*, actor: Staff) -> QuerySet[Competence]:
    """(agency, procedure) pairs that handle dossiers but have no published workflow yet ("cần cấu hình")."""
    published = Version.objects.filter(
        workflow__procedure_id=OuterRef("procedure_id"),
        workflow__agency_id=OuterRef("agency_id"),
        state=Version.State.PUBLISHED,
    )
    return (
        Competence.objects.valid_on(timezone.localdate())
        .filter(**_scope(actor), procedure__status="published")
        .exclude(Exists(published))
        .select_related("procedure", "agency")
        .order_by("agency__name", "procedure__name")
    )


def access_version_for_designer(*, actor: Staff, version_id: int) -> Version:
    version = (
        Version.objects.filter(pk=version_id, workflow__in=workflows_for_designer(actor=actor).values("pk"))
        .select_related("workflow__procedure", "workflow__agency", "published_by")
        .first()
    )
    if version is None:
        raise NotFound(_("No such workflow version."))
    return version


def access_step_for_designer(*, actor: Staff, step_id: int) -> tuple[Version, list[Step], Step]:
    """A step the administrator may configure, with its version and all the version's steps."""
    version_id = Step.objects.filter(pk=step_id).values_list("version_id", flat=True).first()
    if version_id is None:
        raise NotFound(_("No such step."))
    version = access_version_for_designer(actor=actor, version_id=version_id)
    steps = steps_of(version_id=version.pk)
    return version, steps, next(s for s in steps if s.pk == step_id)


def departments_of(*, agency_id: int) -> list[Department]:
    """The departments a step of this agency can be given (those valid today)."""
    return list(Department.objects.valid_on(timezone.localdate()).filter(agency_id=agency_id).order_by("name"))


def clone_sources(*, version: Version) -> list[Version]:
    """Published versions of the same procedure in other agencies, to start this draft from."""
    return list(
        Version.objects.filter(workflow__procedure_id=version.workflow.procedure_id, state=Version.State.PUBLISHED)
        .exclude(workflow__agency_id=version.workflow.agency_id)
        .select_related("workflow__agency")
        .order_by("workflow__agency__name")
    )


def apply_targets(*, version: Version) -> list[Agency]:
    """The agencies a version can be applied to: every valid agency but its own."""
    return list(
        Agency.objects.valid_on(timezone.localdate())
        .exclude(pk=version.workflow.agency_id)
        .only("pk", "name", "level")
        .order_by("level", "name")
    )


def checklist_for(*, actor: Staff, agency_id: int | None = None, open_only: bool = False) -> QuerySet[ChecklistItem]:
    """The reorganisation checklist items an administrator sees: their agency's (a province administrator: every
    agency's, or ``agency_id``'s), open ones first."""
    items = ChecklistItem.objects.filter(**_scope(actor))
    if agency_id is not None:
        items = items.filter(agency_id=agency_id)
    if open_only:
        items = items.filter(done_at__isnull=True)
    return items.select_related("procedure", "agency", "source_agency", "reorganisation", "version").order_by(
        F("done_at").asc(nulls_first=True), "agency__name", "procedure__name"
    )


def checklist_open_count(*, actor: Staff) -> int:
    """How many checklist items wait for the administrator (the banner on the back office's home page)."""
    if actor.role not in (Role.AGENCY_ADMIN, Role.PROVINCE_ADMIN):
        return 0
    return ChecklistItem.objects.filter(**_scope(actor), done_at__isnull=True).count()


def versions_using(*, agency_ids: set[int], department_ids: set[int]) -> set[int]:
    """The workflow versions with a step of one of these agencies or departments (one query): after a reorganisation,
    those its running dossiers cannot finish on as they are."""
    if not agency_ids and not department_ids:
        return set()
    return set(
        Step.objects.filter(Q(agency_id__in=agency_ids) | Q(department_id__in=department_ids))
        .values_list("version_id", flat=True)
        .distinct()
    )
