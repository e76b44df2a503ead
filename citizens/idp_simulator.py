"""A local stand-in for the national electronic-identity sign-on (VNeID-style OpenID Connect provider), run as its
own process:

    python -m citizens.idp_simulator --port 8791 [--host 127.0.0.1] [--issuer URL]
                                     [--client-id ID] [--client-secret SECRET] [--password DEMO_PASSWORD]

It speaks OpenID Connect Core 1.0, authorization-code flow, as a relying party sees it:

    GET  /.well-known/openid-configuration   discovery
    GET  /authorize        the sign-in page ("Đăng nhập bằng tài khoản định danh điện tử"): pick a demo user or
                           type a personal identification number and password; then 302 to redirect_uri with
                           ``code`` and ``state``. Honours client_id, redirect_uri, response_type=code, scope (must
                           hold "openid"), state, nonce, PKCE (S256, plain). POST /authorize is the page's form.
    POST /token            client_secret_post or client_secret_basic; codes are single-use (a replayed code also
                           revokes the access token it gave) and expire after --code-ttl seconds; the answer holds an
                           RS256 id_token (header ``kid``) with iss, sub, aud, exp, iat, auth_time, nonce, at_hash.
    GET|POST /userinfo     Bearer access token; claims by scope: profile = name, given_name, family_name, birthdate
                           (YYYY-MM-DD) and the personal identification number (``so_dinh_danh``); email = email;
                           phone = phone_number (E.164, +84...).
    GET  /jwks             the RSA public key, generated at start (``cryptography``)
    GET|POST /logout       end_session: id_token_hint, post_logout_redirect_uri, state

The client id and secret it accepts come from --client-id / --client-secret, else from OIDC_RP_CLIENT_ID /
OIDC_RP_CLIENT_SECRET in the environment (the same variables the portal reads), else the development defaults.
Unlike a real provider it accepts any http(s) redirect_uri unless --redirect-uri names the allowed ones.

Test control (not part of the protocol), JSON:
    POST /_sim/users  {"name", "id_number", "birthdate", "phone", "email", "password"?, "sub"?} add or replace a
                      user (by sub; sub defaults to one derived from the number, as for the demo users; without a
                      number the claim is left out); 201 + the user
    GET  /_sim/users  the users;  GET /_sim/state  counts
    POST /_sim/mode   {"bad_signature": bool} sign id_tokens with a key that is not the published one
    POST /_sim/reset  forget added users, codes, tokens and modes
Only the standard library and ``cryptography``: it starts in a fraction of a second and needs no database.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import html
import json
import os
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ID_CLAIM = "so_dinh_danh"
SCOPES = ["openid", "profile", "email", "phone"]
DEFAULT_CLIENT_ID = "angiang-portal"
DEFAULT_CLIENT_SECRET = "dev-oidc-secret"  # noqa: S105 - the simulator's development default
DEFAULT_PASSWORD = "VNeID@2025"  # noqa: S105 - the demo users' password, printed on the sign-in page
SUBJECT_NAMESPACE = uuid.UUID("5d0c3a52-6a43-4e83-9d1d-0d6b3c2f9a11")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def subject_for(id_number: str) -> str:
    # Stable across restarts: the portal matches accounts by (provider, sub), so a restarted simulator must give
    # the same person the same sub.
    return str(uuid.uuid5(SUBJECT_NAMESPACE, id_number))


@dataclass
class User:
    sub: str
    name: str
    id_number: str
    birthdate: str = ""
    phone: str = ""
    email: str = ""
    password: str = DEFAULT_PASSWORD
    given_name: str = ""
    family_name: str = ""

    def claims(self, scopes: set[str]) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.sub}
        if "profile" in scopes:
            family, _, given = self.name.partition(" ")
            claims.update(
                name=self.name,
                given_name=self.given_name or given,
                family_name=self.family_name or family,
                birthdate=self.birthdate,
            )
            if self.id_number:
                claims[ID_CLAIM] = self.id_number
        if "email" in scopes and self.email:
            claims.update(email=self.email, email_verified=True)
        if "phone" in scopes and self.phone:
            claims.update(phone_number=self.phone, phone_number_verified=True)
        return claims


# Numbers consistent with the birth year (core/identity.py): province of registration, gender-and-century digit,
# two digits of the year, six more.
DEMO_USERS = [
    ("Nguyễn Văn An", "089085001234", "1985-04-12", "+84912345678", "an.nguyen@example.vn"),
    ("Trần Thị Bích Ngọc", "091192004567", "1992-09-30", "+84987654321", "ngoc.tran@example.vn"),
    ("Lê Hoàng Phúc", "089203007890", "2003-01-15", "+84901234567", "phuc.le@example.vn"),
    ("Phạm Thị Thu Hà", "091301002345", "2001-06-20", "+84938123456", "ha.pham@example.vn"),
]


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}
        self.headers = headers or {}


class Provider:
    """The provider's state; one lock keeps every operation atomic."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        password: str = DEFAULT_PASSWORD,
        redirect_uris: list[str] | None = None,
        code_ttl: int = 60,
        token_ttl: int = 600,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.password = password
        self.redirect_uris = redirect_uris or []
        self.code_ttl = code_ttl
        self.token_ttl = token_ttl
        self.lock = threading.Lock()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        self.jwk = {
            "kty": "RSA",
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
        # RFC 7638 thumbprint as the key id.
        canonical = json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()
        self.kid = b64url(hashlib.sha256(canonical).digest())
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, User] = {}
        for name, number, birthdate, phone, email in DEMO_USERS:
            user = User(subject_for(number), name, number, birthdate, phone, email, self.password)
            self.users[user.sub] = user
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.bad_signature = False
        self.counts = {"codes": 0, "tokens": 0, "token_refused": 0, "userinfo": 0, "logouts": 0}

    # -- keys and tokens ---------------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.jwk, "use": "sig", "alg": "RS256", "kid": self.kid}]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = ".".join(
            b64url(json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode()) for part in (header, claims)
        )
        key = self.foreign_key if self.bad_signature else self.key
        signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this provider signed (expired or not), else None."""
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            self.key.public_key().verify(
                b64url_decode(signature_b64),
                f"{header_b64}.{claims_b64}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(b64url_decode(claims_b64))
        except (ValueError, InvalidSignature, binascii.Error, UnicodeError):
            return None
        return claims if isinstance(claims, dict) else None

    # -- the authorization endpoint -----------------------------------------------------------------------------

    def redirect_uri_allowed(self, uri: str) -> bool:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            return False
        return not self.redirect_uris or uri in self.redirect_uris

    def check_request(self, params: dict[str, str]) -> tuple[str | None, str | None]:
        """(message for an error page, OAuth error to send back to the client); both None when the request is good.
        An unknown client or redirect URI gets a page: never redirect to an address the client did not register."""
        if not hmac.compare_digest(params.get("client_id", ""), self.client_id):
            return "Ứng dụng (client_id) chưa được đăng ký với hệ thống định danh.", None
        if not self.redirect_uri_allowed(params.get("redirect_uri", "")):
            return "Địa chỉ quay lại (redirect_uri) không hợp lệ hoặc chưa được đăng ký.", None
        if params.get("response_type") != "code":
            return None, "unsupported_response_type"
        if "openid" not in params.get("scope", "").split():
            return None, "invalid_scope"
        if params.get("code_challenge") and params.get("code_challenge_method", "plain") not in ("S256", "plain"):
            return None, "invalid_request"
        return None, None

    def user_by_number(self, id_number: str, password: str) -> User | None:
        with self.lock:
            found = next((u for u in self.users.values() if u.id_number == id_number), None)
        if found is None or not hmac.compare_digest(found.password.encode(), password.encode()):
            return None
        return found

    def issue_code(self, params: dict[str, str], user: User) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "scope": params.get("scope", "openid"),
                "nonce": params.get("nonce"),
                "code_challenge": params.get("code_challenge"),
                "code_challenge_method": params.get("code_challenge_method", "plain"),
                "sub": user.sub,
                "auth_time": int(time.time()),
                "expires": time.time() + self.code_ttl,
                "used": False,
                "access_token": None,
            }
            self.counts["codes"] += 1
        return code

    # -- the token endpoint -------------------------------------------------------------------------------------

    def authenticate_client(self, form: dict[str, str], authorization: str) -> None:
        basic = authorization.startswith("Basic ")
        if basic:
            if "client_secret" in form:
                raise OAuthError(400, "invalid_request", "Only one client authentication method may be used.")
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (ValueError, binascii.Error, UnicodeError) as exc:
                raise OAuthError(401, "invalid_client", "Malformed Basic credentials.") from exc
            raw_id, _, raw_secret = decoded.partition(":")
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if form.get("client_id", client_id) != client_id:
                raise OAuthError(400, "invalid_request", "client_id differs from the authenticated client.")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        good = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & hmac.compare_digest(
            secret.encode(), self.client_secret.encode()
        )
        if not good:
            headers = {"WWW-Authenticate": 'Basic realm="token"'} if basic else {}
            raise OAuthError(401, "invalid_client", "Client authentication failed.", headers)

    def exchange(self, form: dict[str, str], authorization: str) -> dict[str, Any]:
        try:
            self.authenticate_client(form, authorization)
            if form.get("grant_type") != "authorization_code":
                raise OAuthError(400, "unsupported_grant_type", "Only authorization_code is supported.")
            with self.lock:
                return self._exchange_locked(form)
        except OAuthError:
            with self.lock:
                self.counts["token_refused"] += 1
            raise

    def _exchange_locked(self, form: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        grant = self.codes.get(form.get("code", ""))
        if grant is None:
            raise OAuthError(400, "invalid_grant", "Unknown authorization code.")
        if grant["used"]:
            # RFC 6749 §4.1.2: a code used twice revokes what it gave the first time.
            self.tokens.pop(grant["access_token"] or "", None)
            raise OAuthError(400, "invalid_grant", "The authorization code was already used.")
        grant["used"] = True
        if grant["expires"] < now:
            raise OAuthError(400, "invalid_grant", "The authorization code has expired.")
        if grant["client_id"] != self.client_id or form.get("redirect_uri") != grant["redirect_uri"]:
            raise OAuthError(400, "invalid_grant", "redirect_uri or client does not match the authorization request.")
        if grant["code_challenge"]:
            verifier = form.get("code_verifier", "")
            if grant["code_challenge_method"] == "S256":
                verifier = b64url(hashlib.sha256(verifier.encode()).digest())
            if not verifier or not hmac.compare_digest(verifier, grant["code_challenge"]):
                raise OAuthError(400, "invalid_grant", "PKCE verification failed.")
        user = self.users.get(grant["sub"])
        if user is None:
            raise OAuthError(400, "invalid_grant", "The user no longer exists.")
        access_token = secrets.token_urlsafe(32)
        grant["access_token"] = access_token
        self.tokens[access_token] = {"sub": user.sub, "scope": grant["scope"], "expires": now + self.token_ttl}
        self.counts["tokens"] += 1
        claims = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": self.client_id,
            "azp": self.client_id,
            "exp": int(now) + self.token_ttl,
            "iat": int(now),
            "auth_time": grant["auth_time"],
            # OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token.
            "at_hash": b64url(hashlib.sha256(access_token.encode("ascii")).digest()[:16]),
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": grant["scope"],
            "id_token": self.sign(claims),
        }

    # -- userinfo, logout, test control -----------------------------------------------------------------------

    def userinfo(self, authorization: str) -> dict[str, Any]:
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        with self.lock:
            grant = self.tokens.get(token)
            if grant is None or grant["expires"] < time.time():
                raise OAuthError(401, "invalid_token", "Missing, unknown or expired access token.", challenge)
            user = self.users.get(grant["sub"])
            if user is None:
                raise OAuthError(401, "invalid_token", "The user no longer exists.", challenge)
            self.counts["userinfo"] += 1
            return user.claims(set(grant["scope"].split()))

    def end_session(self, sub: str | None) -> None:
        with self.lock:
            self.counts["logouts"] += 1
            if sub:
                for token in [t for t, grant in self.tokens.items() if grant["sub"] == sub]:
                    del self.tokens[token]

    def add_user(self, data: dict[str, Any]) -> User:
        name, number = str(data.get("name") or "").strip(), str(data.get("id_number") or "").strip()
        sub = str(data.get("sub") or (subject_for(number) if number else ""))
        if not name or not sub:
            raise ValueError("name and either id_number or sub are required")
        fields = {f: str(data[f]) for f in ("birthdate", "phone", "email", "given_name", "family_name") if f in data}
        user = User(
            sub,
            name,
            number,
            password=str(data.get("password") or self.password),
            **fields,
        )
        with self.lock:
            self.users[user.sub] = user
        return user

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "claims_supported": [
                "sub",
                "name",
                "given_name",
                "family_name",
                "birthdate",
                ID_CLAIM,
                "email",
                "email_verified",
                "phone_number",
                "phone_number_verified",
            ],
        }


# -- the sign-in page (Vietnamese, as the real one) ------------------------------------------------------------------

PAGE_STYLE = """
body{margin:0;font-family:"Liberation Sans",Arial,sans-serif;background:#f2f4f7;color:#1d1d1f;line-height:1.5}
header{background:#b3261e;color:#fff;padding:.8rem 1rem}header p{margin:0;font-size:.85rem;opacity:.9}
main{max-width:32rem;margin:0 auto;padding:1rem}h1{font-size:1.35rem;margin:.2rem 0}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}section{background:#fff;border:1px solid #d9dce1;border-radius:8px;
padding:1rem;margin-bottom:1rem}ul{list-style:none;padding:0;margin:0}li{margin:.4rem 0}
button{font:inherit;border:0;border-radius:6px;padding:.65rem 1rem;background:#0b57a4;color:#fff;cursor:pointer}
button.user{width:100%;text-align:left;background:#fff;color:#1d1d1f;border:1px solid #9aa0a8}
button.user span{display:block;font-size:.85rem;color:#5c5f66}button.secondary{background:#5c5f66}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}input{width:100%;box-sizing:border-box;font:inherit;
padding:.55rem;border:1px solid #9aa0a8;border-radius:5px}.error{color:#b3261e;font-weight:600}
.note{color:#5c5f66;font-size:.9rem}
"""

SCOPE_TEXT = {
    "profile": "họ tên, ngày sinh, số định danh cá nhân",
    "email": "thư điện tử",
    "phone": "số điện thoại",
}


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("action", "user", "id_number", "password")
    )


def sign_in_page(provider: Provider, params: dict[str, str], *, error: str = "", id_number: str = "") -> str:
    e = html.escape
    hidden = _hidden(params)
    asked = [SCOPE_TEXT[s] for s in params.get("scope", "").split() if s in SCOPE_TEXT]
    with provider.lock:
        users = list(provider.users.values())
    buttons = "".join(
        f'<li><button class="user" type="submit" name="user" value="{e(u.sub)}">{e(u.name)}'
        f"<span>Số định danh {e(u.id_number)} · sinh ngày {e(u.birthdate)}</span></button></li>"
        for u in users
    )
    invalid = ' aria-invalid="true" aria-describedby="sign-in-error"' if error else ""
    error_html = f'<p class="error" id="sign-in-error" role="alert">{e(error)}</p>' if error else ""
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Đăng nhập bằng tài khoản định danh điện tử</title><style>{PAGE_STYLE}</style></head>
<body><header><p>Hệ thống định danh và xác thực điện tử — bản mô phỏng để phát triển và kiểm thử</p></header>
<main>
<h1>Đăng nhập bằng tài khoản định danh điện tử</h1>
<p>Ứng dụng <strong>{e(params.get("client_id", ""))}</strong> đề nghị được biết:
{e(", ".join(asked) or "mã định danh tài khoản")}.</p>
<section aria-labelledby="pick">
<h2 id="pick">Chọn tài khoản thử nghiệm</h2>
<form method="post" action="/authorize">{hidden}<input type="hidden" name="action" value="pick">
<ul>{buttons}</ul></form>
</section>
<section aria-labelledby="type">
<h2 id="type">Hoặc nhập số định danh cá nhân và mật khẩu</h2>
<form method="post" action="/authorize">{hidden}<input type="hidden" name="action" value="password">
{error_html}
<label for="id_number">Số định danh cá nhân</label>
<input id="id_number" name="id_number" inputmode="numeric" autocomplete="username" required
 value="{e(id_number)}"{invalid}>
<label for="password">Mật khẩu</label>
<input id="password" name="password" type="password" autocomplete="current-password" required{invalid}>
<p><button type="submit">Đăng nhập</button></p>
<p class="note">Mật khẩu của các tài khoản thử nghiệm: <code>{e(provider.password)}</code></p>
</form>
</section>
<form method="post" action="/authorize">{hidden}<input type="hidden" name="action" value="cancel">
<button class="secondary" type="submit">Hủy và quay lại</button></form>
</main></body></html>"""


def message_page(title: str, message: str) -> str:
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title><style>{PAGE_STYLE}</style></head>
<body><header><p>Hệ thống định danh và xác thực điện tử — bản mô phỏng</p></header>
<main><h1>{e(title)}</h1><p role="alert">{e(message)}</p></main></body></html>"""


def with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


# -- HTTP --------------------------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server_version = "IdPSimulator/1.0"
    provider: Provider
    verbose = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8", headers)

    def _html(self, status: int, page: str) -> None:
        self._send(status, page.encode(), "text/html; charset=utf-8", {"X-Frame-Options": "DENY"})

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _form(self) -> dict[str, str]:
        return dict(parse_qsl(self._body().decode("utf-8", "replace"), keep_blank_values=True))

    def _query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    # -- routes ----------------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        p = self.provider
        if path == "/.well-known/openid-configuration":
            self._json(200, p.discovery())
        elif path == "/jwks":
            self._json(200, p.jwks())
        elif path == "/authorize":
            self._authorize(self._query())
        elif path == "/userinfo":
            self._userinfo()
        elif path == "/logout":
            self._logout(self._query())
        elif path == "/_sim/users":
            with p.lock:
                self._json(200, [asdict(u) for u in p.users.values()])
        elif path == "/_sim/state":
            with p.lock:
                self._json(200, {**p.counts, "users": len(p.users), "bad_signature": p.bad_signature})
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        p = self.provider
        if path == "/authorize":
            self._authorize(self._form())
        elif path == "/token":
            try:
                answer = p.exchange(self._form(), self.headers.get("Authorization", ""))
            except OAuthError as exc:
                self._json(exc.status, exc.body, exc.headers)
            else:
                self._json(200, answer, {"Pragma": "no-cache"})
        elif path == "/userinfo":
            self._body()
            self._userinfo()
        elif path == "/logout":
            self._logout(self._form())
        elif path.startswith("/_sim/"):
            self._control(path)
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, params: dict[str, str]) -> None:
        p = self.provider
        page_error, oauth_error = p.check_request(params)
        if page_error:
            self._html(400, message_page("Yêu cầu đăng nhập không hợp lệ", page_error))
            return
        back = {"state": params["state"]} if "state" in params else {}
        if oauth_error:
            self._redirect(with_query(params["redirect_uri"], {"error": oauth_error, **back}))
            return
        action = params.get("action")
        user = None
        if action == "cancel":
            self._redirect(with_query(params["redirect_uri"], {"error": "access_denied", **back}))
            return
        if action == "pick":
            with p.lock:
                user = p.users.get(params.get("user", ""))
        elif action == "password":
            user = p.user_by_number(params.get("id_number", "").strip(), params.get("password", ""))
            if user is None:
                page = sign_in_page(
                    p,
                    params,
                    error="Số định danh cá nhân hoặc mật khẩu không đúng.",
                    id_number=params.get("id_number", ""),
                )
                self._html(200, page)
                return
        if user is None:
            self._html(200, sign_in_page(p, params))
            return
        code = p.issue_code(params, user)
        self._redirect(with_query(params["redirect_uri"], {"code": code, **back}))

    def _userinfo(self) -> None:
        try:
            self._json(200, self.provider.userinfo(self.headers.get("Authorization", "")))
        except OAuthError as exc:
            self._json(exc.status, exc.body, exc.headers)

    def _logout(self, params: dict[str, str]) -> None:
        p = self.provider
        sub = None
        if params.get("id_token_hint"):
            claims = p.verified_claims(params["id_token_hint"])
            if claims is None:
                self._html(400, message_page("Yêu cầu đăng xuất không hợp lệ", "id_token_hint không hợp lệ."))
                return
            sub = claims.get("sub")
        p.end_session(sub)
        target = params.get("post_logout_redirect_uri", "")
        if target and p.redirect_uri_allowed(target):
            self._redirect(with_query(target, {"state": params["state"]} if "state" in params else {}))
        else:
            self._html(200, message_page("Đã đăng xuất", "Bạn đã đăng xuất khỏi tài khoản định danh điện tử."))

    def _control(self, path: str) -> None:
        p = self.provider
        try:
            data = json.loads(self._body() or b"{}")
        except ValueError:
            self._json(400, {"error": "invalid_json"})
            return
        if path == "/_sim/users":
            try:
                user = p.add_user(data)
            except ValueError as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(201, asdict(user))
        elif path == "/_sim/mode":
            with p.lock:
                p.bad_signature = bool(data.get("bad_signature", p.bad_signature))
            self._json(200, {"bad_signature": p.bad_signature})
        elif path == "/_sim/reset":
            with p.lock:
                p.reset()
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": "not_found"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenID Connect identity provider simulator (VNeID-style)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--issuer", help="public base URL (default: http://<host>:<port>)")
    parser.add_argument("--client-id", default=os.environ.get("OIDC_RP_CLIENT_ID") or DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=os.environ.get("OIDC_RP_CLIENT_SECRET") or DEFAULT_CLIENT_SECRET)
    parser.add_argument("--password", default=os.environ.get("IDP_SIM_PASSWORD") or DEFAULT_PASSWORD)
    parser.add_argument("--redirect-uri", action="append", default=[], help="allowed redirect URI (repeatable)")
    parser.add_argument("--code-ttl", type=int, default=60)
    parser.add_argument("--token-ttl", type=int, default=600)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    issuer = args.issuer or f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{args.port}"  # noqa: S104
    Handler.provider = Provider(
        issuer=issuer,
        client_id=args.client_id,
        client_secret=args.client_secret,
        password=args.password,
        redirect_uris=args.redirect_uri,
        code_ttl=args.code_ttl,
        token_ttl=args.token_ttl,
    )
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"Identity provider simulator on {issuer} (client {args.client_id})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
