"""Forms of the reorganisation pages (backoffice/reorganisation.py): one per kind of reorganisation. They parse what
the administrator chose and call the recording service of ``organizations.reorganisation``; the rules (and their
messages) are the service's, shown beside the fields they concern."""

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from organizations.models import AdministrativeUnit, Agency, Department, Reorganisation
from organizations.reorganisation import (
    NewAgency,
    Part,
    department_move_record,
    dissolve_record,
    merge_record,
    rename_record,
    split_record,
)

Kind = Reorganisation.Kind
SPLIT_ROWS = 3


def _label(model, name: str) -> str:  # type: ignore[no-untyped-def]
    return capfirst(model._meta.get_field(name).verbose_name)  # type: ignore[no-any-return]


def agency_label(agency: Agency, today: dt.date) -> str:
    if agency.valid_from > today:
        return _("%(agency)s (from %(date)s)") % {"agency": agency.name, "date": agency.valid_from.strftime("%d/%m/%Y")}
    return agency.name


def agency_choices(agencies: list[Agency], today: dt.date) -> list[tuple[str, list[tuple[int, str]]]]:
    """The agencies grouped by level, provincial ones first."""
    groups = [
        (_("Provincial agencies"), [a for a in agencies if a.level == Agency.Level.PROVINCE]),
        (_("Commune-level agencies"), [a for a in agencies if a.level != Agency.Level.PROVINCE]),
    ]
    return [(label, [(a.pk, agency_label(a, today)) for a in rows]) for label, rows in groups if rows]


class AgencyField(forms.TypedChoiceField):
    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(coerce=int, empty_value=None, **kwargs)


class AgenciesField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("widget", forms.SelectMultiple({"size": 10}))
        kwargs.setdefault(
            "help_text", gettext_lazy("Hold Ctrl (Cmd on a Mac) to choose several; on a phone, tick each one.")
        )
        super().__init__(coerce=int, **kwargs)


class KindForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of reorganisation"), choices=Kind.choices)


