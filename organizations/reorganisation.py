"""Writes of reorganisations on the organisation itself: recording a decision, and on its effective date ending and
beginning agencies, moving departments and staff. Procedures, workflows and dossiers follow in their own layers;
``dossiers.reorganisation.reorganisation_apply`` runs them all in one transaction (docs/reorganisation.md)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationFailed

from .models import (
    AdministrativeUnit,
    Agency,
    AgencyName,
    Department,
    DepartmentSuccession,
    FocalOfficer,
    Reorganisation,
    Staff,
    Succession,
    agency_identifier_validator,
)

Kind = Reorganisation.Kind


@dataclass
class NewAgency:
    """The agency a merger creates."""

    key: str
    identifier: str
    name: str
    short_name: str
    level: str
    kind: str
    unit: AdministrativeUnit
    parent: Agency | None = None
    address: str = ""


@dataclass
class Part:
    """One successor of a split: an existing agency (or one beginning on the date), the predecessor's departments it
    takes and the procedures (national codes) it takes explicitly. The first part is the main successor."""

    successor: Agency
    department_codes: list[str] = field(default_factory=list)
    procedure_codes: list[str] = field(default_factory=list)


def _alive_on(agency: Agency, day: dt.date) -> bool:
    return agency.valid_from <= day and (agency.valid_until is None or agency.valid_until > day)


def _check_sources(sources: list[Agency], day: dt.date, errors: dict[str, str]) -> None:
    if not sources:
        errors["sources"] = _("Choose the agencies concerned.")
        return
    for agency in sources:
        if not (agency.valid_until is None or agency.valid_until > day) or agency.valid_from >= day:
            errors["sources"] = _("%(agency)s does not exist on the effective date.") % {"agency": agency.name}
    pending = (
        Succession.objects.filter(reorganisation__state=Reorganisation.State.PLANNED, predecessor__in=sources)
        .select_related("predecessor")
        .first()
    )
    if pending is not None:
        raise Conflict(
            _("%(agency)s already has a planned reorganisation: apply or delete it first.")
            % {"agency": pending.predecessor.name}
        )


def _new(kind: str, *, day: dt.date, decision: str, note: str, by_user, **values) -> Reorganisation:  # type: ignore[no-untyped-def]
    return Reorganisation.objects.create(
        kind=kind, effective_date=day, decision=decision.strip(), note=note.strip(), created_by=by_user, **values
    )


def _decision_error(decision: str, errors: dict[str, str]) -> None:
    if not decision.strip():
        errors["decision"] = _("Enter the number and date of the decision.")


@transaction.atomic
def merge_record(
    *,
    sources: list[Agency],
    effective_date: dt.date,
    decision: str,
    by_user=None,  # type: ignore[no-untyped-def]
    target: Agency | None = None,
    new: NewAgency | None = None,
    note: str = "",
) -> Reorganisation:
    """Record a merger: ``sources`` into ``target`` (an existing agency keeping its name) or into ``new`` (an agency
    created now, beginning on the effective date). Nothing changes before that date."""
    errors: dict[str, str] = {}
    _decision_error(decision, errors)
    if (target is None) == (new is None):
        errors["target"] = _("Choose the agency that continues, or describe the new agency.")
    if target is not None and target in sources:
        errors["target"] = _("The agency that continues is not one of those merged into it.")
    if target is not None and not (target.valid_until is None or target.valid_until > effective_date):
        errors["target"] = _("%(agency)s does not exist on the effective date.") % {"agency": target.name}
    if new is not None:
        if not new.name.strip():
            errors["name"] = _("Enter the new agency's name.")
        try:
            agency_identifier_validator(new.identifier)
        except Exception:  # noqa: BLE001 - Django's ValidationError; the message is ours
            errors["identifier"] = _(
                "An electronic identifier is groups of digits and capital letters separated by dots."
            )
        if (
            Agency.objects.filter(identifier=new.identifier).exists()
            or AgencyName.objects.filter(identifier=new.identifier).exists()
        ):
            errors["identifier"] = _("The identifier “%(identifier)s” is taken.") % {"identifier": new.identifier}
        if not new.key or Agency.objects.filter(key=new.key).exists():
            errors["key"] = _("Choose a short key no other agency has.")
    _check_sources(sources, effective_date, errors)
    if errors:
        raise ValidationFailed(_("The merger was not recorded: please correct the marked fields."), detail=errors)
    if new is not None:
        target = Agency.objects.create(
            key=new.key,
            identifier=new.identifier,
            name=new.name.strip(),
            short_name=new.short_name.strip(),
            level=new.level,
            kind=new.kind,
            unit=new.unit,
            parent=new.parent,
            address=new.address,
            valid_from=effective_date,
        )
    assert target is not None
    reorganisation = _new(
        Kind.MERGE_NEW if new is not None else Kind.MERGE_INTO,
        day=effective_date,
        decision=decision,
        note=note,
        by_user=by_user,
    )
    Succession.objects.bulk_create(
        [Succession(reorganisation=reorganisation, predecessor=s, successor=target, main=True) for s in sources]
    )
    return reorganisation


@transaction.atomic
def rename_record(
    *,
    agency: Agency,
    effective_date: dt.date,
    decision: str,
    new_name: str,
    new_short_name: str = "",
    new_identifier: str = "",
    by_user=None,  # type: ignore[no-untyped-def]
    note: str = "",
) -> Reorganisation:
    errors: dict[str, str] = {}
    _decision_error(decision, errors)
    if not new_name.strip():
        errors["new_name"] = _("Enter the new name.")
    if new_identifier:
        try:
            agency_identifier_validator(new_identifier)
        except Exception:  # noqa: BLE001
            errors["new_identifier"] = _(
                "An electronic identifier is groups of digits and capital letters separated by dots."
            )
        if Agency.objects.filter(identifier=new_identifier).exclude(pk=agency.pk).exists():
            errors["new_identifier"] = _("The identifier “%(identifier)s” is taken.") % {"identifier": new_identifier}
    _check_sources([agency], effective_date, errors)
    if errors:
        raise ValidationFailed(_("The new name was not recorded: please correct the marked fields."), detail=errors)
    reorganisation = _new(
        Kind.RENAME,
        day=effective_date,
        decision=decision,
        note=note,
        by_user=by_user,
        new_name=new_name.strip(),
        new_short_name=new_short_name.strip(),
        new_identifier=new_identifier,
    )
    Succession.objects.create(reorganisation=reorganisation, predecessor=agency, successor=agency, main=True)
    return reorganisation


@transaction.atomic
def split_record(
    *,
    source: Agency,
    parts: list[Part],
    effective_date: dt.date,
    decision: str,
    by_user=None,  # type: ignore[no-untyped-def]
    note: str = "",
) -> Reorganisation:
    """Record a split: ``source`` ends, its departments and procedures go to ``parts`` (the first one takes what the
    others don't name)."""
    errors: dict[str, str] = {}
    _decision_error(decision, errors)
    if len(parts) < 2:
        errors["parts"] = _("A split names at least two successor agencies.")
    if any(p.successor.pk == source.pk for p in parts):
        errors["parts"] = _("The agency that is split cannot succeed itself.")
    codes = set(source.departments.values_list("code", flat=True))
    for part in parts:
        if unknown := set(part.department_codes) - codes:
            errors["parts"] = _("%(agency)s has no department with the code “%(code)s”.") % {
                "agency": source.name,
                "code": sorted(unknown)[0],
            }
    _check_sources([source], effective_date, errors)
    if errors:
        raise ValidationFailed(_("The split was not recorded: please correct the marked fields."), detail=errors)
    reorganisation = _new(Kind.SPLIT, day=effective_date, decision=decision, note=note, by_user=by_user)
    Succession.objects.bulk_create(
        [
            Succession(
                reorganisation=reorganisation,
                predecessor=source,
                successor=part.successor,
                main=index == 0,
                department_codes=part.department_codes,
                procedure_codes=part.procedure_codes,
            )
            for index, part in enumerate(parts)
        ]
    )
    return reorganisation


@transaction.atomic
def dissolve_record(
    *,
    agency: Agency,
    effective_date: dt.date,
    decision: str,
    successor: Agency | None = None,
    by_user=None,  # type: ignore[no-untyped-def]
    note: str = "",
) -> Reorganisation:
    """Record a dissolution; ``successor`` takes its procedures and open dossiers (without one, its procedures end,
    and the dissolution is refused on the day if dossiers are still open)."""
    errors: dict[str, str] = {}
    _decision_error(decision, errors)
    if successor is not None and successor.pk == agency.pk:
        errors["successor"] = _("The agency that is dissolved cannot succeed itself.")
    _check_sources([agency], effective_date, errors)
    if errors:
        raise ValidationFailed(_("The dissolution was not recorded: please correct the marked fields."), detail=errors)
    reorganisation = _new(Kind.DISSOLVE, day=effective_date, decision=decision, note=note, by_user=by_user)
    Succession.objects.create(reorganisation=reorganisation, predecessor=agency, successor=successor, main=True)
    return reorganisation


@transaction.atomic
def department_move_record(
    *,
    department: Department,
    to: Agency,
    effective_date: dt.date,
    decision: str,
    by_user=None,  # type: ignore[no-untyped-def]
    note: str = "",
) -> Reorganisation:
    """Record a department moving to another agency, with the procedures it handles (when its agency keeps no other
    department of the same kind)."""
    errors: dict[str, str] = {}
    _decision_error(decision, errors)
    if to.pk == department.agency_id:
        errors["to"] = _("The department already belongs to this agency.")
    if not (department.valid_until is None or department.valid_until > effective_date):
        errors["department"] = _("The department does not exist on the effective date.")
    _check_sources([department.agency], effective_date, errors)
    if errors:
        raise ValidationFailed(_("The move was not recorded: please correct the marked fields."), detail=errors)
    reorganisation = _new(Kind.MOVE_DEPARTMENT, day=effective_date, decision=decision, note=note, by_user=by_user)
    Succession.objects.create(
        reorganisation=reorganisation,
        predecessor=department.agency,
        successor=to,
        main=False,
        department_codes=[department.code],
    )
    return reorganisation


# Applying -----------------------------------------------------------------------------------------------------


@dataclass
class Change:
    """What the organisation's part of a reorganisation did, for the layers above."""

    reorganisation: Reorganisation
    ended: set[int] = field(default_factory=set)  # agencies that ended
    begun: set[int] = field(default_factory=set)  # agencies that begin on the date (new: every procedure configured)
    main: dict[int, int] = field(default_factory=dict)  # ended agency → main successor
    departments: dict[int, int] = field(default_factory=dict)  # ended/moved department → successor department
    kinds: dict[tuple[int, str], int] = field(default_factory=dict)  # (predecessor, department kind) → successor
    successions: list[Succession] = field(default_factory=list)
    staff_moved: int = 0

    def agency_after(self, agency_id: int) -> int:
        return self.main.get(agency_id, agency_id)


def _free_code(agency: Agency, code: str) -> str:
    taken = set(Department.objects.filter(agency=agency).values_list("code", flat=True))
    candidate, n = code, 2
    while candidate in taken:
        candidate, n = f"{code}-{n}"[:40], n + 1
    return candidate


def agencies_apply(*, reorganisation: Reorganisation) -> Change:
    """The organisation's part, inside the caller's transaction: names, agencies' validity, departments."""
    day = reorganisation.effective_date
    change = Change(reorganisation=reorganisation)
    successions = list(reorganisation.successions.select_related("predecessor", "successor"))
    change.successions = successions

    if reorganisation.kind == Kind.RENAME:
        agency = Agency.objects.select_for_update().get(pk=successions[0].predecessor_id)
        AgencyName.objects.create(
            agency=agency,
            name=agency.name,
            short_name=agency.short_name,
            identifier=agency.identifier,
            valid_until=day,
            reorganisation=reorganisation,
        )
        agency.name = reorganisation.new_name
        agency.short_name = reorganisation.new_short_name or agency.short_name
        agency.identifier = reorganisation.new_identifier or agency.identifier
        agency.save(update_fields=["name", "short_name", "identifier", "updated_at"])
        return change

    ends = reorganisation.kind != Kind.MOVE_DEPARTMENT
    by_predecessor: dict[int, list[Succession]] = defaultdict(list)
    for succession in successions:
        by_predecessor[succession.predecessor_id].append(succession)
        if succession.successor_id and succession.successor.valid_from == day:
            change.begun.add(succession.successor_id)
    # Departments a successor already has (or receives in this reorganisation), by kind: merged departments of the
    # same kind become one.
    kinds_of: dict[int, dict[str, Department]] = {}

    def department_of(agency: Agency, template: Department) -> Department:
        if not ends:
            # A department that moves keeps its identity in its new agency, beside any of the same kind there.
            return Department.objects.create(
                agency=agency, code=_free_code(agency, template.code), kind=template.kind, name=template.name,
                valid_from=day,
            )  # fmt: skip
        if agency.pk not in kinds_of:
            kinds_of[agency.pk] = {
                d.kind: d for d in Department.objects.filter(agency=agency).filter(_valid_after(day))
            }
        found = kinds_of[agency.pk].get(template.kind)
        if found is None:
            found = Department.objects.create(
                agency=agency,
                code=_free_code(agency, template.code),
                kind=template.kind,
                name=template.name,
                valid_from=day,
            )
            kinds_of[agency.pk][template.kind] = found
        return found

    for predecessor_id, group in by_predecessor.items():
        predecessor = Agency.objects.select_for_update().get(pk=predecessor_id)
        main = next((s for s in group if s.main and s.successor_id), None)
        departments = list(Department.objects.select_for_update().filter(agency=predecessor).filter(_valid_after(day)))
        taken_by: dict[str, int] = {}  # department kind → the successor that took it
        for department in departments:
            taker = next((s for s in group if department.code in s.department_codes), None)
            if taker is None and ends:
                taker = main
            if taker is None or taker.successor is None:
                if ends:
                    department.valid_until = day
                    department.save(update_fields=["valid_until", "updated_at"])
                continue
            successor_department = department_of(taker.successor, department)
            department.valid_until = day
            department.save(update_fields=["valid_until", "updated_at"])
            DepartmentSuccession.objects.create(
                reorganisation=reorganisation, predecessor=department, successor=successor_department
            )
            change.departments[department.pk] = successor_department.pk
            taken_by[department.kind] = taker.successor_id  # type: ignore[assignment]
        # Procedures follow a department kind only when the predecessor keeps no department of that kind.
        remaining = (
            set()
            if ends
            else set(
                Department.objects.filter(agency=predecessor).filter(_valid_after(day)).values_list("kind", flat=True)
            )
        )
        for kind, successor_id in taken_by.items():
            if kind not in remaining:
                change.kinds[(predecessor.pk, kind)] = successor_id
        if ends:
            predecessor.valid_until = day
            predecessor.save(update_fields=["valid_until", "updated_at"])
            change.ended.add(predecessor.pk)
            if main is not None:
                change.main[predecessor.pk] = main.successor_id  # type: ignore[assignment]
    return change


def _valid_after(day: dt.date) -> Q:
    """Rows still valid on ``day`` (or beginning later), i.e. not ended by then."""
    return Q(valid_until__isnull=True) | Q(valid_until__gt=day)


def staff_succeed(*, change: Change, counters: dict[int, int]) -> int:
    """Staff of an ended agency work for its main successor, staff of a moved department for the department's new
    agency; their department and counter follow the maps. Returns how many moved."""
    moved = 0
    departments = dict(Department.objects.filter(pk__in=change.departments.values()).values_list("pk", "agency_id"))
    # Officers of another agency at a closed counter (the provincial service centre's counter of an ended department)
    # staff its successor counter: they keep their agency and department.
    scope = Q(agency_id__in=change.ended) | Q(department_id__in=change.departments) | Q(counter_id__in=counters)
    for staff in Staff.objects.select_for_update().filter(scope):
        if staff.department_id in change.departments:
            staff.department_id = change.departments[staff.department_id]
            staff.agency_id = departments[staff.department_id]
        elif staff.agency_id in change.main:
            staff.agency_id = change.main[staff.agency_id]
            staff.department_id = None
        elif staff.agency_id in change.ended or staff.counter_id not in counters:
            continue  # an ended agency without successor: the account stays, attached to its history
        if staff.counter_id in counters:
            staff.counter_id = counters[staff.counter_id]
        staff.save(update_fields=["agency", "department", "counter", "updated_at"])
        moved += 1
    change.staff_moved = moved
    return moved


def focal_officers_succeed(*, change: Change) -> int:
    """The focal officers of an ended agency become its main successor's (their accounts moved with the staff) until
    the successor names its own; without a successor their records end. Returns how many were carried over."""
    day = change.reorganisation.effective_date
    carried = 0
    for officer in FocalOfficer.objects.select_for_update().filter(
        agency_id__in=change.ended, valid_until__isnull=True
    ):
        officer.valid_until = day
        officer.save(update_fields=["valid_until", "updated_at"])
        successor = change.main.get(officer.agency_id)
        if successor is None:
            continue
        _record, created = FocalOfficer.objects.get_or_create(
            agency_id=successor,
            id_number=officer.id_number,
            valid_until=None,
            defaults={
                "full_name": officer.full_name, "phone": officer.phone, "email": officer.email,
                "title": officer.title, "staff": officer.staff, "valid_from": day,
            },
        )  # fmt: skip
        carried += created
    return carried


# Deleting a planned reorganisation ----------------------------------------------------------------------------


def _in_use(agency: Agency) -> bool:
    """Whether any row anywhere points to the agency (every reverse relation, hidden ones included)."""
    for relation in Agency._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: agency}).exists():  # type: ignore[union-attr]
            return True
    return False


@transaction.atomic
def reorganisation_delete(*, reorganisation_id: int) -> None:
    """Delete a planned reorganisation (a decision withdrawn or recorded by mistake). The agency a merger into a new
    agency created for it goes with it while nothing uses it yet; once it has departments, staff, counters or anything
    else it stays, to be reused or ended by a decision of its own."""
    reorganisation = Reorganisation.objects.select_for_update().filter(pk=reorganisation_id).first()
    if reorganisation is None:
        raise NotFound(_("No such reorganisation."))
    if reorganisation.state != Reorganisation.State.PLANNED:
        raise Conflict(_("An applied reorganisation cannot be deleted: what it changed is history."))
    created = None
    if reorganisation.kind == Kind.MERGE_NEW:
        created = (
            Agency.objects.select_for_update()
            .filter(successions_in__reorganisation=reorganisation, valid_from=reorganisation.effective_date)
            .first()
        )
    reorganisation.delete()
    if created is not None and not _in_use(created):
        created.delete()
