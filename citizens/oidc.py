"""Citizens' single sign-on with the national electronic identity (OpenID Connect, mozilla-django-oidc).

The backend answers only the callback of the authorization-code flow (/oidc/callback/): mozilla-django-oidc checks
the state and nonce, exchanges the code, verifies the id_token's RS256 signature against the provider's JWKS; this
subclass also checks the token's issuer and audience and that /userinfo speaks of the same subject, then maps the
claims (names configurable: OIDC_CLAIM_*) to a citizen account through citizens/services.py.

Accounts are matched by (provider, subject) only; see citizens/services.py for why not by the number.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import selectors, services

PROVIDER = "vneid"


def _claim(claims: dict[str, Any], setting: str) -> str:
    value = claims.get(getattr(settings, setting))
    return "" if value is None else str(value).strip()


def identity_from_claims(claims: dict[str, Any]) -> services.VerifiedIdentity:
    birth = _claim(claims, "OIDC_CLAIM_BIRTH_DATE")
    try:
        birth_date = dt.date.fromisoformat(birth) if birth else None
    except ValueError:
        birth_date = None  # OIDC allows "0000-MM-DD" (year withheld); we then check the number without it
    return services.VerifiedIdentity(
        provider=PROVIDER,
        subject=str(claims.get("sub") or ""),
        full_name=_claim(claims, "OIDC_CLAIM_NAME"),
        id_number=_claim(claims, "OIDC_CLAIM_ID_NUMBER"),
        birth_date=birth_date,
        phone=_claim(claims, "OIDC_CLAIM_PHONE"),
        email=_claim(claims, "OIDC_CLAIM_EMAIL"),
    )


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):  # type: ignore[no-untyped-def]
        # Only the callback view's call (nonce, code_verifier): never a password form's, whose request might
        # carry a ?code=&state= of its own.
        if set(kwargs) - {"nonce", "code_verifier"}:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):  # type: ignore[no-untyped-def]
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("id_token was issued to another client")
        if payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("id_token comes from another issuer")
        return payload

    def get_userinfo(self, access_token, id_token, payload):  # type: ignore[no-untyped-def]
        claims = super().get_userinfo(access_token, id_token, payload)
        # OIDC Core §5.3.2: the UserInfo sub must be the id_token's, or the answer must not be used.
        if str(claims.get("sub")) != str(payload.get("sub")):
            raise SuspiciousOperation("userinfo sub differs from the id_token's")
        return claims

    def verify_claims(self, claims):  # type: ignore[no-untyped-def]
        return bool(claims.get("sub"))  # the rest is checked, with a message for the citizen, by the services

    def filter_users_by_claims(self, claims):  # type: ignore[no-untyped-def]
        return selectors.citizen_users_by_subject(provider=PROVIDER, subject=str(claims.get("sub") or ""))

    def create_user(self, claims):  # type: ignore[no-untyped-def]
        return services.citizen_create_verified(identity=identity_from_claims(claims)).user

    def update_user(self, user, claims):  # type: ignore[no-untyped-def]
        return services.citizen_update_verified(user=user, identity=identity_from_claims(claims)).user
