from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import InboundReceipt, InboundSystem, new_secret

# The secret is shown on this page once, when it is made, and never again (not even to administrators): it is
# rendered here rather than put in a flash message, which the default message storage keeps in a cookie.
_SECRETS_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}
<p>{% translate "Give each system its key and secret now: the secret is not shown again." %}</p>
<table>
<thead><tr>
<th>{% translate "System" %}</th><th>{% translate "API key" %}</th><th>{% translate "Secret" %}</th>
</tr></thead>
<tbody>{% for system in systems %}
<tr><td>{{ system.name }} ({{ system.code }})</td><td><code>{{ system.key_id }}</code></td>
<td><code>{{ system.secret }}</code></td></tr>{% endfor %}</tbody>
</table>
<p><a href="{{ back }}">{% translate "Back to the inbound systems" %}</a></p>
{% endblock %}"""
)


@admin.register(InboundSystem)
class InboundSystemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "key_id", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "key_id"]
    fields = ["code", "name", "key_id", "is_active", "agencies"]
    readonly_fields = ["key_id"]
    autocomplete_fields = ["agencies"]
    actions = ["issue_new_secret"]

    def _secrets_page(self, request: HttpRequest, systems: list[InboundSystem]) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Signing secrets"),
            "systems": systems,
            "back": reverse("admin:sync_inboundsystem_changelist"),
        }
        response = TemplateResponse(request, _SECRETS_PAGE, context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request: HttpRequest, obj: InboundSystem, post_url_continue: str | None = None):  # type: ignore[no-untyped-def,override]
        return self._secrets_page(request, [obj])

    @admin.action(description=_("Issue a new signing secret (the old one stops working)"))
    def issue_new_secret(self, request: HttpRequest, queryset: QuerySet[InboundSystem]) -> HttpResponse:
        systems = list(queryset)
        for system in systems:
            system.secret = new_secret()
            system.save(update_fields=["secret"])
        return self._secrets_page(request, systems)


@admin.register(InboundReceipt)
class InboundReceiptAdmin(admin.ModelAdmin):
    """What the systems sent and what they were answered: read only."""

    list_display = ["received_at", "system", "dossier_code", "idempotency_key"]
    list_filter = ["system"]
    search_fields = ["=dossier_code", "=idempotency_key"]
    list_select_related = ["system"]
    date_hierarchy = "received_at"
    exclude = ["signature"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InboundReceipt | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InboundReceipt | None = None) -> bool:
        return False
