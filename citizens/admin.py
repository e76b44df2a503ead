from django.contrib import admin

from .models import Citizen, StoredDocument


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    list_display = ["full_name", "id_number", "phone", "email", "provider", "identity_verified"]
    search_fields = ["full_name", "id_number", "phone", "email"]
    list_filter = ["provider", "identity_verified"]
    raw_id_fields = ["user", "commune"]


@admin.register(StoredDocument)
class StoredDocumentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "origin", "dossier_code", "created_at"]
    search_fields = ["name", "dossier_code", "owner__username"]
    raw_id_fields = ["owner"]
