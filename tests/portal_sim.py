"""The national portal simulator (sync/simulator.py) as the tests' outside system: its own process, as in `make run`."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SimulatorProcess:
    """An outside system's simulator in its own process on a free port, as `make run` starts it, with its JSON
    test endpoints (/_sim/...)."""

    name = "simulator"
    probe = "/_sim/state"  # answers once the process serves

    def __init__(self, module: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(self.port), *args], cwd=ROOT, stdout=subprocess.DEVNULL
        )
        for _ in range(600):  # up to 30 s: a loaded CI machine starts Python slowly
            try:
                self._call(self.probe)
                return
            except OSError:
                time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError(f"the {self.name} did not start")

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own http:// URL
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return self._http_error(path, exc)

    def _http_error(self, path: str, exc: urllib.error.HTTPError) -> Any:
        if exc.code == 404:
            return None
        raise exc

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Simulator(SimulatorProcess):
    name = "national portal simulator"

    def __init__(self) -> None:
        super().__init__("sync.simulator")

    def state(self) -> dict[str, Any]:
        return self._call("/_sim/state")

    def mode(self, **mode: Any) -> dict[str, Any]:
        return self._call("/_sim/mode", mode)

    def reset(self) -> None:
        self._call("/_sim/reset", {})

    def dossier(self, code: str) -> dict[str, Any] | None:
        return self._call(f"/_sim/dossiers/{code}")

    def procedure(self, code: str) -> dict[str, Any] | None:
        return self._call(f"/_sim/procedures/{code}")

    def log(self) -> list[list[Any]]:
        return self._call("/_sim/log")
