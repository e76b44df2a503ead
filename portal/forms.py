from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Agency
from procedures.models import Field, Procedure


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search procedures"), required=False, max_length=200)
    agency = forms.ModelChoiceField(
        label=_("Agency"), required=False, queryset=Agency.objects.none(), to_field_name="identifier"
    )
    field = forms.ModelChoiceField(
        label=_("Field"), required=False, queryset=Field.objects.none(), to_field_name="code"
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *Procedure.Level.choices]
    )
    online_level = forms.ChoiceField(
        label=_("Online service"), required=False, choices=[("", _("All")), *Procedure.OnlineLevel.choices]
    )

    def __init__(self, *args, agencies, fields, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["agency"].empty_label = _("All agencies")
        self.fields["field"].queryset = fields
        self.fields["field"].empty_label = _("All fields")
