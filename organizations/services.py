"""Writes on the organisation: the province and its communes, agencies, departments, counters, staff."""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from vietnam_provinces import Province, ProvinceCode, VietNamDivisionType, Ward

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.identity import personal_id_errors, vietnamese_phone

from .models import AdministrativeUnit, Agency, Counter, Department, FocalOfficer, Role, Staff
from .sheets import Column, RowError, sheet_read

DATA_DIR = Path(__file__).resolve().parent / "data"
REFORM_DATE = dt.date(2025, 7, 1)

_WARD_KIND = {
    VietNamDivisionType.XA: AdministrativeUnit.Kind.COMMUNE,
    VietNamDivisionType.PHUONG: AdministrativeUnit.Kind.WARD,
    VietNamDivisionType.DAC_KHU: AdministrativeUnit.Kind.SPECIAL_ZONE,
}
_KIND_PREFIX = {
    AdministrativeUnit.Kind.COMMUNE: "xã",
    AdministrativeUnit.Kind.WARD: "phường",
    AdministrativeUnit.Kind.SPECIAL_ZONE: "đặc khu",
}


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, created: bool) -> None:
        self.created.setdefault(what, 0)
        if created:
            self.created[what] += 1


def agency_identifier(local: str) -> str:
    """'000.00.03' -> '000.00.03.H01' with the province group of the settings."""
    return f"{local}.{settings.PROVINCE_AGENCY_GROUP}"


@transaction.atomic
def province_load(*, report: LoadReport | None = None) -> AdministrativeUnit:
    """The province and its commune-level units, from the vietnam-provinces package (never typed by hand)."""
    report = report or LoadReport()
    code = ProvinceCode(settings.PROVINCE_CODE)
    source = Province.from_code(code)
    province, created = AdministrativeUnit.objects.update_or_create(
        code=int(source.code),
        defaults={
            "name": f"Tỉnh {source.name}",
            "kind": AdministrativeUnit.Kind.PROVINCE,
            "codename": source.codename,
            "valid_from": REFORM_DATE,
        },
    )
    report.add("province", created)
    for ward in Ward.iter_all():
        if ward.province_code != code:
            continue
        _unit, created = AdministrativeUnit.objects.update_or_create(
            code=int(ward.code),
            defaults={
                "name": ward.name,
                "kind": _WARD_KIND[ward.division_type],
                "parent": province,
                "codename": ward.codename,
                "valid_from": REFORM_DATE,
            },
        )
        report.add("communes", created)
    return province


def _departments_upsert(agency: Agency, rows: list[list[str]], *, valid_from: dt.date, report: LoadReport) -> None:
    for code, kind, name in rows:
        _dept, created = Department.objects.update_or_create(
            agency=agency, code=code, defaults={"kind": kind, "name": name, "valid_from": valid_from}
        )
        report.add("departments", created)


