"""Citizens' voice on the portal: rating a resolved dossier, feedback (phản ánh, kiến nghị) and its answers, the FAQ."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError, NotFound
from dossiers.selectors import access_dossier_for_citizen
from feedback import selectors
from feedback.models import Feedback, Rating
from feedback.services import COMMENT_MAX, CONTENT_MAX, TITLE_MAX, feedback_submit, rating_submit
from organizations.models import Agency
from procedures.selectors import field_list

from .accounts import citizen_required

PAGE_SIZE = 20


def _get(fn, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(**kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _page(request, qs, param: str):  # type: ignore[no-untyped-def]
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get(param))


def _show_errors(form: forms.Form, exc: DomainError) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for key, message in detail.items():
        form.add_error(key if key in form.fields else None, message)
    if not detail or not set(detail) & set(form.fields):
        form.add_error(None, exc.message)


# Rating ---------------------------------------------------------------------------------------------------------


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you with how your dossier was handled?"),
        choices=Rating.Level.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@citizen_required
def dossier_rate(request, code: str, citizen):  # type: ignore[no-untyped-def]
    dossier = _get(access_dossier_for_citizen, user=request.user, code=code)
    rating = selectors.rating_for(dossier=dossier)
    rateable = rating is None and selectors.can_rate(user=request.user, dossier=dossier)
    form = RatingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rating_submit(user=request.user, code=dossier.code, **form.cleaned_data)
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, _("Thank you. Your rating was recorded."))
                return redirect("portal:dossier-rate", code=dossier.code)
        else:
            status = 400
    context = {"dossier": dossier, "rating": rating, "rateable": rateable, "form": form}
    return render(request, "portal/feedback/rate.html", context, status=status)


# Feedback -------------------------------------------------------------------------------------------------------


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of feedback"), choices=Feedback.Kind.choices, widget=forms.RadioSelect
    )
    dossier_code = forms.ChoiceField(
        label=gettext_lazy("About one of your dossiers"),
        required=False,
        help_text=gettext_lazy("Leave empty for feedback that is not about a particular dossier."),
    )
    agency_id = forms.TypedChoiceField(
        label=gettext_lazy("Agency the feedback is for"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("Needed only when the feedback is not about one of your dossiers."),
    )
    field_id = forms.TypedChoiceField(
        label=gettext_lazy("Field (optional)"), required=False, coerce=int, empty_value=None
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX)
    content = forms.CharField(
        label=gettext_lazy("Content"), max_length=CONTENT_MAX, widget=forms.Textarea(attrs={"rows": 8})
    )
    public = forms.BooleanField(
        label=gettext_lazy("I agree that my question and the answer may be published (without my name)"),
        required=False,
    )

    def __init__(self, *args, dossiers, agencies, fields, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["dossier_code"].choices = [("", _("— General feedback, not about a dossier —")), *dossiers]
        groups: dict[str, list[tuple[int, str]]] = {}
        for pk, name, level in agencies:
            label = _("Provincial agencies") if level == Agency.Level.PROVINCE else _("Communes, wards, special zones")
            groups.setdefault(label, []).append((pk, name))
        self.fields["agency_id"].choices = [("", _("— Choose an agency —")), *groups.items()]
        self.fields["field_id"].choices = [("", _("— Any field —")), *((f.pk, f.name) for f in fields)]


@citizen_required
def feedback_new(request, citizen):  # type: ignore[no-untyped-def]
    dossiers = selectors.dossier_choices_for_citizen(user=request.user)
    chosen = request.GET.get("ho-so", "")
    initial = {"dossier_code": chosen if chosen in {code for code, _label in dossiers} else ""}
    if request.GET.get("kind") in Feedback.Kind.values:
        initial["kind"] = request.GET["kind"]
    form = FeedbackForm(
        request.POST or None,
        initial=initial,
        dossiers=dossiers,
        agencies=selectors.agency_choices(),
        fields=field_list(),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                feedback = feedback_submit(user=request.user, **form.cleaned_data)
            except DomainError as exc:
                _show_errors(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Your feedback was sent to %(agency)s. The answer is due by %(due)s.")
                    % {"agency": feedback.agency.name, "due": f"{localtime(feedback.due_at):%d/%m/%Y}"},
                )
                return redirect("portal:feedback-detail", pk=feedback.pk)
        else:
            status = 400
    return render(request, "portal/feedback/new.html", {"form": form, "citizen": citizen}, status=status)


def feedback_list(request):  # type: ignore[no-untyped-def]
    """The citizen's own feedback (when signed in) and everyone's published questions and answers (public)."""
    mine = _page(request, selectors.feedback_for_citizen(user=request.user), "page")
    published = _page(request, selectors.feedback_published(), "qa")
    return render(request, "portal/feedback/list.html", {"mine": mine, "published": published})


@citizen_required
def feedback_detail(request, pk: int, citizen):  # type: ignore[no-untyped-def]
    feedback = _get(selectors.access_feedback_for_citizen, user=request.user, pk=pk)
    return render(request, "portal/feedback/detail.html", {"feedback": feedback})


# FAQ ------------------------------------------------------------------------------------------------------------


class FaqSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search the questions"), required=False, max_length=200)
    field = forms.TypedChoiceField(label=gettext_lazy("Field"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, fields, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", _("All fields")),
            *((f.pk, f"{f.name} ({f.faq_count})") for f in fields),
        ]


def faq(request):  # type: ignore[no-untyped-def]
    form = FaqSearchForm(request.GET or None, fields=selectors.faq_fields())
    if form.is_bound and not form.is_valid():
        return render(request, "portal/feedback/faq.html", {"form": form, "page": None}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    results = selectors.faq_search(q=data.get("q") or "", field_id=data.get("field"))
    query = request.GET.copy()
    query.pop("page", None)
    page = _page(request, results, "page")
    context = {"form": form, "page": page, "query": query.urlencode(), "expanded": bool(data.get("q"))}
    return render(request, "portal/feedback/faq.html", context)


urlpatterns = [
    path("ho-so-cua-toi/<str:code>/danh-gia/", dossier_rate, name="dossier-rate"),
    path("phan-anh-kien-nghi/", feedback_list, name="feedback-list"),
    path("phan-anh-kien-nghi/gui/", feedback_new, name="feedback-new"),
    path("phan-anh-kien-nghi/<int:pk>/", feedback_detail, name="feedback-detail"),
    path("hoi-dap/", faq, name="faq"),
]
