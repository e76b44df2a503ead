from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel, ValidityModel, ValidityQuerySet

# DOMAIN.md: dot-separated groups of digits and A–Z, at most 35 characters.
agency_identifier_validator = RegexValidator(
    r"^[0-9A-Z]+(\.[0-9A-Z]+)*$",
    _("An electronic identifier is groups of digits and capital letters separated by dots."),
)


class AdministrativeUnit(ValidityModel):
    """A province or commune-level unit (đơn vị hành chính) with its national statistics code."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("province")
        COMMUNE = "xa", _("commune")
        WARD = "phuong", _("ward")
        SPECIAL_ZONE = "dac_khu", _("special zone")

    code = models.PositiveIntegerField(_("statistics code"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    codename = models.SlugField(_("code name"), max_length=80, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_working_hours() -> list[list[str]]:
    return [["07:00", "11:30"], ["13:00", "17:00"]]


class Agency(ValidityModel, TimeStampedModel):
    """A body that receives or resolves procedures (cơ quan có thẩm quyền)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        COMMUNE = "commune", _("commune")

    class Kind(models.TextChoices):
        PEOPLES_COMMITTEE = "ubnd", _("People's Committee")
        OFFICE = "office", _("office of the People's Committee")
        DEPARTMENT = "department", _("provincial department")
        SERVICE_CENTRE = "service_centre", _("public-administration service centre")
        OTHER = "other", _("other body")

    identifier = models.CharField(
        _("electronic identifier"), max_length=35, unique=True, validators=[agency_identifier_validator]
    )
    key = models.SlugField(_("key"), max_length=40, unique=True, help_text=_("Stable short name used in data files."))
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("administrative unit"),
        on_delete=models.PROTECT,
        related_name="agencies",
        help_text=_("The province, or the commune a commune-level agency serves."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    working_hours = models.JSONField(
        _("working hours"),
        default=default_working_hours,
        help_text=_('Periods of a working day, e.g. [["07:00", "11:30"], ["13:00", "17:00"]].'),
    )

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["level", "name"]
        indexes = [models.Index(fields=["level", "unit"])]

    def __str__(self) -> str:
        return self.name


class Department(ValidityModel, TimeStampedModel):
    """A unit inside an agency that handles steps of a procedure (phòng, ban chuyên môn)."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="departments")
    code = models.SlugField(_("code"), max_length=40)
    kind = models.SlugField(
        _("kind"),
        max_length=40,
        help_text=_("The same kind in different agencies (e.g. every commune's culture and society division)."),
    )
    name = models.CharField(_("name"), max_length=255)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["agency", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="department_unique_code_per_agency")]

    def __str__(self) -> str:
        return f"{self.name} — {self.agency.short_name or self.agency.name}"


class Counter(TimeStampedModel):
    """A one-stop reception counter (quầy tiếp nhận) hosted by an agency."""

    agency = models.ForeignKey(Agency, verbose_name=_("host agency"), on_delete=models.PROTECT, related_name="counters")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when a reorganisation closes the counter: the counter that took over its open dossiers (kept flat: it
    # always names a counter still open, or the last one).
    successor = models.ForeignKey(
        "self", verbose_name=_("taken over by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("reception counter")
        verbose_name_plural = _("reception counters")
        ordering = ["agency", "code"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="counter_unique_code_per_agency")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ONE_STOP_OFFICER = "one_stop_officer", _("one-stop officer")
    SPECIALIST = "specialist", _("specialist")
    DEPARTMENT_HEAD = "department_head", _("department head")
    AGENCY_LEADER = "agency_leader", _("agency leader")
    AGENCY_ADMIN = "agency_admin", _("agency administrator")
    PROVINCE_ADMIN = "province_admin", _("province administrator")


class Staff(TimeStampedModel):
    """A staff account's place in the organisation (cán bộ, công chức)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="staff")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    counter = models.ForeignKey(
        Counter, verbose_name=_("counter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["agency", "user__username"]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.get_role_display()})"


class FocalOfficer(ValidityModel, TimeStampedModel):
    """An officer an agency named to administer its procedures on the system (cán bộ đầu mối), with the
    agency-administrator account the register grants them. Ended, not deleted, when the agency names another."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="focal_officers"
    )
    full_name = models.CharField(_("full name"), max_length=255)
    phone = models.CharField(_("phone"), max_length=20)
    id_number = models.CharField(_("personal identification number"), max_length=12)
    email = models.EmailField(_("email"))
    title = models.CharField(_("job title"), max_length=120, blank=True)
    staff = models.ForeignKey(
        Staff,
        verbose_name=_("administrator account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="focal_records",
    )

    objects = ValidityQuerySet.as_manager()

    class Meta:
        verbose_name = _("focal officer")
        verbose_name_plural = _("focal officers")
        ordering = ["agency", "full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "id_number"],
                condition=models.Q(valid_until__isnull=True),
                name="focal_officer_unique_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name} — {self.agency}"


# Reorganisations (docs/reorganisation.md) --------------------------------------------------------------------------


class Reorganisation(TimeStampedModel):
    """A decision that changes agencies (sắp xếp tổ chức bộ máy), recorded as data with its effective date and
    applied on that date: agencies end and begin, departments move, procedures and open dossiers pass to the
    successors. Nothing is deleted: an ended agency keeps its name, identifier and history."""

    class Kind(models.TextChoices):
        MERGE_NEW = "merge_new", _("merge agencies into a new agency")
        MERGE_INTO = "merge_into", _("merge agencies into an existing agency that keeps its name")
        RENAME = "rename", _("rename an agency")
        SPLIT = "split", _("split an agency")
        DISSOLVE = "dissolve", _("dissolve an agency")
        MOVE_DEPARTMENT = "move_department", _("move a department to another agency")

    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        APPLIED = "applied", _("applied")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    effective_date = models.DateField(_("effective date"))
    decision = models.CharField(
        _("decision"), max_length=255, help_text=_("Number, date and issuer of the decision, as printed.")
    )
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)
    # Rename: the agency's new name and identifier (empty: unchanged).
    new_name = models.CharField(_("new name"), max_length=255, blank=True)
    new_short_name = models.CharField(_("new short name"), max_length=80, blank=True)
    new_identifier = models.CharField(
        _("new electronic identifier"), max_length=35, blank=True, validators=[agency_identifier_validator]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("reorganisation")
        verbose_name_plural = _("reorganisations")
        ordering = ["-effective_date", "-id"]
        indexes = [models.Index(fields=["state", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.effective_date:%d/%m/%Y})"


class Succession(models.Model):
    """What one agency hands to another in a reorganisation. A procedure goes to the successor that names its code,
    else to the one that receives its handling department, else to the main successor. No successor (dissolution
    without one): the agency's procedures end with it."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="successions"
    )
    predecessor = models.ForeignKey(
        Agency, verbose_name=_("predecessor"), on_delete=models.PROTECT, related_name="successions_out"
    )
    successor = models.ForeignKey(
        Agency, verbose_name=_("successor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="successions_in",
    )  # fmt: skip
    main = models.BooleanField(_("main successor"), default=True, help_text=_("Takes whatever no other one takes."))
    department_codes = ArrayField(
        models.SlugField(max_length=40), verbose_name=_("departments taken"), default=list, blank=True
    )
    procedure_codes = ArrayField(
        models.CharField(max_length=30), verbose_name=_("procedures taken"), default=list, blank=True
    )

    class Meta:
        verbose_name = _("succession")
        verbose_name_plural = _("successions")

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor or '—'}"


class DepartmentSuccession(models.Model):
    """A department that ended or moved in a reorganisation, and the department that carries its work on."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE,
        related_name="department_successions",
    )  # fmt: skip
    predecessor = models.ForeignKey(
        Department, verbose_name=_("predecessor"), on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(Department, verbose_name=_("successor"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("department succession")
        verbose_name_plural = _("department successions")
        constraints = [
            models.UniqueConstraint(fields=["reorganisation", "predecessor"], name="department_succession_unique")
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class AgencyName(models.Model):
    """A name (and identifier) an agency had until a rename: receipts and statistics of that time print it, and
    lookups by the old identifier still find the agency."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="past_names")
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    identifier = models.CharField(_("electronic identifier"), max_length=35, db_index=True)
    valid_until = models.DateField(_("valid until"))
    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("former name")
        verbose_name_plural = _("former names")
        ordering = ["agency", "valid_until"]

    def __str__(self) -> str:
        return f"{self.name} (→ {self.valid_until:%d/%m/%Y})"