class RecordForm(forms.Form):
    """What every kind records: the date, the decision, a note. Subclasses add the agencies and ``record``."""

    kind: ClassVar[str]
    # A service's error key that is not one of the form's fields → the field it concerns.
    errors_to: ClassVar[dict[str, str]] = {}
    # The field naming the agency whose departments the form offers (split, move a department).
    departments_of: ClassVar[str | None] = None
    # Fields shown in the department section, below that agency.
    grouped: ClassVar[tuple[str, ...]] = ()

    effective_date = forms.DateField(
        label=_label(Reorganisation, "effective_date"),
        widget=forms.DateInput({"type": "date"}),
        help_text=gettext_lazy("Nothing changes before this date; on it the reorganisation can be applied."),
    )
    decision = forms.CharField(
        label=_label(Reorganisation, "decision"),
        max_length=255,
        required=False,
        help_text=Reorganisation._meta.get_field("decision").help_text,
    )
    note = forms.CharField(label=_label(Reorganisation, "note"), required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(
        self,
        *args,  # type: ignore[no-untyped-def]
        agencies: list[Agency],
        units: list[AdministrativeUnit] | None = None,
        departments: list[Department] | None = None,
        today: dt.date,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.agency_by_pk = {a.pk: a for a in agencies}
        self.unit_by_pk = {u.pk: u for u in units or []}
        self.department_by_pk = {d.pk: d for d in departments or []}
        choices = agency_choices(agencies, today)
        for field in self.fields.values():
            if isinstance(field, AgenciesField):
                field.choices = choices
            elif isinstance(field, AgencyField):
                field.choices = [("", "—"), *choices]
        common = ("effective_date", "decision", "note")
        self.order_fields([*(n for n in self.fields if n not in common), *common])

    def leading_fields(self) -> list[forms.BoundField]:
        names = list(self.fields)
        end = names.index(self.departments_of) + 1 if self.departments_of else len(names)
        return [self[n] for n in names[:end]]

    def trailing_fields(self) -> list[forms.BoundField]:
        if not self.departments_of:
            return []
        names = list(self.fields)
        return [self[n] for n in names[names.index(self.departments_of) + 1 :] if n not in self.grouped]

    def chosen_agency(self, name: str) -> Agency | None:
        return self.agency_by_pk.get(self.cleaned_data.get(name))  # type: ignore[arg-type]

    def chosen_agencies(self, name: str) -> list[Agency]:
        return [self.agency_by_pk[pk] for pk in self.cleaned_data.get(name) or []]

    def common(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"effective_date": d["effective_date"], "decision": d["decision"] or "", "note": d["note"] or ""}

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        """Record the decision through its kind's service; each kind's form below defines it (an abstract method:
        the page only ever builds those forms)."""
        raise NotImplementedError

    def add_domain_error(self, exc: DomainError) -> None:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        placed = False
        for key, message in detail.items():
            name = key if key in self.fields else self.errors_to.get(key)
            if name in self.fields:
                self.add_error(name, message)
                placed = True
            else:
                self.add_error(None, message)
        if not placed:
            self.add_error(None, exc.message)

    @classmethod
    def initial_from(cls, data) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """The values typed so far, as the initial values of an unbound form (re-shown without checking them)."""
        initial: dict[str, Any] = {}
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.MultipleChoiceField):
                initial[name] = data.getlist(name)
            elif name in data:
                initial[name] = data.get(name)
        return initial


class MergeNewForm(RecordForm):
    kind = Kind.MERGE_NEW
    errors_to = {"target": "name"}

    sources = AgenciesField(label=gettext_lazy("Agencies merged"), required=False)
    name = forms.CharField(label=gettext_lazy("Name of the new agency"), max_length=255, required=False)
    short_name = forms.CharField(label=_label(Agency, "short_name"), max_length=80, required=False)
    key = forms.SlugField(
        label=_label(Agency, "key"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Lower-case letters, digits, - and _; no other agency may have it."),
    )
    identifier = forms.CharField(
        label=_label(Agency, "identifier"),
        max_length=35,
        required=False,
        help_text=gettext_lazy("As issued for the new agency, e.g. 000.00.20.H01."),
    )
    level = forms.ChoiceField(label=_label(Agency, "level"), choices=Agency.Level.choices)
    agency_kind = forms.ChoiceField(label=_label(Agency, "kind"), choices=Agency.Kind.choices)
    unit = forms.TypedChoiceField(label=_label(Agency, "unit"), coerce=int)
    parent = AgencyField(label=_label(Agency, "parent"), required=False)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in self.unit_by_pk.values()]  # type: ignore[attr-defined]

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        d = self.cleaned_data
        new = NewAgency(
            key=d["key"] or "",
            identifier=(d["identifier"] or "").strip(),
            name=d["name"] or "",
            short_name=d["short_name"] or "",
            level=d["level"],
            kind=d["agency_kind"],
            unit=self.unit_by_pk[d["unit"]],
            parent=self.chosen_agency("parent"),
        )
        return merge_record(sources=self.chosen_agencies("sources"), new=new, by_user=by_user, **self.common())


class MergeIntoForm(RecordForm):
    kind = Kind.MERGE_INTO

    sources = AgenciesField(label=gettext_lazy("Agencies merged"), required=False)
    target = AgencyField(
        label=gettext_lazy("Agency that continues"),
        required=False,
        help_text=gettext_lazy("It keeps its name, identifier and counter."),
    )

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        return merge_record(
            sources=self.chosen_agencies("sources"),
            target=self.chosen_agency("target"),
            by_user=by_user,
            **self.common(),
        )


class RenameForm(RecordForm):
    kind = Kind.RENAME
    errors_to = {"sources": "agency"}

    agency = AgencyField(label=gettext_lazy("Agency"))
    new_name = forms.CharField(label=_label(Reorganisation, "new_name"), max_length=255, required=False)
    new_short_name = forms.CharField(label=_label(Reorganisation, "new_short_name"), max_length=80, required=False)
    new_identifier = forms.CharField(
        label=_label(Reorganisation, "new_identifier"),
        max_length=35,
        required=False,
        help_text=gettext_lazy("Empty: the identifier does not change."),
    )

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        d = self.cleaned_data
        return rename_record(
            agency=self.chosen_agency("agency"),  # type: ignore[arg-type]
            new_name=d["new_name"] or "",
            new_short_name=d["new_short_name"] or "",
            new_identifier=(d["new_identifier"] or "").strip(),
            by_user=by_user,
            **self.common(),
        )


class SplitForm(RecordForm):
    kind = Kind.SPLIT
    errors_to = {"sources": "source", "parts": "successor_1"}
    departments_of = "source"
    grouped = tuple(f"{name}_{n}" for n in range(1, SPLIT_ROWS + 1) for name in ("successor", "departments"))

    source = AgencyField(label=gettext_lazy("Agency that is split"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        codes = [(d.code, f"{d.name} ({d.code})") for d in self.department_by_pk.values()]
        for n in range(1, SPLIT_ROWS + 1):
            self.fields[f"successor_{n}"].label = _("Successor %(number)d: agency") % {"number": n}
            self.fields[f"departments_{n}"].label = _("Successor %(number)d: departments it takes") % {"number": n}
            self.fields[f"departments_{n}"].choices = codes  # type: ignore[attr-defined]

    def rows(self):  # type: ignore[no-untyped-def]
        for n in range(1, SPLIT_ROWS + 1):
            yield n, self[f"successor_{n}"], self[f"departments_{n}"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, SPLIT_ROWS + 1):
            if data.get(f"departments_{n}") and data.get(f"successor_{n}") is None:
                self.add_error(f"successor_{n}", _("Choose the agency that takes these departments."))
        return data

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        d = self.cleaned_data
        parts = [
            Part(successor=self.agency_by_pk[d[f"successor_{n}"]], department_codes=list(d[f"departments_{n}"]))
            for n in range(1, SPLIT_ROWS + 1)
            if d.get(f"successor_{n}") is not None
        ]
        return split_record(source=self.chosen_agency("source"), parts=parts, by_user=by_user, **self.common())  # type: ignore[arg-type]


for _n in range(1, SPLIT_ROWS + 1):
    # Labelled in __init__ (the row number is part of the translated label).
    SplitForm.base_fields[f"successor_{_n}"] = AgencyField(
        required=False,
        help_text=gettext_lazy("The first successor is the main one: it takes what the others do not.")
        if _n == 1
        else "",
    )
    SplitForm.base_fields[f"departments_{_n}"] = forms.MultipleChoiceField(
        required=False, widget=forms.SelectMultiple({"size": 5})
    )


class DissolveForm(RecordForm):
    kind = Kind.DISSOLVE
    errors_to = {"sources": "agency"}

    agency = AgencyField(label=gettext_lazy("Agency that is dissolved"))
    successor = AgencyField(
        label=gettext_lazy("Successor (optional)"),
        required=False,
        help_text=gettext_lazy(
            "It takes the procedures and open dossiers. Without one the procedures end, and the dissolution cannot "
            "be applied while dossiers are open."
        ),
    )

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        return dissolve_record(
            agency=self.chosen_agency("agency"),  # type: ignore[arg-type]
            successor=self.chosen_agency("successor"),
            by_user=by_user,
            **self.common(),
        )


class MoveForm(RecordForm):
    kind = Kind.MOVE_DEPARTMENT
    errors_to = {"sources": "department"}
    departments_of = "from_agency"
    grouped = ("department",)

    from_agency = AgencyField(label=gettext_lazy("Agency the department belongs to"))
    department = forms.TypedChoiceField(label=gettext_lazy("Department that moves"), coerce=int)
    to = AgencyField(label=gettext_lazy("Agency it moves to"))

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((d.pk, f"{d.name} ({d.code})") for d in self.department_by_pk.values()),
        ]

    def record(self, *, by_user) -> Reorganisation:  # type: ignore[no-untyped-def]
        return department_move_record(
            department=self.department_by_pk[self.cleaned_data["department"]],
            to=self.chosen_agency("to"),  # type: ignore[arg-type]
            by_user=by_user,
            **self.common(),
        )


FORMS: dict[str, type[RecordForm]] = {
    form.kind: form for form in (MergeNewForm, MergeIntoForm, RenameForm, SplitForm, DissolveForm, MoveForm)
}


class ApplyConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=gettext_lazy("I have read the preview: apply this reorganisation now."))


class DeleteConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=gettext_lazy("Yes, delete this planned reorganisation."))


class ChecklistFilterForm(forms.Form):
    agency = AgencyField(label=gettext_lazy("Agency"), required=False)

    def __init__(self, *args, agencies: list[Agency], today: dt.date, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.agency_by_pk = {a.pk: a for a in agencies}
        self.fields["agency"].choices = [("", _("All agencies")), *agency_choices(agencies, today)]  # type: ignore[attr-defined]
