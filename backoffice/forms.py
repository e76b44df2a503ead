from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from dossiers.models import ApplicantType, Delivery
from organizations.selectors import commune_list
from procedures.models import Procedure


class ProcedurePickForm(forms.Form):
    q = forms.CharField(label=_("Procedure"), max_length=200, required=False)


class IntakeForm(forms.Form):
    """The counter's intake form; the domain rules are checked by dossiers.services, not here."""

    agency = forms.ChoiceField(label=_("Competent agency"))
    applicant_type = forms.TypedChoiceField(
        label=_("Applicant type"), choices=ApplicantType.choices, coerce=int, initial=ApplicantType.CITIZEN
    )
    applicant_name = forms.CharField(label=_("Applicant's full name"), max_length=255, required=False)
    applicant_id_number = forms.CharField(
        label=_("Personal identification number"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    applicant_birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    organisation_name = forms.CharField(label=_("Organisation name"), max_length=255, required=False)
    organisation_code = forms.CharField(label=_("Organisation identification number"), max_length=20, required=False)
    applicant_address = forms.CharField(label=_("Address"), max_length=255, required=False)
    applicant_commune = forms.TypedChoiceField(
        label=_("Commune, ward or special zone"), coerce=int, required=False, empty_value=None
    )
    applicant_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    applicant_email = forms.EmailField(label=_("Email"), required=False)
    representative_name = forms.CharField(label=_("Authorised representative"), max_length=255, required=False)
    representative_id_number = forms.CharField(
        label=_("Representative's identification number"), max_length=12, required=False
    )
    representative_phone = forms.CharField(label=_("Representative's phone"), max_length=20, required=False)
    representative_authorisation = forms.CharField(label=_("Letter of authorisation"), max_length=255, required=False)
    language = forms.ChoiceField(label=_("Language of the receipt"), choices=settings.LANGUAGES, initial="vi")
    summary = forms.CharField(label=_("Request"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sets = forms.IntegerField(label=_("Number of sets"), initial=1, min_value=1, max_value=50)
    delivery = forms.ChoiceField(
        label=_("Result delivery"),
        choices=[(Delivery.COUNTER, Delivery.COUNTER.label), (Delivery.POST, Delivery.POST.label)],
        initial=Delivery.COUNTER,
    )
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=255, required=False)
    reasons = forms.CharField(
        label=_("Reasons for refusal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only when refusing: one reason per line."),
    )

    def __init__(self, *args, procedure: Procedure, agencies: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.fields["agency"].choices = agencies
        self.fields["applicant_commune"].choices = [("", "—")] + [(u.code, u.name) for u in commune_list()]
        self.component_rows = []
        for component in procedure.components.all():
            prefix = f"component_{component.pk}"
            self.fields[prefix] = forms.BooleanField(label=component.name, required=False, initial=component.required)
            self.fields[f"{prefix}_originals"] = forms.IntegerField(
                label=_("Originals"), min_value=0, max_value=99, initial=component.originals
            )
            self.fields[f"{prefix}_copies"] = forms.IntegerField(
                label=_("Copies"), min_value=0, max_value=99, initial=component.copies
            )
            self.fields[f"{prefix}_scan"] = forms.FileField(label=_("Scan (PDF, JPEG, PNG)"), required=False)
            self.component_rows.append((component, prefix))
        self.fee_rows = []
        for index, fee in enumerate(procedure.fees.all()):
            self.fields[f"fee_{index}_amount"] = forms.IntegerField(label=fee.name, min_value=0, initial=fee.amount)
            self.fields[f"fee_{index}_paid"] = forms.BooleanField(label=_("Paid"), required=False)
            self.fee_rows.append((fee, f"fee_{index}"))

    def component_fields(self):  # type: ignore[no-untyped-def]
        for component, prefix in self.component_rows:
            yield component, self[prefix], self[f"{prefix}_originals"], self[f"{prefix}_copies"], self[f"{prefix}_scan"]

    def fee_fields(self):  # type: ignore[no-untyped-def]
        for fee, prefix in self.fee_rows:
            yield fee, self[f"{prefix}_amount"], self[f"{prefix}_paid"]


class RegisterForm(forms.Form):
    field = forms.TypedChoiceField(label=_("Field"), coerce=int)
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, fields, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [(f.pk, f.name) for f in fields]

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return data
