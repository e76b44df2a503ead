"""Inbound updates: ministries' systems push the progress and results of the dossiers they handle.

Authenticated per system by an HMAC signature over the raw body (sync.inbound), so the body is read as bytes and
parsed here only after the signature is checked; no session, no CSRF, no token.
"""

import hashlib
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ValidationFailed
from sync.inbound import inbound_apply, verify

_DATE = "yyyyMMddHHmmss, Vietnam time"

_PROGRESS = inline_serializer(
    "InboundProgress",
    {
        "ThoiDiemXuLy": serializers.CharField(help_text=_DATE),
        "TrangThai": serializers.IntegerField(min_value=1, max_value=10, help_text="national status after this step"),
        "NoiDungXuLy": serializers.CharField(required=False),
        "PhongBanXuLy": serializers.CharField(required=False),
        "NguoiXuLy": serializers.CharField(required=False),
        "ChucDanh": serializers.CharField(required=False),
    },
    many=True,
    required=False,
)

_PAYLOAD = inline_serializer(
    "InboundDossier",
    {
        "MaHoSo": serializers.CharField(help_text="dossier code, <agency identifier>-YYMMDD-XXXX"),
        "MaTTHC": serializers.CharField(help_text="national procedure code"),
        "ChuHoSo": serializers.CharField(help_text="applicant's full name (or the organisation's name)"),
        "LoaiDoiTuong": serializers.IntegerField(required=False, help_text="1 citizen (default), 2-4 organisations"),
        "KenhThucHien": serializers.IntegerField(required=False, help_text="1 direct (default), 2 online, 3 postal"),
        "NgayTiepNhan": serializers.CharField(help_text=_DATE),
        "NgayHenTra": serializers.CharField(required=False, help_text=_DATE),
        "TrangThaiHoSo": serializers.IntegerField(min_value=1, max_value=10, help_text="national status 1..10"),
        "NgayKetThucXuLy": serializers.CharField(required=False, help_text=_DATE),
        "NgayTra": serializers.CharField(required=False, help_text=_DATE),
        "DonViXuLy": serializers.CharField(
            required=False, help_text="the agency's electronic identifier, when the code does not start with it"
        ),
        "QuaTrinhXuLy": _PROGRESS,
        "KetQua": serializers.ListField(child=serializers.DictField(), required=False, help_text="result documents"),
    },
)

_ERROR = inline_serializer(
    "InboundError",
    {"code": serializers.CharField(), "message": serializers.CharField(), "detail": serializers.JSONField()},
)


def _header(description: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "type": OpenApiTypes.STR,
        "location": OpenApiParameter.HEADER,
        "required": required,
        "description": description,
    }


class InboundDossierView(APIView):
    authentication_classes: list = []  # type: ignore[type-arg]
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser]  # for the schema: the body is read raw, see post()

    @extend_schema(
        operation_id="inbound_dossier_push",
        request=_PAYLOAD,
        parameters=[
            OpenApiParameter("X-Api-Key", **_header("the system's API key")),
            OpenApiParameter("X-Timestamp", **_header("Unix time in seconds when the request was signed")),
            OpenApiParameter(
                "X-Signature", **_header('hex HMAC-SHA256 of "<X-Timestamp>." + body, keyed with the system\'s secret')
            ),
            OpenApiParameter(
                "Idempotency-Key",
                **_header("repeat a request under the same key to get its first answer", required=False),
            ),
        ],
        responses={
            200: inline_serializer(
                "InboundAnswer",
                {
                    "ma_ho_so": serializers.CharField(),
                    "created": serializers.BooleanField(),
                    "events_added": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(_ERROR, description="invalid: detail lists the wrong fields"),
            401: OpenApiResponse(_ERROR, description="unknown_key, bad_signature or stale_timestamp"),
            409: OpenApiResponse(
                _ERROR,
                description="replayed, idempotency_key_reused, not_external (a dossier handled here) or other_system",
            ),
        },
        examples=[
            OpenApiExample(
                "Progress of a dossier",
                request_only=True,
                value={
                    "MaHoSo": "000.00.03.H01-260105-0001",
                    "MaTTHC": "2.000977",
                    "ChuHoSo": "Nguyễn Văn An",
                    "NgayTiepNhan": "20260105083000",
                    "NgayHenTra": "20260112170000",
                    "TrangThaiHoSo": 4,
                    "QuaTrinhXuLy": [
                        {
                            "ThoiDiemXuLy": "20260105083000",
                            "TrangThai": 2,
                            "NoiDungXuLy": "Tiếp nhận hồ sơ",
                            "PhongBanXuLy": "Bộ phận một cửa",
                        }
                    ],
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Create or update a dossier handled on the calling ministry's system, with its new progress entries.

        A repeat of an applied request (same Idempotency-Key and body, signed again) answers as the first time and
        changes nothing; see docs/inbound-api.md for the signature."""
        body: bytes = request.body  # the exact bytes signed; request.data is never read
        signature = request.headers.get("X-Signature", "")
        system = verify(
            key_id=request.headers.get("X-Api-Key", ""),
            timestamp=request.headers.get("X-Timestamp", ""),
            signature=signature,
            body=body,
            now=timezone.now(),
        )
        key = request.headers.get("Idempotency-Key", "").strip() or signature
        if len(key) > 255:
            raise ValidationFailed(
                _("The Idempotency-Key is too long."), detail={"Idempotency-Key": [_("At most 255 characters.")]}
            )
        try:
            payload = json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            raise ValidationFailed(_("The body is not JSON."), detail={"body": [_("Not valid JSON.")]}) from None
        answer = inbound_apply(
            system=system,
            payload=payload,
            idempotency_key=key,
            body_hash=hashlib.sha256(body).hexdigest(),
            signature=signature,
        )
        return Response(answer)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'HMAC-SHA256 realm="inbound", headers="X-Api-Key X-Timestamp X-Signature"'
        return response
