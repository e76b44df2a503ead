from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Competence, Component, Fee, Field, Procedure


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0
    fields = ["order", "name", "required", "originals", "copies", "form_name", "template"]


class FeeInline(admin.TabularInline):
    model = Fee
    extra = 0


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "field", "processing_time", "time_unit", "online_level", "status"]
    list_filter = ["status", "level", "online_level", "time_unit", "postal_allowed", "code_is_illustrative", "field"]
    search_fields = ["code", "name"]
    list_select_related = ["field"]
    inlines = [ComponentInline, FeeInline]
    fieldsets = [
        (None, {"fields": ["code", "code_is_illustrative", "name", "field", "level", "status", "applicants"]}),
        (_("Processing time"), {"fields": ["processing_time", "target_time", "time_unit", "after_15h_rule"]}),
        (_("Service"), {"fields": ["online_level", "postal_allowed", "result"]}),
        (_("Content"), {"fields": ["legal_basis", "steps"]}),
    ]


@admin.register(Competence)
class CompetenceAdmin(admin.ModelAdmin):
    list_display = ["procedure", "agency", "department_kind", "valid_from", "valid_until"]
    list_filter = ["agency__level", "department_kind"]
    search_fields = ["procedure__code", "procedure__name", "agency__name", "agency__identifier"]
    list_select_related = ["procedure", "agency"]
    autocomplete_fields = ["procedure", "agency", "counters"]