@transaction.atomic
def agencies_load(*, report: LoadReport | None = None) -> list[Agency]:
    """Provincial agencies, the service centre with one counter per department, and a UBND per commune."""
    report = report or LoadReport()
    data = json.loads((DATA_DIR / "agencies.json").read_text(encoding="utf-8"))
    valid_from = dt.date.fromisoformat(data["valid_from"])
    province = province_load(report=report)
    by_key: dict[str, Agency] = {}
    for row in data["province"]:
        agency, created = Agency.objects.update_or_create(
            key=row["key"],
            defaults={
                "identifier": agency_identifier(row["id"]),
                "name": row["name"],
                "short_name": row["short_name"],
                "level": Agency.Level.PROVINCE,
                "kind": row["kind"],
                "parent": by_key.get(row.get("parent", "")),
                "unit": province,
                "address": row.get("address", ""),
                "valid_from": valid_from,
            },
        )
        report.add("agencies", created)
        by_key[row["key"]] = agency
        _departments_upsert(agency, row["departments"], valid_from=valid_from, report=report)

    # The provincial service centre receives for every department: one counter each.
    centre = by_key["ttpvhcc"]
    for row in data["province"]:
        if row["kind"] == "department" or row["key"] == "ubnd_tinh":
            _counter, created = Counter.objects.update_or_create(
                agency=centre, code=row["key"], defaults={"name": f"Quầy {row['short_name']}"}
            )
            report.add("counters", created)

    groups = data["commune_identifier_groups"]
    communes = AdministrativeUnit.objects.filter(parent=province).order_by("code")
    for index, unit in enumerate(communes):
        group, number = groups[index // 99], index % 99 + 1
        agency, created = Agency.objects.update_or_create(
            key=f"ubnd_{unit.code}",
            defaults={
                "identifier": agency_identifier(f"000.{number:02d}.{group}"),
                "name": f"Ủy ban nhân dân {_KIND_PREFIX[unit.kind]} {unit.name[len(_KIND_PREFIX[unit.kind]) + 1 :]}",
                "short_name": f"UBND {unit.name}",
                "level": Agency.Level.COMMUNE,
                "kind": Agency.Kind.PEOPLES_COMMITTEE,
                "parent": by_key["ubnd_tinh"],
                "unit": unit,
                "valid_from": valid_from,
            },
        )
        report.add("agencies", created)
        rows = [
            [
                code,
                kind,
                data["ward_economy_department_name"] if (kind == "kinh_te" and unit.kind == "phuong") else name,
            ]
            for code, kind, name in data["commune_departments"]
        ]
        _departments_upsert(agency, rows, valid_from=valid_from, report=report)
        _counter, created = Counter.objects.update_or_create(
            agency=agency, code="tiep_nhan", defaults={"name": f"Bộ phận Một cửa {unit.name}"}
        )
        report.add("counters", created)
    return list(by_key.values())


# Model permissions each role's group carries in the admin. Object scope (own agency) is applied by the admin
# and by access_* selectors; these only open the doors.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.PROVINCE_ADMIN: [
        "organizations.*",
        "procedures.*",
        "core.*",
        "sync.*",
    ],
    Role.AGENCY_ADMIN: [
        "organizations.view_agency",
        "organizations.view_administrativeunit",
        "organizations.view_department",
        "organizations.add_department",
        "organizations.change_department",
        "organizations.view_counter",
        "organizations.view_staff",
        "procedures.view_field",
        "procedures.view_procedure",
        "procedures.view_component",
        "procedures.view_fee",
        "procedures.view_competence",
        "procedures.change_competence",
    ],
}
ADMIN_ROLES = {Role.PROVINCE_ADMIN, Role.AGENCY_ADMIN}


def _permissions(patterns: list[str]) -> list[Permission]:
    perms = []
    for pattern in patterns:
        app_label, codename = pattern.split(".")
        qs = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            qs = qs.filter(codename=codename)
        perms.extend(qs)
    return perms


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """One auth group per role, carrying that role's model permissions."""
    groups = {}
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set(_permissions(ROLE_PERMISSIONS.get(role, [])))
        groups[role.value] = group
    return groups


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    agency_identifier: str,
    role: str,
    department_code: str | None = None,
    counter_code: str | None = None,
    full_name: str = "",
    email: str = "",
    title: str = "",
    update: bool = False,
) -> Staff:
    """Create (or, with ``update``, re-point) a staff account linked to an agency, department and role."""
    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = _("Unknown role “%(role)s”. Choose one of: %(roles)s.") % {
            "role": role,
            "roles": ", ".join(Role.values),
        }
    agency = Agency.objects.filter(identifier=agency_identifier).first()
    if agency is None:
        raise NotFound(_("No agency has the identifier “%(identifier)s”.") % {"identifier": agency_identifier})
    department = None
    if department_code:
        department = Department.objects.filter(agency=agency, code=department_code).first()
        if department is None:
            errors["department"] = _("The agency has no department with the code “%(code)s”.") % {
                "code": department_code
            }
    counter = None
    if counter_code:
        counter = Counter.objects.filter(agency=agency, code=counter_code).first()
        if counter is None:
            errors["counter"] = _("The agency has no counter with the code “%(code)s”.") % {"code": counter_code}
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and not update:
        errors["username"] = _("The username “%(username)s” is taken.") % {"username": username}
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationFailed(_("The staff account was not created."), detail=errors)

    if user is None:
        user = User(username=username)
    first, _sep, last = full_name.rpartition(" ")
    user.first_name, user.last_name = (first, last) if first else ("", full_name)
    user.email = email
    user.is_staff = role in ADMIN_ROLES
    user.set_password(password)
    user.save()
    user.groups.set([roles_sync()[role]])
    staff, _created = Staff.objects.update_or_create(
        user=user,
        defaults={"agency": agency, "department": department, "counter": counter, "role": role, "title": title},
    )
    return staff


