"""Statistics over the API: reception and resolution per agency, with the cross-boundary flows (stats/selectors.py)."""

import calendar

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stats.selectors import cross_boundary_flows, intake_and_resolution, stats_scope

from .dossiers import _officer

FIGURES = ["received", "received_for_others", "received_by_others", "resolved", "resolved_on_time",
           "resolved_late", "in_process", "in_process_overdue"]  # fmt: skip


class PeriodSerializer(serializers.Serializer):
    tu = serializers.DateField(required=False)
    den = serializers.DateField(required=False)

    def validate(self, attrs):  # type: ignore[no-untyped-def]
        today = timezone.localdate()
        attrs.setdefault("tu", today.replace(day=1))
        attrs.setdefault("den", today.replace(day=calendar.monthrange(today.year, today.month)[1]))
        if attrs["tu"] > attrs["den"]:
            raise serializers.ValidationError({"den": _("The end date is before the start date.")})
        return attrs


_OUT = inline_serializer(
    "IntakeAndResolution",
    {
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "agencies": inline_serializer(
            "IntakeAndResolutionAgency",
            {
                "identifier": serializers.CharField(help_text="The agency's electronic identifier."),
                "name": serializers.CharField(),
                "received": serializers.IntegerField(help_text="Received at the agency's counters."),
                "received_for_others": serializers.IntegerField(help_text="Of which for another competent agency."),
                "received_by_others": serializers.IntegerField(
                    help_text="Received at another agency's counters for this agency."
                ),
                "resolved": serializers.IntegerField(help_text="Results issued as the competent agency."),
                "resolved_on_time": serializers.IntegerField(),
                "resolved_late": serializers.IntegerField(),
                "in_process": serializers.IntegerField(help_text="Received and not finished at the period's end."),
                "in_process_overdue": serializers.IntegerField(),
            },
            many=True,
        ),
        "flows": inline_serializer(
            "CrossBoundaryFlow",
            {
                "receiving_agency": serializers.CharField(),
                "competent_agency": serializers.CharField(),
                "count": serializers.IntegerField(),
            },
            many=True,
        ),
    },
)


class IntakeAndResolutionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("tu", OpenApiTypes.DATE, description="First day of the period (default: this month's)."),
            OpenApiParameter("den", OpenApiTypes.DATE, description="Last day, inclusive (default: this month's)."),
        ],
        responses={200: _OUT},
    )
    def get(self, request: Request) -> Response:
        """Per agency, what its counters received (for itself and for other agencies), what other agencies'
        counters received for it, what it resolved (on time, late) and what it had in process at the end of the
        period; and the dossiers received by one agency for another. A province administrator reads every
        agency, the other roles their own agency; see docs/statistics.md."""
        scope = stats_scope(officer=_officer(request))
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        start, end = period.validated_data["tu"], period.validated_data["den"]
        rows = intake_and_resolution(start=start, end=end, agency_ids=scope.agency_ids)
        flows = cross_boundary_flows(start=start, end=end, agency_id=scope.agency_id)
        return Response(
            {
                "start": start,
                "end": end,
                "agencies": [
                    {"identifier": r.identifier, "name": r.name, **{key: getattr(r, key) for key in FIGURES}}
                    for r in rows
                ],
                "flows": [
                    {"receiving_agency": f.receiving_agency, "competent_agency": f.competent_agency, "count": f.count}
                    for f in flows
                ],
            }
        )
