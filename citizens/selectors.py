"""Reads on citizens' accounts."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

from organizations.models import Staff

from .models import Citizen


def citizen_for_user(*, user: Any) -> Citizen | None:
    """The signed-in user's citizen account, with the commune, or None (anonymous, staff, or no account)."""
    if user is None or not user.is_authenticated:
        return None
    return Citizen.objects.select_related("commune", "user").filter(user_id=user.pk).first()


def is_staff_account(*, user: Any) -> bool:
    """An account of the administration: an officer of an agency or an administrator of the system. Such accounts
    sign in at the back office (/mot-cua/dang-nhap/) or the administration, never as citizens."""
    if user.is_staff or user.is_superuser:
        return True
    return Staff.objects.filter(user_id=user.pk).exists()


def user_for_sign_in(*, identifier: str) -> Any | None:
    """The account a sign-in form means: its user name (a local citizen account's is the personal identification
    number), else the one account with a password that has this email address. None when there is no such account,
    or when several share the address (the form then says the details are wrong)."""
    identifier = identifier.strip()
    if not identifier:
        return None
    User = get_user_model()
    user = User.objects.filter(username=identifier).first()
    if user is not None or "@" not in identifier:
        return user
    # Accounts from single sign-on have no usable password: they cannot sign in with one anyway.
    matches = list(
        User.objects.filter(email__iexact=identifier).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)[:2]
    )
    return matches[0] if len(matches) == 1 else None


def citizen_users_by_subject(*, provider: str, subject: str) -> Any:
    """The users whose citizen account came from this provider's subject (at most one: a unique constraint)."""
    users = get_user_model().objects.all()
    if not provider or not subject:
        return users.none()
    return users.filter(citizen__provider=provider, citizen__subject=subject)


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    qs = get_user_model().objects.filter(email__iexact=email)
    if exclude_user_id is not None:
        qs = qs.exclude(pk=exclude_user_id)
    return qs.exists()
