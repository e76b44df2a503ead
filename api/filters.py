import django_filters

from organizations.models import Agency
from procedures.models import Procedure


class ProcedureFilter(django_filters.FilterSet):
    """Validated query parameters; an unknown choice is a 400 with the field named, never a 500."""

    q = django_filters.CharFilter(method="noop", max_length=200)
    agency = django_filters.CharFilter(method="noop", max_length=35)
    field = django_filters.CharFilter(method="noop", max_length=40)
    level = django_filters.ChoiceFilter(method="noop", choices=Procedure.Level.choices)
    online_level = django_filters.ChoiceFilter(method="noop", choices=Procedure.OnlineLevel.choices)

    class Meta:
        model = Procedure
        fields: list[str] = []

    def noop(self, queryset, name, value):  # type: ignore[no-untyped-def]
        # The search selector applies every filter itself; the FilterSet only validates.
        return queryset


class AgencyFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Agency.Level.choices)
    commune = django_filters.NumberFilter(field_name="unit__code", min_value=1)

    class Meta:
        model = Agency
        fields = ["level", "commune"]
