"""The payment gateway simulator (payments/gateway_simulator.py) as the tests' outside system: its own process, as in
`make run`. Tests whose IPN must reach Django use ``live_server`` and point the simulator at it with ``config``."""

import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .portal_sim import SimulatorProcess, free_port

TMN_CODE = "AGTEST01"
SECRET = "kiem-thu-bi-mat-thanh-toan"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class PaymentSimulator(SimulatorProcess):
    name = "payment gateway simulator"
    probe = "/_sim/transactions"

    def __init__(self) -> None:
        self.tmn_code = TMN_CODE
        self.secret = SECRET
        super().__init__(
            "payments.gateway_simulator",
            "--tmn-code",
            TMN_CODE,
            "--secret",
            SECRET,
            "--ipn-url",
            f"http://127.0.0.1:{free_port()}/thanh-toan/ipn/",  # nobody there until a test sets its server
            "--backoff",
            "0.2",
        )

    def mode(self, **mode: Any) -> dict[str, Any]:
        return self._call("/_sim/mode", mode)

    def config(self, **config: Any) -> dict[str, Any]:
        return self._call("/_sim/config", config)

    def reset(self) -> None:
        self._call("/_sim/reset", {})
        self.config(tmn_code=TMN_CODE, secret=SECRET, retries=5, backoff=0.2)

    def transactions(self) -> list[dict[str, Any]]:
        return self._call("/_sim/transactions")

    def transaction(self, txn_ref: str) -> dict[str, Any] | None:
        return self._call(f"/_sim/transactions/{txn_ref}")

    def open(self, url: str) -> tuple[int, str]:
        """What a browser gets at the pay URL: status and page."""
        try:
            with _opener.open(url, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def pay(self, url: str, *, action: str = "pay", card: str = "ncb-ok") -> str:
        """Open the pay page and press a button as a citizen would; the address the gateway redirects back to."""
        status, page = self.open(url)
        assert status == 200, page
        form = urllib.parse.urlencode({"q": urllib.parse.urlsplit(url).query, "action": action, "card": card})
        request = urllib.request.Request(self.url + "/paymentv2/pay", data=form.encode())  # noqa: S310
        try:
            _opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:
                return exc.headers["Location"]
            raise AssertionError(f"HTTP {exc.code}: {exc.read().decode()}") from exc
        raise AssertionError("the gateway did not redirect back")

    def wait_ipn(self, txn_ref: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The IPN attempts for a transaction, once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            attempts = (self.transaction(txn_ref) or {}).get("ipn", [])
            if len(attempts) >= count or time.monotonic() > deadline:
                return attempts
            time.sleep(0.05)
