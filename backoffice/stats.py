"""Statistics pages: reception and resolution per agency, with the cross-boundary flows (stats/selectors.py)."""

import calendar
import csv
import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import PermissionDenied
from stats.selectors import Scope, cross_boundary_flows, intake_and_resolution, rows_total, stats_scope

from .views import officer_required


class PeriodForm(forms.Form):
    tu = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    den = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("tu") and data.get("den") and data["tu"] > data["den"]:
            self.add_error("den", _("The end date is before the start date."))
        return data

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:  # the message under the field is read with it
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"


def _this_month() -> dict[str, dt.date]:
    today = timezone.localdate()
    last = calendar.monthrange(today.year, today.month)[1]
    return {"tu": today.replace(day=1), "den": today.replace(day=last)}


def _period(request) -> PeriodForm:  # type: ignore[no-untyped-def]
    """The period asked for, or this month when none was."""
    if "tu" in request.GET or "den" in request.GET:
        return PeriodForm(request.GET)
    return PeriodForm({key: value.isoformat() for key, value in _this_month().items()})


def _scope(officer) -> Scope:  # type: ignore[no-untyped-def]
    try:
        return stats_scope(officer=officer)
    except PermissionDenied as exc:
        raise Forbidden(exc.message) from exc


@officer_required
def intake_resolution(request, officer):  # type: ignore[no-untyped-def]
    scope = _scope(officer)
    form = _period(request)
    context = {"officer": officer, "form": form, "scope": scope}
    if not form.is_valid():
        return render(request, "backoffice/stats_intake.html", context, status=400)
    start, end = form.cleaned_data["tu"], form.cleaned_data["den"]
    rows = intake_and_resolution(start=start, end=end, agency_ids=scope.agency_ids)
    context.update(
        start=start,
        end=end,
        rows=rows,
        total=rows_total(rows) if len(rows) > 1 else None,
        flows=cross_boundary_flows(start=start, end=end, agency_id=scope.agency_id),
    )
    return render(request, "backoffice/stats_intake.html", context)


def _csv_headings() -> list[str]:
    return [
        _("Electronic identifier"),
        _("Agency"),
        _("Received at its counters"),
        _("of which received on behalf of other agencies"),
        _("Received on its behalf by other agencies"),
        _("Dossiers resolved"),
        _("resolved on time"),
        _("resolved late"),
        _("Still in process"),
        _("of which overdue"),
    ]


@officer_required
def intake_resolution_csv(request, officer):  # type: ignore[no-untyped-def]
    scope = _scope(officer)
    form = _period(request)
    if not form.is_valid():
        errors = "; ".join(str(message) for messages in form.errors.values() for message in messages)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["tu"], form.cleaned_data["den"]
    rows = intake_and_resolution(start=start, end=end, agency_ids=scope.agency_ids)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tiep-nhan-giai-quyet-{start}-{end}.csv"'
    response.write("\ufeff")  # the byte-order mark spreadsheet programs need to read UTF-8 (Vietnamese) text
    writer = csv.writer(response)
    writer.writerow(_csv_headings())
    for row in [*rows, rows_total(rows)] if rows else []:
        writer.writerow(
            [
                row.identifier,
                row.name,
                row.received,
                row.received_for_others,
                row.received_by_others,
                row.resolved,
                row.resolved_on_time,
                row.resolved_late,
                row.in_process,
                row.in_process_overdue,
            ]
        )
    return response


urlpatterns = [
    path("thong-ke/tiep-nhan-giai-quyet/", intake_resolution, name="stats-intake"),
    path("thong-ke/tiep-nhan-giai-quyet.csv", intake_resolution_csv, name="stats-intake-csv"),
]
