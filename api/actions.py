"""The workflow engine's actions over the API: list what the caller may do now, and do it."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dossiers import engine
from dossiers.selectors import access_dossier_for_officer
from workflows.models import Action

from .dossiers import DossierSerializer, _officer


class ActionInSerializer(serializers.Serializer):
    task = serializers.IntegerField(help_text="The current task's id, as listed by GET …/actions/ (optimistic check).")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    to_step = serializers.CharField(required=False, allow_blank=True, default="", help_text="A step key (branches).")
    assignee = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="Staff id (assign).")
    items = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    contact = serializers.CharField(required=False, allow_blank=True, default="")
    extra_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


_ACTIONS_OUT = inline_serializer(
    "DossierActions",
    {
        "code": serializers.CharField(),
        "status": serializers.IntegerField(),
        "current_step": serializers.CharField(),
        "task": serializers.IntegerField(allow_null=True),
        "deadline": serializers.CharField(),
        "actions": inline_serializer(
            "DossierAction",
            {
                "action": serializers.CharField(),
                "label": serializers.CharField(),
                "to_steps": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
    },
)


class ActionListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: _ACTIONS_OUT})
    def get(self, request: Request, code: str) -> Response:
        """The actions the caller may take on the dossier now, with the steps each can lead to."""
        officer = _officer(request)
        dossier = access_dossier_for_officer(officer=officer, code=code)
        available = engine.actions_available(officer=officer, dossier=dossier)
        return Response(
            {
                "code": dossier.code,
                "status": dossier.status,
                "current_step": dossier.current_step,
                "task": dossier.current_task_id,
                "deadline": engine.deadline_state(dossier=dossier),
                "actions": [
                    {
                        "action": a,
                        "label": str(Action(a).label),
                        "to_steps": [
                            {"key": s.key, "name": s.name}
                            for s in (engine.move_targets(dossier=dossier, action=a) if a in engine.MOVES else [])
                        ],
                    }
                    for a in available
                ],
            }
        )


class ActionView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=ActionInSerializer,
        responses={
            200: DossierSerializer,
            400: OpenApiResponse(description="Invalid input"),
            403: OpenApiResponse(description="Not allowed now"),
            404: OpenApiResponse(description="Unknown dossier"),
            409: OpenApiResponse(description="Another officer acted first; reload the actions"),
        },
    )
    def post(self, request: Request, code: str, action: str) -> Response:
        """Take one action (claim, forward, send back, request a supplement, …) on the dossier."""
        officer = _officer(request)
        serializer = ActionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        files = request.FILES.getlist("files") if hasattr(request.FILES, "getlist") else []
        dossier = engine.dossier_act(
            officer=officer,
            code=code,
            action=action,
            task_id=data["task"],
            data=engine.ActionInput(
                note=data["note"],
                to_step=data["to_step"],
                assignee_id=data["assignee"],
                items=data["items"],
                reason=data["reason"],
                contact=data["contact"],
                extra_days=data["extra_days"],
                files=files,
            ),
        )
        return Response(DossierSerializer(dossier, context={"request": request}).data)
