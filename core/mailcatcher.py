"""A development mail catcher: an SMTP server that delivers nothing, run as its own process:

    python -m core.mailcatcher --port 8025 --dir .dev/mail

Every message it receives is stored as one ``.eml`` file (open it in any mail reader) and announced on one line.
`make run` starts it unless EMAIL_HOST names a real server; docker compose runs it as the ``mail`` service.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Catcher:
    """aiosmtpd handler: writes each message to ``directory`` and prints where it went."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._numbers):04d}.eml"
        path.write_bytes(content)
        subject = str(email.message_from_bytes(content, policy=email.policy.default).get("subject", "")).strip()
        print(
            f"mail from={envelope.mail_from} to={','.join(envelope.rcpt_tos)} subject={subject!r} file={path}",
            flush=True,
        )
        return "250 Message accepted for delivery"


def serve(host: str, port: int, directory: str | Path) -> Controller:
    """Start the catcher in a background thread; ``.stop()`` it when done."""
    controller = Controller(Catcher(directory), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default=".dev/mail", help="directory the .eml files are written to")
    args = parser.parse_args()
    controller = serve(args.host, args.port, args.dir)
    print(f"mail catcher on smtp://{args.host}:{args.port}, storing messages in {args.dir}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