def demo_staff_load(*, password: str) -> list[Staff]:
    """The demo accounts of organizations/data/demo_staff.json; re-running updates them in place."""
    rows = json.loads((DATA_DIR / "demo_staff.json").read_text(encoding="utf-8"))
    identifiers = dict(Agency.objects.values_list("key", "identifier"))
    return [
        staff_create(
            username=row["username"],
            password=password,
            agency_identifier=identifiers[row["agency"]],
            role=row["role"],
            department_code=row.get("department"),
            counter_code=row.get("counter"),
            full_name=row["full_name"],
            title=row.get("title", ""),
            update=True,
        )
        for row in rows
    ]


# ---- Focal officers (cán bộ đầu mối) ---------------------------------------------------------------------------
# Each agency names the officers who administer its procedures on the system; the register grants each of them an
# agency-administrator account (docs/focal-officers.md). A record is ended, never deleted.

# The columns of the register's spreadsheet (organizations/data/focal_officers_sample.csv).
FOCAL_COLUMNS = (
    Column("full_name", "Họ và tên", ("Họ tên", "Họ và tên cán bộ", "Tên cán bộ")),
    Column("phone", "Số điện thoại", ("Điện thoại", "SĐT", "Số ĐT", "Điện thoại di động")),
    Column(
        "id_number",
        "Số định danh cá nhân",
        ("CCCD", "Số CCCD", "Số định danh", "Căn cước công dân", "Số căn cước công dân", "Số căn cước", "Căn cước"),
        digits=12,
    ),
    Column("email", "Email", ("E-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử")),
    Column("title", "Chức vụ", ("Chức danh",)),
    Column("agency", "Mã định danh cơ quan", ("Mã cơ quan", "Mã định danh", "Mã định danh điện tử cơ quan")),
)
FOCAL_REQUIRED = ("full_name", "phone", "id_number", "email")
_FOCAL_ORDER = {"agency": 0, "full_name": 1, "phone": 2, "id_number": 3, "email": 4, "title": 5}


@dataclass
class FocalImportReport:
    """What an import did: officers added and updated, or (nothing written) every problem of the sheet."""

    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def focal_may_administer(*, actor: Staff, agency: Agency) -> bool:
    """Province administrators keep every agency's register, an agency administrator their own agency's."""
    return actor.role == Role.PROVINCE_ADMIN or (actor.role == Role.AGENCY_ADMIN and actor.agency_id == agency.pk)


def _focal_permission(*, by: Staff, agency: Agency) -> None:
    if not focal_may_administer(actor=by, agency=agency):
        raise PermissionDenied(
            _("Only the province administrators and the agency's own administrators keep its focal officers.")
        )


def _max_length(model, name: str) -> int:  # type: ignore[no-untyped-def]
    return model._meta.get_field(name).max_length  # type: ignore[no-any-return]


