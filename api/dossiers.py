"""Dossier endpoints: officers' intake and reads (token auth), and the public lookup."""

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, throttling
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import PermissionDenied
from core.ratelimit import client_address
from dossiers.models import ApplicantType, Channel, Delivery, Dossier
from dossiers.selectors import PublicView, access_dossier_for_officer, dossier_public_view
from dossiers.services import Applicant, FeeLine, Intake, ReceivedComponent, dossier_receive, lookup_budget_spend
from organizations.models import Staff
from organizations.selectors import staff_for_user
from receipts.services import form1_pdf


class TokenView(ObtainAuthToken):
    """Exchange a staff username and password for an API token (header ``Authorization: Token <key>``)."""


def _officer(request: Request) -> Staff:
    staff = staff_for_user(user=request.user)
    if staff is None:
        raise PermissionDenied(_("This account is not linked to an agency."))
    return staff


class ApplicantSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ApplicantType.choices, default=ApplicantType.CITIZEN)
    name = serializers.CharField(max_length=255)
    id_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    organisation_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    organisation_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    commune = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="statistics code")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    representative_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    representative_id_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    representative_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    representative_authorisation = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, default="vi")


class ComponentInSerializer(serializers.Serializer):
    component = serializers.IntegerField(help_text="component id, from GET /api/v1/procedures/{code}/")
    originals = serializers.IntegerField(min_value=0, max_value=99, default=1)
    copies = serializers.IntegerField(min_value=0, max_value=99, default=0)


class FeeInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    amount = serializers.IntegerField(min_value=0)
    paid = serializers.BooleanField(default=False)


class IntakeSerializer(serializers.Serializer):
    procedure = serializers.CharField(max_length=30, help_text="national procedure code")
    agency = serializers.CharField(max_length=35, help_text="competent agency's electronic identifier")
    channel = serializers.ChoiceField(choices=[Channel.DIRECT, Channel.POSTAL], default=Channel.DIRECT)
    applicant = ApplicantSerializer()
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    sets = serializers.IntegerField(min_value=1, max_value=50, default=1)
    components = ComponentInSerializer(many=True)
    fees = FeeInSerializer(many=True, required=False, allow_null=True, default=None)
    delivery = serializers.ChoiceField(choices=[Delivery.COUNTER, Delivery.POST], default=Delivery.COUNTER)
    delivery_address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def to_intake(self) -> Intake:
        d = self.validated_data
        a = d["applicant"]
        return Intake(
            procedure_code=d["procedure"],
            agency_identifier=d["agency"],
            channel=d["channel"],
            applicant=Applicant(
                name=a["name"],
                type=a["type"],
                id_number=a["id_number"],
                birth_date=a["birth_date"],
                organisation_name=a["organisation_name"],
                organisation_code=a["organisation_code"],
                address=a["address"],
                commune_code=a["commune"],
                phone=a["phone"],
                email=a["email"],
                representative_name=a["representative_name"],
                representative_id_number=a["representative_id_number"],
                representative_phone=a["representative_phone"],
                representative_authorisation=a["representative_authorisation"],
                language=a["language"],
            ),
            summary=d["summary"],
            sets=d["sets"],
            components=[
                ReceivedComponent(component_id=c["component"], originals=c["originals"], copies=c["copies"])
                for c in d["components"]
            ],
            fees=None if d["fees"] is None else [FeeLine(f["name"], f["amount"], f["paid"]) for f in d["fees"]],
            delivery=d["delivery"],
            delivery_address=d["delivery_address"],
        )


