"""Citizens' accounts: sign-in (local password or the national electronic identity), registration, sign-out,
profile and password.

Staff sign in at the back office (/mot-cua/dang-nhap/); this sign-in refuses their accounts. Failed sign-ins are
throttled per user name and per client address (core/ratelimit.py).
"""

import logging
from functools import wraps
from urllib.parse import urlencode

import jwt
import requests
from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousOperation
from django.forms.forms import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from citizens.models import Citizen
from citizens.selectors import citizen_for_user, is_staff_account, user_for_sign_in
from citizens.services import citizen_profile_update, citizen_register
from core.errors import DomainError
from core.ratelimit import (
    client_address,
    login_failure_record,
    login_success_record,
    login_wait,
    login_wait_message,
)
from organizations.selectors import commune_list

logger = logging.getLogger(__name__)

STAFF_LOGIN = "/mot-cua/dang-nhap/"


def citizen_required(view):  # type: ignore[no-untyped-def]
    """Signed in with a citizen account; the citizen is passed to the view as ``citizen=``. Anonymous visitors go
    to the sign-in page and come back; staff and other accounts get a page saying where they belong."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        citizen = citizen_for_user(user=request.user)
        if citizen is None:
            return render(request, "403.html", {"citizen_only": True, "staff_login": STAFF_LOGIN}, status=403)
        request.user.citizen = citizen  # the menu shows the name: no second query for it
        return view(request, *args, citizen=citizen, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _apply_errors(form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    placed = False
    for field, message in detail.items():
        name = (aliases or {}).get(field, field)
        if message and name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# -- sign-in -----------------------------------------------------------------------------------------------------


class SignInForm(forms.Form):
    identifier = forms.CharField(
        label=gettext_lazy("Personal identification number or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = None
        self.throttle_key = ""
        self.wait: int | None = None

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        identifier, password = data.get("identifier"), data.get("password")
        if not identifier or not password:
            return data
        client = client_address(self.request)
        account = user_for_sign_in(identifier=identifier)
        # Counted against the account, however it was named (its number or its email), else against what was typed.
        self.throttle_key = account.get_username() if account is not None else identifier
        self.wait = login_wait(username=self.throttle_key, client=client)
        if self.wait is not None:
            raise forms.ValidationError(login_wait_message(self.wait), code="throttled")
        # With an unknown account Django still hashes the password once: the answer takes as long either way.
        user = auth.authenticate(
            self.request, username=account.get_username() if account is not None else identifier, password=password
        )
        if user is None:
            login_failure_record(username=self.throttle_key, client=client)
            logger.warning("sign-in failed portal=citizen account=%s client=%s", self.throttle_key[:64], client)
            raise forms.ValidationError(
                _("The personal identification number, email or password is not correct."), code="invalid_login"
            )
        if is_staff_account(user=user):
            raise forms.ValidationError(
                _("This is a staff account. Staff sign in at the one-stop back office: %(url)s") % {"url": STAFF_LOGIN},
                code="staff",
            )
        if citizen_for_user(user=user) is None:
            raise forms.ValidationError(_("This account is not a citizen's account."), code="not_citizen")
        self.user = user
        return data


def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated and citizen_for_user(user=request.user) is not None:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    form = SignInForm(request, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            auth.login(request, form.user)
            login_success_record(username=form.throttle_key)
            return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            status = 429
    response = render(
        request,
        "portal/account/login.html",
        {"form": form, "next": next_url, "sso_url": _sso(next_url), "staff_login": STAFF_LOGIN},
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(form.wait)
    return response


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """mozilla-django-oidc's callback, answering every failure on the portal's sign-in page with a message."""

    @property
    def failure_url(self) -> str:
        return reverse("portal:login")

    def login_failure(self):  # type: ignore[no-untyped-def]
        if self.request.GET.get("error") == "access_denied":
            messages.info(self.request, _("Sign-in with the electronic identity was cancelled."))
        else:
            messages.error(self.request, _("Sign-in with the electronic identity did not succeed. Please try again."))
        return super().login_failure()

    def get(self, request):  # type: ignore[no-untyped-def]
        try:
            return super().get(request)
        except DomainError as exc:  # refused by the services: staff account, no valid number, ...
            logger.warning("single sign-on refused: %s", exc.message)
            message = exc.message
        except (requests.ConnectionError, requests.Timeout):
            logger.exception("identity provider unreachable")
            message = _(
                "The electronic identity service cannot be reached now. Please try again later, or sign in with "
                "your password."
            )
        except (SuspiciousOperation, jwt.InvalidTokenError, requests.HTTPError, ValueError, KeyError):
            # Tampered or replayed state, a signature that does not verify, a code the provider refused.
            logger.warning("single sign-on failed", exc_info=True)
            message = _("Sign-in with the electronic identity did not succeed. Please try again.")
        messages.error(request, message)
        return redirect("portal:login")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    id_token = request.session.get("oidc_id_token")
    auth.logout(request)
    home = request.build_absolute_uri(reverse("portal:home"))
    if id_token and settings.OIDC_OP_LOGOUT_ENDPOINT:
        # End the session at the identity provider too (OIDC RP-initiated logout); it sends the citizen back home.
        query = urlencode(
            {"id_token_hint": id_token, "post_logout_redirect_uri": home, "client_id": settings.OIDC_RP_CLIENT_ID}
        )
        return redirect(f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}")
    return redirect("portal:home")


# -- registration ------------------------------------------------------------------------------------------------


class RegisterForm(forms.Form):
    full_name = forms.CharField(
        label=gettext_lazy("Full name"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=gettext_lazy("Personal identification number"),
        max_length=12,
        help_text=gettext_lazy("12 digits, as on your citizen identity card. It is also your user name."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username"}),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"), max_length=20, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    )
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        help_text=gettext_lazy("Optional. You can then also sign in with it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


def register(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated and citizen_for_user(user=request.user) is not None:
        return redirect(next_url or "portal:profile")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            citizen = citizen_register(
                full_name=d["full_name"],
                id_number=d["id_number"],
                birth_date=d["birth_date"],
                phone=d["phone"],
                email=d["email"] or "",
                password=d["password1"],
            )
        except DomainError as exc:
            _apply_errors(form, exc, {"password": "password1"})
        else:
            auth.login(request, citizen.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Your account has been created. Welcome, %(name)s.") % {"name": citizen.full_name}
            )
            return redirect(next_url or "portal:profile")
    status = 400 if form.is_bound else 200
    return render(
        request,
        "portal/account/register.html",
        {"form": form, "next": next_url, "sso_url": _sso(next_url)},
        status=status,
    )


def _sso(next_url: str) -> str:
    return reverse("oidc_authentication_init") + (f"?{urlencode({'next': next_url})}" if next_url else "")


# -- profile and password ----------------------------------------------------------------------------------------


class ProfileForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    address = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=255,
        required=False,
        help_text=gettext_lazy("House number, street, hamlet or quarter."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    commune = forms.ModelChoiceField(
        label=gettext_lazy("Commune, ward or special zone"),
        queryset=commune_list(),
        to_field_name="code",
        required=False,
    )

    def __init__(self, *args, citizen: Citizen, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = commune_list().only("pk", "code", "name")
        self.fields["commune"].empty_label = "—"
        if citizen.identity_verified:
            # The identity provider's claims are shown read-only beside the form, not edited here.
            del self.fields["phone"]
            del self.fields["email"]


@citizen_required
def profile(request: HttpRequest, citizen: Citizen) -> HttpResponse:
    initial = {
        "phone": citizen.phone,
        "email": citizen.email,
        "address": citizen.address,
        "commune": citizen.commune.code if citizen.commune else None,
    }
    form = ProfileForm(request.POST or None, initial=initial, citizen=citizen)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                citizen_profile_update(
                    citizen=citizen,
                    phone=d.get("phone") if "phone" in form.fields else None,
                    email=d.get("email") if "email" in form.fields else None,
                    address=d["address"] or "",
                    commune_code=d["commune"].code if d["commune"] else None,
                )
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Your details have been saved."))
                return redirect("portal:profile")
        status = 400
    return render(
        request,
        "portal/account/profile.html",
        {"form": form, "citizen": citizen, "has_password": request.user.has_usable_password()},
        status=status,
    )


@citizen_required
def password_change(request: HttpRequest, citizen: Citizen) -> HttpResponse:
    if not request.user.has_usable_password():
        return render(request, "portal/account/password.html", {"form": None, "citizen": citizen})
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        auth.update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect("portal:profile")
    status = 400 if form.is_bound else 200
    return render(request, "portal/account/password.html", {"form": form, "citizen": citizen}, status=status)


urlpatterns = [
    path("dang-nhap/", login, name="login"),
    path("dang-ky/", register, name="register"),
    path("dang-xuat/", logout, name="logout"),
    path("tai-khoan/", profile, name="profile"),
    path("tai-khoan/mat-khau/", password_change, name="password-change"),
]