def focal_officer_clean(
    *, full_name: str, phone: str, id_number: str, email: str, title: str = ""
) -> tuple[dict[str, str], dict[str, str]]:
    """The officer's details normalised, and a message per field that is wrong (none when all are right)."""
    values = {
        "full_name": " ".join(full_name.split()),
        "phone": phone.strip(),
        "id_number": "".join(id_number.split()),
        "email": email.strip(),
        "title": " ".join(title.split()),
    }
    errors: dict[str, str] = {}
    if not values["full_name"]:
        errors["full_name"] = _("Enter the officer's full name.")
    elif len(values["full_name"]) > _max_length(FocalOfficer, "full_name"):
        errors["full_name"] = _("The name is too long.")
    if not values["phone"]:
        errors["phone"] = _("Enter the officer's phone number.")
    else:
        values["phone"], problem = vietnamese_phone(values["phone"])
        if problem:
            errors["phone"] = problem
    if not values["id_number"]:
        errors["id_number"] = _("Enter the officer's personal identification number.")
    elif problems := personal_id_errors(values["id_number"]):
        errors["id_number"] = problems[0]
    if not values["email"]:
        errors["email"] = _("Enter the officer's email address.")
    else:
        try:
            validate_email(values["email"])
        except DjangoValidationError:
            errors["email"] = _("Enter a valid email address.")
        else:
            if len(values["email"]) > _max_length(get_user_model(), "username"):
                errors["email"] = _("The email address is too long to serve as a user name.")
    if len(values["title"]) > _max_length(FocalOfficer, "title"):
        errors["title"] = _("The job title is too long.")
    return values, errors


def _focal_group() -> Group:
    # roles_sync() runs on every deployment (seed); it is called here only when the group is missing.
    return Group.objects.filter(name=Role.AGENCY_ADMIN).first() or roles_sync()[Role.AGENCY_ADMIN]


