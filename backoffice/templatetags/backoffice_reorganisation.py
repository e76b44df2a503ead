"""The banner that sends administrators to the workflow checklist a reorganisation left them
(backoffice/reorganisation.py)."""

from django import template

from workflows.selectors import checklist_open_count

register = template.Library()


@register.inclusion_tag("backoffice/reorganisation/_banner.html")
def checklist_banner(officer) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``{% checklist_banner officer %}``: how many checklist items wait for this administrator (none, no query, for
    other roles)."""
    return {"count": checklist_open_count(actor=officer) if officer is not None else 0}
