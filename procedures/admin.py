from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed

from .importing import ImportReport, catalogue_import_queue, import_format
from .models import CatalogueImport, Competence, Component, Fee, Field, Procedure


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


class CatalogueImportForm(forms.ModelForm):
    class Meta:
        model = CatalogueImport
        fields = ["file", "format", "close_missing"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if "format" in self.fields:  # not on the read-only page of a past import
            self.fields["format"].required = False
            self.fields["format"].help_text = _("Empty: from the file's extension.")

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if upload := cleaned.get("file"):
            try:
                cleaned["format"] = import_format(name=upload.name, given=cleaned.get("format") or "")
            except ValidationFailed as exc:
                self.add_error("format", exc.message)
        return cleaned


@admin.register(CatalogueImport)
class CatalogueImportAdmin(admin.ModelAdmin):
    """Upload a national catalogue export; a worker imports it while the list shows its progress."""

    form = CatalogueImportForm
    list_display = ["__str__", "state", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["created_by"]
    result_fields = [
        "state",
        "progress",
        "total",
        "done",
        "created",
        "updated",
        "closed",
        "unchanged",
        "error_list",
        "started_at",
        "finished_at",
        "created_by",
    ]
    readonly_fields = ["progress", "error_list"]

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        upload = ["file", "format", "close_missing"]
        return upload if obj is None else [*upload, *self.result_fields]

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # an import is a record of what happened: uploaded once, then only read

    def save_model(self, request, obj, form, change) -> None:  # type: ignore[no-untyped-def]
        obj.created_by = request.user
        catalogue_import_queue(record=obj)

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        # While an import runs the list reloads itself, so its progress moves without a click.
        refresh = CatalogueImport.objects.unfinished().exists()
        return super().changelist_view(request, {**(extra_context or {}), "refresh": refresh})

    @admin.display(description=_("progress"))
    def progress(self, obj: CatalogueImport) -> str:
        value, maximum = (obj.done, obj.total) if obj.total else (int(obj.state == CatalogueImport.State.DONE), 1)
        return format_html(
            '<progress value="{}" max="{}">{} / {}</progress> {} / {}<br>{}',
            value,
            maximum,
            obj.done,
            obj.total,
            obj.done,
            obj.total,
            ImportReport.of(obj).summary(),
        )

    @admin.display(description=_("errors"))
    def error_list(self, obj: CatalogueImport) -> str:
        lines = ImportReport.of(obj).error_lines()
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((line,) for line in lines)))
