from django.contrib import admin

from organizations.admin import AgencyScopedAdmin

from .models import DeadlineAlert, Notification


class ReadOnlyAdmin(AgencyScopedAdmin):
    """Written by the deadline scan only: administrators look, they do not edit."""

    agency_path = "dossier__agency"
    show_full_result_count = False  # large tables: no second count(*) per page

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(DeadlineAlert)
class DeadlineAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "threshold", "dossier", "task"]
    list_filter = ["threshold"]
    list_select_related = ["dossier"]
    search_fields = ["=dossier__code"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "staff", "kind", "message", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["staff__user", "dossier"]
    search_fields = ["=dossier__code", "staff__user__username"]
