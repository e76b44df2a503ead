"""``GET /api/v1/calendar/due-date/``: when a deadline of N working days or hours falls."""

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.calendar import VIETNAM
from core.selectors import calendar_for
from organizations.models import Agency

# In a query string an unencoded "+07:00" arrives as " 07:00"; read it as the offset it was meant to be.
_SPACE_FOR_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class _QueryDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
        return super().to_internal_value(value)


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise serializers.ValidationError(_("Ensure this value is greater than 0."))
    return value


class DueDateQuerySerializer(serializers.Serializer):
    start = _QueryDateTimeField(
        default_timezone=VIETNAM,
        help_text="ISO 8601 date and time; without an offset it is read as Vietnam time (UTC+07:00).",
    )
    days = serializers.DecimalField(
        max_digits=10,
        decimal_places=4,
        max_value=Decimal(3650),
        required=False,
        validators=[_positive],
        help_text="Working days (one day is the agency's working hours). Give either days or hours.",
    )
    hours = serializers.DecimalField(
        max_digits=10,
        decimal_places=4,
        max_value=Decimal(3650),
        required=False,
        validators=[_positive],
        help_text="Working hours. Give either days or hours.",
    )
    after_15h_rule = serializers.BooleanField(
        default=False,
        help_text="Count a start at or after 15:00, or on a day off, from the next working day.",
    )
    agency = serializers.CharField(
        required=False,
        max_length=35,
        help_text="Electronic identifier of the agency whose working hours apply; the default hours otherwise.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("days" in attrs) == ("hours" in attrs):
            raise serializers.ValidationError(_("Give either days or hours, not both and not neither."))
        return attrs


class DueDateSerializer(serializers.Serializer):
    due = serializers.DateTimeField(default_timezone=VIETNAM, help_text="The deadline, in Vietnam time.")
    skipped_days = serializers.ListField(
        child=serializers.DateField(), help_text="Days off between the start's date and the due date."
    )


class DueDateView(APIView):
    """The due date of a deadline counted in working days or hours, skipping weekends, public holidays and the
    province's days off."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        parameters=[DueDateQuerySerializer],
        responses={
            200: DueDateSerializer,
            400: OpenApiResponse(description="Invalid parameters."),
            404: OpenApiResponse(description="Unknown agency."),
        },
    )
    def get(self, request: Request) -> Response:
        query = DueDateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        working_hours = None
        if "agency" in data:
            identifier = data["agency"]
            rows = list(Agency.objects.filter(identifier=identifier).values_list("working_hours", flat=True)[:1])
            if not rows:
                raise NotFound(
                    _("No agency has the electronic identifier %(identifier)s.") % {"identifier": identifier}
                )
            working_hours = rows[0]
        calendar = calendar_for(working_hours=working_hours)
        unit = "days" if "days" in data else "hours"
        due = calendar.add(data["start"], data[unit], unit, after_15h_rule=data["after_15h_rule"])
        skipped = calendar.skipped_days(data["start"], due)
        return Response(DueDateSerializer({"due": due, "skipped_days": skipped}).data)
