"""The identity provider simulator (citizens/idp_simulator.py) as the tests' outside system: its own process, as in
`make run`, started once per session on a free port."""

import secrets
import urllib.error
import urllib.request
from typing import Any

from .portal_sim import SimulatorProcess


class IdentityProvider(SimulatorProcess):
    name = "identity provider simulator"
    client_id = "portal-under-test"

    def __init__(self) -> None:
        self.client_secret = secrets.token_urlsafe(24)
        super().__init__("citizens.idp_simulator", "--client-id", self.client_id, "--client-secret", self.client_secret)

    def settings(self) -> dict[str, Any]:
        """What config/settings.py derives from OIDC_PROVIDER_URL, for this simulator."""
        return {
            "OIDC_PROVIDER_URL": self.url,
            "OIDC_OP_ISSUER": self.url,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.url}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/jwks",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.url}/logout",
            "OIDC_RP_CLIENT_ID": self.client_id,
            "OIDC_RP_CLIENT_SECRET": self.client_secret,
        }

    def _http_error(self, path: str, exc: urllib.error.HTTPError) -> Any:
        raise AssertionError(f"{path}: {exc.code} {exc.read()!r}") from exc

    def state(self) -> dict[str, Any]:
        return self._call("/_sim/state")

    def users(self) -> list[dict[str, Any]]:
        return self._call("/_sim/users")

    def add_user(self, **fields: Any) -> dict[str, Any]:
        return self._call("/_sim/users", fields)

    def mode(self, **mode: Any) -> dict[str, Any]:
        return self._call("/_sim/mode", mode)

    def reset(self) -> None:
        self._call("/_sim/reset", {})
