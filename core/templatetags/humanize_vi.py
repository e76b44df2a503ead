from django import template

register = template.Library()


@register.filter
def vnd(amount: int | None) -> str:
    """12000 -> '12.000 đ' (Vietnamese groups thousands with dots)."""
    if amount is None:
        return ""
    return f"{int(amount):,}".replace(",", ".") + " đ"
