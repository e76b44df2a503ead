"""Writes on citizens' accounts: local registration, accounts from the national electronic identity (single
sign-on), and the profile.

Single sign-on finds an account by (provider, subject) only. A citizen who also registered locally with the same
personal identification number keeps two accounts: linking them by the number alone would let whoever typed the
number at registration (which nobody verified) inherit what the verified person does, or the reverse.
"""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.identity import personal_id_errors
from organizations.selectors import commune_list

from .models import Citizen
from .selectors import email_taken, is_staff_account

PHONE = re.compile(r"^0\d{9,10}$")


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the identity provider says signed in (its claims, already mapped to our names)."""

    provider: str
    subject: str
    full_name: str
    id_number: str
    birth_date: dt.date | None
    phone: str = ""
    email: str = ""


def phone_normalise(phone: str) -> str:
    """Vietnamese numbers as people write them: +84 912 345 678 and 0912.345.678 both become 0912345678."""
    digits = re.sub(r"[\s.()-]", "", phone.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def _contact_errors(*, phone: str, email: str, user_id: int | None, phone_required: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if phone and not PHONE.match(phone):
        errors["phone"] = _("Enter a Vietnamese phone number of 10 or 11 digits, starting with 0 (or +84).")
    elif not phone and phone_required:
        errors["phone"] = _("Enter a phone number: the agency calls it about your dossiers.")
    if email and not _email_valid(email):
        errors["email"] = _("Enter a valid email address.")
    elif email and email_taken(email=email, exclude_user_id=user_id):
        errors["email"] = _("Another account already uses this email address.")
    return errors


@transaction.atomic
def citizen_register(
    *, full_name: str, id_number: str, birth_date: dt.date, phone: str, email: str, password: str
) -> Citizen:
    """A local account: user name = the personal identification number, details as the citizen typed them (not
    verified: identity_verified stays false)."""
    full_name, id_number, email = full_name.strip(), id_number.strip(), email.strip()
    phone = phone_normalise(phone)
    errors: dict[str, str] = {}
    if not full_name:
        errors["full_name"] = _("Enter your full name.")
    if birth_date > timezone.localdate():
        errors["birth_date"] = _("The date of birth cannot be in the future.")
    if problems := personal_id_errors(id_number, birth_date=birth_date):
        errors["id_number"] = problems[0]
    User = get_user_model()
    if "id_number" not in errors and User.objects.filter(username=id_number).exists():
        errors["id_number"] = _(
            "An account with this personal identification number already exists. Sign in instead, or use your "
            "electronic identity account."
        )
    errors.update(_contact_errors(phone=phone, email=email, user_id=None, phone_required=True))
    try:
        validate_password(password, user=User(username=id_number, email=email, first_name=full_name))
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationFailed(_("Please correct the details below."), detail=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=id_number, email=email, password=password)
    except IntegrityError as exc:  # registered a moment ago by a concurrent request
        raise Conflict(
            _("An account with this personal identification number already exists."),
            detail={"id_number": _("An account with this personal identification number already exists.")},
        ) from exc
    return Citizen.objects.create(
        user=user, full_name=full_name, id_number=id_number, birth_date=birth_date, phone=phone, email=email
    )


def _identity_checked(identity: VerifiedIdentity, *, citizen_id: int | None) -> VerifiedIdentity:
    if not identity.subject:
        raise ValidationFailed(_("The identity provider did not say who signed in."))
    if not identity.full_name:
        raise ValidationFailed(_("The identity provider did not send your name; the portal cannot open an account."))
    problems = personal_id_errors(identity.id_number, birth_date=identity.birth_date)
    if not identity.id_number or problems:
        raise ValidationFailed(
            _(
                "The identity provider did not send a valid personal identification number, so the portal cannot "
                "open your account. Please contact the public-administration service centre."
            ),
            detail={"id_number": problems[0] if problems else ""},
        )
    others = Citizen.objects.filter(id_number=identity.id_number, identity_verified=True)
    if citizen_id is not None:
        others = others.exclude(pk=citizen_id)
    if others.exists():
        raise Conflict(
            _(
                "Another verified account already has this personal identification number. Please contact the "
                "public-administration service centre."
            )
        )
    phone = phone_normalise(identity.phone)
    email = identity.email.strip()
    return VerifiedIdentity(
        provider=identity.provider,
        subject=identity.subject,
        full_name=identity.full_name.strip()[:255],
        id_number=identity.id_number,
        birth_date=identity.birth_date,
        # Contact details the provider sends in a shape we cannot use are dropped rather than refused.
        phone=phone if PHONE.match(phone) else "",
        email=email if _email_valid(email) else "",
    )


def _email_valid(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _username_for(provider: str, subject: str) -> str:
    name = f"{provider}:{subject}"
    # User names hold 150 characters; a longer subject is hashed (never cut: two subjects could share a prefix).
    return name if len(name) <= 150 else f"{provider}:{hashlib.sha256(subject.encode()).hexdigest()}"


@transaction.atomic
def citizen_create_verified(*, identity: VerifiedIdentity) -> Citizen:
    """A new account from a first single sign-on: verified identity, no password (it signs in only through the
    provider)."""
    identity = _identity_checked(identity, citizen_id=None)
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User(username=_username_for(identity.provider, identity.subject), email=identity.email)
            user.set_unusable_password()
            user.save()
            citizen = Citizen.objects.create(
                user=user,
                full_name=identity.full_name,
                id_number=identity.id_number,
                birth_date=identity.birth_date,
                phone=identity.phone,
                email=identity.email,
                provider=identity.provider,
                subject=identity.subject,
                identity_verified=True,
            )
    except IntegrityError as exc:  # the same person's other tab got there first
        raise Conflict(_("Your account is being opened in another window. Please try signing in again.")) from exc
    return citizen


@transaction.atomic
def citizen_update_verified(*, user: Any, identity: VerifiedIdentity) -> Citizen:
    """A later single sign-on: the provider's claims replace what we had (its contact details only when it sends
    them). Staff accounts are refused: they never sign in as citizens."""
    if is_staff_account(user=user):
        raise PermissionDenied(
            _("This is a staff account. Staff sign in at the one-stop back office: %(url)s")
            % {"url": "/mot-cua/dang-nhap/"}
        )
    citizen = Citizen.objects.select_for_update().select_related("user").get(user=user)
    if (citizen.provider, citizen.subject) != (identity.provider, identity.subject):
        raise PermissionDenied(_("This account is not linked to that electronic identity."))
    identity = _identity_checked(identity, citizen_id=citizen.pk)
    citizen.full_name = identity.full_name
    citizen.id_number = identity.id_number
    citizen.birth_date = identity.birth_date
    citizen.phone = identity.phone or citizen.phone
    citizen.email = identity.email or citizen.email
    citizen.identity_verified = True
    citizen.save()
    if citizen.user.email != citizen.email:
        citizen.user.email = citizen.email
        citizen.user.save(update_fields=["email"])
    return citizen


@transaction.atomic
def citizen_profile_update(
    *,
    citizen: Citizen,
    address: str,
    commune_code: int | None,
    phone: str | None = None,
    email: str | None = None,
) -> Citizen:
    """The citizen's own changes: address and commune, and phone and email (None: unchanged). A verified account's
    phone and email are the identity provider's: they change there, not here."""
    citizen = Citizen.objects.select_for_update().select_related("user").get(pk=citizen.pk)
    errors: dict[str, str] = {}
    if citizen.identity_verified and (
        (phone is not None and phone_normalise(phone) != citizen.phone)
        or (email is not None and email.strip() != citizen.email)
    ):
        raise PermissionDenied(_("Your phone and email come from your electronic identity account; change them there."))
    new_phone = citizen.phone if phone is None else phone_normalise(phone)
    new_email = citizen.email if email is None else email.strip()
    if not citizen.identity_verified:
        errors.update(_contact_errors(phone=new_phone, email=new_email, user_id=citizen.user_id, phone_required=False))
    commune = None
    if commune_code is not None:
        commune = commune_list().filter(code=commune_code).first()
        if commune is None:
            errors["commune"] = _("Choose a commune, ward or special zone of the province.")
    if len(address.strip()) > 255:
        errors["address"] = _("The address is too long (255 characters at most).")
    if errors:
        raise ValidationFailed(_("Please correct the details below."), detail=errors)
    citizen.phone, citizen.email = new_phone, new_email
    citizen.address = address.strip()
    citizen.commune = commune
    citizen.save(update_fields=["phone", "email", "address", "commune", "updated_at"])
    if citizen.user.email != new_email:
        citizen.user.email = new_email
        citizen.user.save(update_fields=["email"])
    return citizen
