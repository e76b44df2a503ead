from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.selectors import agency_list
from procedures.selectors import procedure_get, procedure_search

from .filters import AgencyFilter, ProcedureFilter
from .serializers import AgencySerializer, ProcedureDetailSerializer, ProcedureListSerializer


def _validated(filterset_class, request: Request) -> dict:  # type: ignore[no-untyped-def,type-arg]
    filterset = filterset_class(data=request.query_params, queryset=filterset_class.Meta.model.objects.none())
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.form.cleaned_data


@extend_schema(
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="Search words; case and diacritics are ignored."),
        OpenApiParameter("agency", OpenApiTypes.STR, description="Competent agency's electronic identifier."),
        OpenApiParameter("field", OpenApiTypes.STR, description="Field code."),
        OpenApiParameter("level", OpenApiTypes.STR, enum=["province", "commune"]),
        OpenApiParameter("online_level", OpenApiTypes.STR, enum=["full", "partial", "none"]),
    ]
)
class ProcedureListView(generics.ListAPIView):
    """Published procedures, most relevant first when ``q`` is given."""

    serializer_class = ProcedureListSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        data = _validated(ProcedureFilter, self.request)
        return procedure_search(
            q=data.get("q") or "",
            agency=data.get("agency") or None,
            field=data.get("field") or None,
            level=data.get("level") or None,
            online_level=data.get("online_level") or None,
        )


class ProcedureDetailView(generics.GenericAPIView):
    serializer_class = ProcedureDetailSerializer

    def get(self, request: Request, code: str) -> Response:
        procedure = procedure_get(code=code)
        return Response(self.get_serializer(procedure).data)


class AgencyListView(generics.ListAPIView):
    """Agencies valid today, with their electronic identifiers."""

    serializer_class = AgencySerializer
    filterset_class = AgencyFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return agency_list(on=timezone.localdate())