def _focal_user_set(user, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    first, _sep, last = values["full_name"].rpartition(" ")
    user.first_name, user.last_name = (first, last) if first else ("", values["full_name"])
    user.email = values["email"]
    user.is_staff = True
    user.is_active = True


def _focal_refusal(*, staff: Staff | None, username: str, agency: Agency, id_number: str) -> str:
    """Why an existing account cannot be the officer's (empty: it can). Someone else's account is never re-pointed:
    not a staff account, another agency's, another role's, or the account of another current focal officer."""
    if staff is None:
        return _("The account “%(username)s” exists but is not a staff account; it is left as it is.") % {
            "username": username
        }
    if staff.agency_id != agency.pk:
        return _(
            "The account “%(username)s” belongs to %(agency)s; an account is never moved to another agency. "
            "Use another email address, or ask the province administrator."
        ) % {"username": username, "agency": staff.agency.name}
    if staff.role != Role.AGENCY_ADMIN:
        return _(
            "The account “%(username)s” has the role “%(role)s” in this agency; it is left as it is. "
            "Use another email address."
        ) % {"username": username, "role": staff.get_role_display()}
    holder = FocalOfficer.objects.filter(staff=staff, valid_until__isnull=True).exclude(id_number=id_number).first()
    if holder is not None:
        return _(
            "The account “%(username)s” is already the account of the focal officer %(name)s. "
            "Each officer needs an email address of their own."
        ) % {"username": username, "name": holder.full_name}
    return ""


def _focal_account(*, agency: Agency, values: dict[str, str], current: FocalOfficer | None) -> Staff:
    """The officer's agency-administrator account: the record's own, else the one the email address names, else a
    new one (user name: the email address in lower case; no usable password: docs/focal-officers.md)."""
    User = get_user_model()
    if current is not None and current.staff_id is not None:
        staff: Staff | None = Staff.objects.select_related("user", "agency").get(pk=current.staff_id)
        username = staff.user.get_username()  # type: ignore[union-attr]
    else:
        username = values["email"].lower()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            _focal_user_set(user, values)
            user.set_unusable_password()
            user.save()
            user.groups.set([_focal_group()])
            return Staff.objects.create(
                user=user, agency=agency, role=Role.AGENCY_ADMIN, title=values["title"], phone=values["phone"]
            )
        staff = Staff.objects.select_related("user", "agency").filter(user=user).first()
    if refusal := _focal_refusal(staff=staff, username=username, agency=agency, id_number=values["id_number"]):
        raise ValidationFailed(_("The focal officer was not registered."), detail={"email": refusal})
    assert staff is not None
    _focal_user_set(staff.user, values)
    staff.user.save()
    staff.user.groups.add(_focal_group())
    staff.title = values["title"] or staff.title
    staff.phone = values["phone"]
    staff.save(update_fields=["title", "phone", "updated_at"])
    return staff


def _focal_register(
    *, agency: Agency, full_name: str, phone: str, id_number: str, email: str, title: str, by: Staff
) -> tuple[FocalOfficer, bool]:
    _focal_permission(by=by, agency=agency)
    values, errors = focal_officer_clean(
        full_name=full_name, phone=phone, id_number=id_number, email=email, title=title
    )
    today = timezone.localdate()
    if agency.valid_until is not None and agency.valid_until <= today:
        errors["agency"] = _("%(agency)s no longer exists; register the officer with the agency that succeeded it.") % {
            "agency": agency.name
        }
    if errors:
        raise ValidationFailed(_("The focal officer was not registered."), detail=errors)
    current = (
        FocalOfficer.objects.select_for_update()
        .filter(agency=agency, id_number=values["id_number"], valid_until__isnull=True)
        .first()
    )
    try:
        staff = _focal_account(agency=agency, values=values, current=current)
        if current is None:
            officer = FocalOfficer.objects.create(
                agency=agency,
                full_name=values["full_name"],
                phone=values["phone"],
                id_number=values["id_number"],
                email=values["email"],
                title=values["title"],
                staff=staff,
                valid_from=today,
            )
            return officer, True
        for name in ("full_name", "phone", "email", "title"):
            setattr(current, name, values[name])
        current.staff = staff
        current.save()
        return current, False
    except IntegrityError as exc:  # the same officer or user name registered at the same moment elsewhere
        raise Conflict(_("Someone registered the same officer at the same moment. Try again.")) from exc


@transaction.atomic
def focal_officer_register(
    *, agency: Agency, full_name: str, phone: str, id_number: str, email: str, title: str = "", by: Staff
) -> FocalOfficer:
    """Register a focal officer of an agency, or update the current record of the same ID number, and grant them
    the agency-administrator account (created if need be, re-activated if it was revoked)."""
    officer, _created = _focal_register(
        agency=agency, full_name=full_name, phone=phone, id_number=id_number, email=email, title=title, by=by
    )
    return officer


@transaction.atomic
def focal_officer_end(*, officer: FocalOfficer, by: Staff, on: dt.date | None = None) -> None:
    """End a focal officer's record (valid until ``on``, today by default) and revoke their account, unless it is
    also the account of another current record."""
    officer = (
        FocalOfficer.objects.select_for_update(of=("self",)).select_related("agency", "staff__user").get(pk=officer.pk)
    )
    _focal_permission(by=by, agency=officer.agency)
    if officer.valid_until is not None:
        raise Conflict(_("This focal officer's record has already ended."))
    if officer.staff_id is not None and officer.staff_id == by.pk:
        raise PermissionDenied(_("You cannot end your own record: ask the province administrator."))
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ValidationFailed(
            _("The record was not ended."), detail={"on": _("The end date cannot be in the future.")}
        )
    if on < officer.valid_from:
        raise ValidationFailed(
            _("The record was not ended."),
            detail={
                "on": _("The end date is before the record began (%(date)s).")
                % {"date": f"{officer.valid_from:%d/%m/%Y}"}
            },
        )
    officer.valid_until = on
    officer.save(update_fields=["valid_until", "updated_at"])
    staff = officer.staff
    if staff is not None and not FocalOfficer.objects.filter(staff=staff, valid_until__isnull=True).exists():
        # Deactivated, not deleted: the account's history (dossiers, designs) stays, and its sessions stop working.
        staff.user.is_active = False
        staff.user.save(update_fields=["is_active"])


class _RollBack(Exception):
    pass


def _focal_row_agency(
    *, cells: dict[str, str], agency: Agency | None, agencies: dict[str, Agency]
) -> tuple[Agency | None, str]:
    code = cells.get("agency", "").upper()
    if agency is not None:
        if code and code != agency.identifier:
            return None, _("This row is for the agency %(code)s; the sheet is being imported for %(agency)s.") % {
                "code": code,
                "agency": agency.identifier,
            }
        return agency, ""
    if not code:
        return None, _("Enter the agency's electronic identifier.")
    if code not in agencies:
        return None, _("No agency has the identifier “%(identifier)s”.") % {"identifier": code}
    return agencies[code], ""


@transaction.atomic
def focal_officers_import(*, agency: Agency | None, file: IO[bytes], file_name: str, by: Staff) -> FocalImportReport:
    """Register the focal officers of a spreadsheet (FOCAL_COLUMNS), all or nothing: when any row is wrong nothing is
    written and the report lists every problem (row, column, message). Without ``agency`` each row names its agency
    by its electronic identifier (province administrators only)."""
    if agency is None:
        if by.role != Role.PROVINCE_ADMIN:
            raise PermissionDenied(_("Only province administrators import a sheet of several agencies."))
    else:
        _focal_permission(by=by, agency=agency)
    sheet = sheet_read(file=file, file_name=file_name, columns=FOCAL_COLUMNS)
    report = FocalImportReport()
    labels = {column.key: sheet.labels.get(column.key, column.label) for column in FOCAL_COLUMNS}
    required = FOCAL_REQUIRED if agency is not None else (*FOCAL_REQUIRED, "agency")
    missing = [key for key in required if key not in sheet.labels]
    if missing:
        report.errors = [
            RowError(sheet.header_row, labels[key], _("The header row has no such column.")) for key in missing
        ]
        return report
    if not sheet.rows:
        report.errors = [RowError(sheet.header_row, "", _("The sheet has no officer below its header row."))]
        return report
    agencies = {
        a.identifier: a
        for a in Agency.objects.filter(identifier__in={c.get("agency", "").upper() for _n, c in sheet.rows})
    }
    seen: dict[tuple[int, str], int] = {}
    try:
        with transaction.atomic():
            for number, cells in sheet.rows:
                problems: dict[str, str] = {}
                target, problem = _focal_row_agency(cells=cells, agency=agency, agencies=agencies)
                if problem:
                    problems["agency"] = problem
                fields = {key: cells.get(key, "") for key in ("full_name", "phone", "id_number", "email", "title")}
                values, errors = focal_officer_clean(**fields)
                problems.update(errors)
                if target is not None and "id_number" not in problems:
                    first = seen.setdefault((target.pk, values["id_number"]), number)
                    if first != number:
                        problems["id_number"] = _("The same officer is already on row %(row)d.") % {"row": first}
                if not problems and target is not None:
                    try:
                        with transaction.atomic():
                            _officer, created = _focal_register(agency=target, by=by, **fields)
                    except (ValidationFailed, Conflict) as exc:
                        problems = exc.detail if isinstance(exc.detail, dict) else {"": exc.message}
                    else:
                        if created:
                            report.created += 1
                        else:
                            report.updated += 1
                report.errors.extend(
                    RowError(number, labels.get(key, ""), message)
                    for key, message in sorted(problems.items(), key=lambda item: _FOCAL_ORDER.get(item[0], -1))
                )
            if report.errors:
                raise _RollBack
    except _RollBack:
        report.created = report.updated = 0
    return report
