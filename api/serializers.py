from rest_framework import serializers

from organizations.models import Agency
from procedures.models import Competence, Component, Fee, Procedure


class FieldRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProcedureListSerializer(serializers.ModelSerializer):
    field = FieldRefSerializer()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Procedure
        fields = [
            "code",
            "code_is_illustrative",
            "name",
            "level",
            "field",
            "processing_time",
            "time_unit",
            "target_time",
            "online_level",
            "postal_allowed",
            "url",
        ]

    def get_url(self, obj: Procedure) -> str:
        request = self.context.get("request")
        path = f"/api/v1/procedures/{obj.code}/"
        return request.build_absolute_uri(path) if request else path


class ComponentSerializer(serializers.ModelSerializer):
    template_url = serializers.SerializerMethodField()

    class Meta:
        model = Component
        fields = ["order", "name", "required", "originals", "copies", "form_name", "template_url"]

    def get_template_url(self, obj: Component) -> str | None:
        if not obj.template:
            return None
        request = self.context.get("request")
        path = f"/thu-tuc/{obj.procedure.code}/mau/{obj.order}/"
        return request.build_absolute_uri(path) if request else path


class FeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fee
        fields = ["name", "amount", "note"]


class AgencyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["identifier", "name", "level"]


class CompetenceSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer()
    counters = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Competence
        fields = ["agency", "department_kind", "counters", "valid_from", "valid_until"]


class ProcedureDetailSerializer(ProcedureListSerializer):
    components = ComponentSerializer(many=True)
    fees = FeeSerializer(many=True)
    competences = CompetenceSerializer(many=True)
    legal_basis = serializers.ListField(source="legal_basis_lines", child=serializers.CharField())
    steps = serializers.ListField(source="step_lines", child=serializers.CharField())

    class Meta(ProcedureListSerializer.Meta):
        fields = [
            *ProcedureListSerializer.Meta.fields,
            "after_15h_rule",
            "applicants",
            "legal_basis",
            "steps",
            "result",
            "status",
            "components",
            "fees",
            "competences",
        ]


class AgencySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(read_only=True, slug_field="identifier")
    commune = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = ["identifier", "name", "short_name", "level", "kind", "commune", "parent", "valid_from", "valid_until"]

    def get_commune(self, obj: Agency) -> dict | None:
        if obj.level != Agency.Level.COMMUNE:
            return None
        return {"code": obj.unit.code, "name": obj.unit.name, "kind": obj.unit.kind}
