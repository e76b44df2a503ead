from django.contrib import admin

from .models import Faq, Feedback, Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["dossier", "level", "user", "created_at"]
    list_filter = ["level"]
    search_fields = ["dossier__code", "user__username"]
    raw_id_fields = ["dossier", "user"]
    date_hierarchy = "created_at"


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "agency", "status", "received_at", "due_at", "answered_on_time", "public"]
    list_filter = ["kind", "status", "answered_on_time", "public"]
    search_fields = ["title", "content", "name", "dossier__code"]
    raw_id_fields = ["author", "dossier", "agency", "field", "answered_by"]
    date_hierarchy = "received_at"


@admin.register(Faq)
class FaqAdmin(admin.ModelAdmin):
    list_display = ["question", "field", "order", "published"]
    list_filter = ["published", "field"]
    list_editable = ["order", "published"]
    search_fields = ["question", "answer"]
