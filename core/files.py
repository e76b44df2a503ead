"""Uploaded files: what a file is (by its content, never its name), its checksum, and the virus-scan hook.

Every upload from outside (citizens' documents, officers' scans and results) passes ``upload_check`` before it is
stored. The scanner is a setting (``UPLOAD_SCANNER``): ``EicarScanner`` recognises the standard anti-virus test
file, so the hook is exercised without an engine; ``ClamdScanner`` talks to a ClamAV daemon (INSTREAM protocol)
when the province runs one (``CLAMD_ADDRESS``).
"""

import functools
import hashlib
import socket
import struct
from typing import IO, Protocol

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .errors import ValidationFailed

SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff_content_type(upload: IO[bytes]) -> str | None:
    """PDF, JPEG or PNG by the file's first bytes (never by its name), or None."""
    head = upload.read(16)
    upload.seek(0)
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def sha256_of(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


class Scanner(Protocol):
    def scan(self, upload: UploadedFile) -> str | None:
        """The name of what was found in the file, or None when it is clean."""


# The EICAR test string (https://www.eicar.org/download-anti-malware-testfile/), split so this file is not flagged.
_EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class EicarScanner:
    """Finds only the EICAR test signature: the default where no anti-virus engine is installed."""

    def scan(self, upload: UploadedFile) -> str | None:
        tail = b""
        for chunk in upload.chunks():
            if _EICAR in tail + chunk:
                upload.seek(0)
                return "Eicar-Test-Signature"
            tail = chunk[-len(_EICAR) :]
        upload.seek(0)
        return None


class ClamdScanner:
    """ClamAV's daemon over TCP (``host:port``) or a Unix socket path, with its INSTREAM command."""

    def scan(self, upload: UploadedFile) -> str | None:
        address = settings.CLAMD_ADDRESS
        if ":" in address and not address.startswith("/"):
            host, port = address.rsplit(":", 1)
            conn = socket.create_connection((host, int(port)), timeout=30)
        else:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(30)
            conn.connect(address)
        with conn:
            conn.sendall(b"zINSTREAM\0")
            for chunk in upload.chunks(64 * 1024):
                conn.sendall(struct.pack("!L", len(chunk)) + chunk)
            conn.sendall(struct.pack("!L", 0))
            answer = conn.recv(4096).rstrip(b"\0").decode()
        upload.seek(0)
        # "stream: OK" or "stream: Win.Test.EICAR_HDB-1 FOUND"
        return answer.split(":", 1)[1].strip().removesuffix(" FOUND") if answer.endswith("FOUND") else None


@functools.cache
def scanner() -> Scanner:
    return import_string(settings.UPLOAD_SCANNER)()  # type: ignore[no-any-return]


def upload_check(upload: UploadedFile, *, field: str = "file") -> str:
    """The file's content type when it may be stored; otherwise ValidationFailed with a message naming the file."""
    name = (upload.name or "")[:120]
    limit = settings.UPLOAD_MAX_MB * 1024 * 1024
    if upload.size > limit:
        message = _("“%(name)s” is larger than %(mb)s MB.") % {"name": name, "mb": settings.UPLOAD_MAX_MB}
        raise ValidationFailed(message, detail={field: message}, code="file_too_large")
    content_type = sniff_content_type(upload)
    if content_type is None:
        message = _("“%(name)s” is not a PDF, JPEG or PNG file (its content was checked, not its name).") % {
            "name": name
        }
        raise ValidationFailed(message, detail={field: message}, code="file_type")
    threat = scanner().scan(upload)
    if threat is not None:
        message = _("“%(name)s” was refused by the virus scan (%(threat)s).") % {"name": name, "threat": threat}
        raise ValidationFailed(message, detail={field: message}, code="file_infected")
    return content_type
