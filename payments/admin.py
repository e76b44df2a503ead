from django.contrib import admin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Read only: a payment changes only through the gateway's signed messages (payments.services)."""

    list_display = ["txn_ref", "reference", "amount", "state", "transaction_no", "bank_code", "paid_at", "created_at"]
    list_filter = ["state", "confirmed_by"]
    search_fields = ["txn_ref", "reference", "transaction_no", "user__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
