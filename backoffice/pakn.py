"""Citizens' feedback (phản ánh, kiến nghị — PAKN) for the agency that answers it within 15 working days."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError, NotFound
from feedback import selectors
from feedback.services import ANSWER_MAX, feedback_answer, feedback_close

from .views import _get, officer_required

PAGE_SIZE = 30
FILTER_LABELS = {
    "all": gettext_lazy("All"),
    "received": gettext_lazy("Awaiting an answer"),
    "overdue": gettext_lazy("Overdue"),
    "answered": gettext_lazy("Answered"),
    "closed": gettext_lazy("Closed"),
}


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Answer to the citizen"), max_length=ANSWER_MAX, widget=forms.Textarea(attrs={"rows": 8})
    )


@officer_required
def pakn(request, officer):  # type: ignore[no-untyped-def]
    shown = request.GET.get("status", "all")
    if shown not in FILTER_LABELS:
        raise Http404(_("No such filter."))
    now = timezone.now()
    rows = selectors.feedback_for_officer(officer=officer, status=None if shown == "all" else shown, now=now)
    counts = selectors.feedback_counts(officer=officer, now=now)
    paginator = Paginator(rows, PAGE_SIZE, allow_empty_first_page=True)
    paginator.count = counts[shown]  # the filter's count, read a moment ago: no second count of the same rows
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/pakn.html",
        {
            "officer": officer,
            "shown": shown,
            "filters": [(key, label, counts[key]) for key, label in FILTER_LABELS.items()],
            "page": page,
            "now": now,
        },
    )


@officer_required
def pakn_detail(request, officer, pk: int):  # type: ignore[no-untyped-def]
    feedback = _get(selectors.access_feedback_for_officer, officer=officer, pk=pk)
    form = AnswerForm(request.POST if request.POST.get("action") == "answer" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "answer":
                if form.is_valid():
                    feedback_answer(officer=officer, feedback_id=feedback.pk, answer=form.cleaned_data["answer"])
                    messages.success(request, _("The answer was sent to the citizen."))
                    return redirect("backoffice:pakn-detail", pk=feedback.pk)
                status = 400
            elif action == "close":
                feedback_close(officer=officer, feedback_id=feedback.pk)
                messages.success(request, _("The feedback was closed."))
                return redirect("backoffice:pakn-detail", pk=feedback.pk)
            else:
                status = 400
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            for key, message in detail.items():
                form.add_error(key if key in form.fields else None, message)
            messages.error(request, exc.message)
            status = exc.status
            feedback = _get(selectors.access_feedback_for_officer, officer=officer, pk=pk)
    return render(
        request,
        "backoffice/pakn_detail.html",
        {"officer": officer, "feedback": feedback, "form": form, "now": timezone.now()},
        status=status,
    )


urlpatterns = [
    path("phan-anh/", pakn, name="pakn"),
    path("phan-anh/<int:pk>/", pakn_detail, name="pakn-detail"),
]
