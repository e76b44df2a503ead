"""The identity provider simulator (citizens/idp_simulator.py) as the tests' outside system: its own process, as in
`make run`, started once per session on a free port."""

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from .portal_sim import ROOT, free_port


class IdentityProvider:
    client_id = "portal-under-test"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client_secret = secrets.token_urlsafe(24)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citizens.idp_simulator",
                "--port",
                str(self.port),
                "--client-id",
                self.client_id,
                "--client-secret",
                self.client_secret,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(600):  # up to 30 s: a loaded CI machine starts Python slowly
            try:
                self.state()
                return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("the identity provider simulator did not start")

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

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own http:// URL
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
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

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
