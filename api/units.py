"""``GET /api/v1/units/communes/?province=<code>``: a province's communes, wards and special zones (2025), for the
address fields of the online forms (static/js/eform.js fills the commune select from it)."""

from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from procedures.eforms import commune_options, province_code

# The units change only with the vietnam-provinces package, i.e. with a release: browsers and proxies keep them.
MAX_AGE = 24 * 3600


class CommuneQuerySerializer(serializers.Serializer):
    province = serializers.RegexField(
        r"^\d{1,3}$", help_text="The province's national statistics code, e.g. 91 (An Giang) or 01 (Hà Nội)."
    )


class UnitSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="National statistics code, five digits.")
    name = serializers.CharField()


class CommuneListView(APIView):
    """The commune-level units of one province, by name."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        parameters=[CommuneQuerySerializer],
        responses={
            200: UnitSerializer(many=True),
            400: OpenApiResponse(description="No province code given."),
            404: OpenApiResponse(description="No such province."),
        },
    )
    def get(self, request: Request) -> Response:
        query = CommuneQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        code = province_code(query.validated_data["province"])
        if code is None:
            raise NotFound(_("No province has the code %(code)s.") % {"code": query.validated_data["province"]})
        response = Response(commune_options(code))
        patch_cache_control(response, public=True, max_age=MAX_AGE)
        return response
