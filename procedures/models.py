from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel, ValidityModel, ValidityQuerySet
from organizations.models import Agency, Counter


class Field(TimeStampedModel):
    """The sector a procedure belongs to (lĩnh vực)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProcedureQuerySet(models.QuerySet):
    def published(self):  # type: ignore[no-untyped-def]
        return self.filter(status=Procedure.Status.PUBLISHED)


class Procedure(TimeStampedModel):
    """An administrative procedure (thủ tục hành chính) of the national catalogue."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("province level")
        COMMUNE = "commune", _("commune level")

    class TimeUnit(models.TextChoices):
        DAYS = "days", _("working days")
        HOURS = "hours", _("working hours")

    class OnlineLevel(models.TextChoices):
        FULL = "full", _("fully online")
        PARTIAL = "partial", _("partly online")
        NONE = "none", _("not online")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("published")
        CLOSED = "closed", _("closed")

    code = models.CharField(_("national code"), max_length=30, unique=True)
    code_is_illustrative = models.BooleanField(
        _("illustrative code"), default=False, help_text=_("The code was not verified against the national catalogue.")
    )
    name = models.CharField(_("name"), max_length=500)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    field = models.ForeignKey(Field, verbose_name=_("field"), on_delete=models.PROTECT, related_name="procedures")
    processing_time = models.DecimalField(_("statutory processing time"), max_digits=6, decimal_places=1)
    time_unit = models.CharField(_("time unit"), max_length=5, choices=TimeUnit.choices, default=TimeUnit.DAYS)
    target_time = models.DecimalField(
        _("target processing time"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("A shorter time the province commits to, in the same unit."),
    )
    after_15h_rule = models.BooleanField(
        _("15:00 rule"), default=False, help_text=_("Dossiers received after 15:00 count from the next working day.")
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    steps = models.TextField(_("steps"), blank=True)
    result = models.TextField(_("result"), blank=True)
    applicants = models.CharField(_("applicants"), max_length=255, blank=True)
    online_level = models.CharField(_("online service level"), max_length=10, choices=OnlineLevel.choices)
    # The online form (eForm) as data: see procedures/eforms.py for the schema. Empty: no form beyond the
    # applicant's details.
    form_schema = models.JSONField(_("online form"), default=dict, blank=True)
    postal_allowed = models.BooleanField(_("postal service (BCCI) allowed"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    agencies = models.ManyToManyField(
        Agency, through="Competence", verbose_name=_("competent agencies"), related_name="procedures"
    )
    # Maintained by a database trigger (migration 0002) from the code, name and field, folded with
    # unaccent(lower()): every write path (admin, import, bulk) keeps it right.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["name"]
        indexes = [
            GinIndex(fields=["search_vector"], name="procedure_search_gin"),
            models.Index(fields=["status", "level"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processing_time__gt=0), name="procedure_processing_time_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(target_time__isnull=True) | models.Q(target_time__lte=models.F("processing_time")),
                name="procedure_target_not_above_statutory",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def legal_basis_lines(self) -> list[str]:
        return [line for line in self.legal_basis.splitlines() if line.strip()]

    @property
    def step_lines(self) -> list[str]:
        return [line for line in self.steps.splitlines() if line.strip()]


def component_template_path(instance: "Component", filename: str) -> str:
    return f"procedures/{instance.procedure.code}/templates/{filename}"


class Component(models.Model):
    """A document the dossier must contain (thành phần hồ sơ)."""

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="components"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=500)
    required = models.BooleanField(_("required"), default=True)
    originals = models.PositiveSmallIntegerField(_("originals"), default=1)
    copies = models.PositiveSmallIntegerField(_("copies"), default=0)
    form_name = models.CharField(_("form"), max_length=255, blank=True)
    template = models.FileField(_("form template"), upload_to=component_template_path, blank=True)

    class Meta:
        verbose_name = _("dossier component")
        verbose_name_plural = _("dossier components")
        ordering = ["procedure", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Fee(models.Model):
    """A fee or charge (phí, lệ phí) of a procedure, in đồng."""

    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(_("name"), max_length=255)
    amount = models.PositiveBigIntegerField(_("amount (VND)"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        ordering = ["procedure", "id"]

    def __str__(self) -> str:
        return self.name


class Competence(ValidityModel):
    """An agency competent to resolve a procedure, and the counters that may receive it."""

    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="competences"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="competences")
    department_kind = models.SlugField(
        _("handling department kind"),
        max_length=40,
        blank=True,
        help_text=_("Which department of the agency handles it."),
    )
    counters = models.ManyToManyField(
        Counter, verbose_name=_("receiving counters"), blank=True, related_name="competences"
    )

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("competence")
        verbose_name_plural = _("competences")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "agency"], name="competence_unique_procedure_agency")
        ]
        indexes = [models.Index(fields=["agency", "procedure"])]

    def __str__(self) -> str:
        return f"{self.agency} — {self.procedure.code}"


class CatalogueImportQuerySet(models.QuerySet):
    def unfinished(self):  # type: ignore[no-untyped-def]
        return self.filter(state__in=[CatalogueImport.State.QUEUED, CatalogueImport.State.RUNNING])


class CatalogueImport(TimeStampedModel):
    """One import of a national catalogue export (nhập danh mục thủ tục hành chính), run by a worker.

    The counters are written while it runs (``done`` of ``total``), so the admin can show its progress.
    """

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        XLSX = "xlsx", "XLSX"

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    file = models.FileField(_("export file"), upload_to="catalogue-imports/%Y/%m/")
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    close_missing = models.BooleanField(
        _("close missing procedures"),
        default=False,
        help_text=_("Close the published procedures that the export does not list."),
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.JSONField(
        _("errors"), default=list, blank=True, help_text=_("Pairs of row number and message; row 0 is the whole file.")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CatalogueImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("catalogue import")
        verbose_name_plural = _("catalogue imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file.name.rsplit('/', 1)[-1]} ({self.get_state_display()})"
