"""Writes on the organisation: the province and its communes, agencies, departments, counters, staff."""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from vietnam_provinces import Province, ProvinceCode, VietNamDivisionType, Ward

from core.errors import NotFound, ValidationFailed

from .models import AdministrativeUnit, Agency, Counter, Department, Role, Staff

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