class DossierSerializer(serializers.ModelSerializer):
    procedure = serializers.CharField(source="procedure.code")
    agency = serializers.CharField(source="agency.identifier")
    counter = serializers.CharField(source="counter.name", allow_null=True)
    status_label = serializers.CharField(source="get_status_display")
    documents = serializers.SerializerMethodField()
    fees = serializers.SerializerMethodField()
    receipt_url = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "code", "procedure", "agency", "counter", "channel", "status", "status_label", "current_step",
            "current_task", "applicant_type", "applicant_name", "applicant_id_number",
            "applicant_birth_date", "organisation_name",
            "applicant_address", "applicant_phone", "applicant_email", "representative_name", "summary", "sets",
            "delivery", "delivery_address", "processing_time", "time_unit", "received_at", "appointment_at",
            "completed_at", "returned_at", "register_volume", "register_number", "documents", "fees", "receipt_url",
        ]  # fmt: skip

    def get_documents(self, obj: Dossier) -> list[dict]:  # type: ignore[type-arg]
        return [
            {"name": d.name, "originals": d.originals, "copies": d.copies, "checksum": d.checksum or None}
            for d in obj.documents.all()
        ]

    def get_fees(self, obj: Dossier) -> list[dict]:  # type: ignore[type-arg]
        return [{"name": f.name, "amount": f.amount, "paid": f.paid} for f in obj.fees.all()]

    def get_receipt_url(self, obj: Dossier) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/dossiers/{obj.code}/receipt.pdf")


class DossierCreateView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=IntakeSerializer, responses={201: DossierSerializer})
    def post(self, request: Request) -> Response:
        """Receive and accept a dossier at the officer's counter (code, appointment, register entry)."""
        officer = _officer(request)
        serializer = IntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dossier = dossier_receive(officer=officer, intake=serializer.to_intake())
        return Response(DossierSerializer(dossier, context={"request": request}).data, status=status.HTTP_201_CREATED)


class DossierDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: DossierSerializer})
    def get(self, request: Request, code: str) -> Response:
        """One dossier of the officer's agency or counter; any other code is 404."""
        dossier = access_dossier_for_officer(officer=_officer(request), code=code)
        return Response(DossierSerializer(dossier, context={"request": request}).data)


class ReceiptView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, code: str) -> HttpResponse:
        """Form 1 (receipt and appointment, two copies) as PDF."""
        dossier = access_dossier_for_officer(officer=_officer(request), code=code)
        response = HttpResponse(form1_pdf(dossier=dossier), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="giay-tiep-nhan-{dossier.code}.pdf"'
        return response


class LookupThrottle(throttling.BaseThrottle):
    """The same per-client budget as the lookup page (core.ratelimit), so the two cannot be combined."""

    def allow_request(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        self._wait = lookup_budget_spend(client=client_address(request))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class LookupView(APIView):
    authentication_classes: list = []  # type: ignore[type-arg]
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LookupThrottle]

    @extend_schema(
        responses={
            200: inline_serializer(
                "Lookup",
                {
                    "code": serializers.CharField(),
                    "qr": serializers.URLField(),
                    "valid": serializers.BooleanField(),
                    "receiving_agency": serializers.CharField(),
                    "handling_departments": serializers.ListField(child=serializers.CharField(), required=False),
                    "organisation_name": serializers.CharField(required=False),
                    "applicant_name": serializers.CharField(),
                    "received_at": serializers.DateTimeField(),
                    "appointment_at": serializers.DateTimeField(required=False),
                },
            ),
            404: OpenApiResponse(description="unknown or malformed code"),
            429: OpenApiResponse(description="too many look-ups; see Retry-After"),
        }
    )
    def get(self, request: Request, code: str) -> Response:
        """Public lookup by dossier code: exactly the fields the province's regulation makes public.

        In production `config.wsgi` answers this path through `api.fastpath` with the same body; this view is the
        reference (tests, the schema, and any server that does not use that WSGI entry point)."""
        view = dossier_public_view(code=code)
        return Response(lookup_body(view, qr_url=request.build_absolute_uri(lookup_qr_path(view.code))))


def lookup_qr_path(code: str) -> str:
    return reverse("portal:lookup-qr", args=[code])


def lookup_body(view: PublicView, *, qr_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": view.code,
        "qr": qr_url,
        "valid": view.valid,
        "receiving_agency": view.receiving_agency,
        "applicant_name": view.applicant_name,
        "received_at": view.received_at,
    }
    if view.valid:
        body["handling_departments"] = list(view.handling_departments)
        if view.organisation_name:
            body["organisation_name"] = view.organisation_name
        body["appointment_at"] = view.appointment_at
    return body
