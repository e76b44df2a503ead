"""Text messages (SMS) to citizens, behind one small interface.

The province's SMS gateway is a contract with a telecom operator (Viettel, VNPT, MobiFone each have their own
HTTP API); an adapter for it implements ``SmsBackend`` and is named in the SMS_BACKEND setting. Until then, and in
development and tests, ``LoggingSmsBackend`` writes each message to the "sms" logger.
"""

import logging
import unicodedata
import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("sms")

# Most gateways count 160 characters per message in the GSM 7-bit alphabet, but only 70 once a single character
# needs Unicode (every Vietnamese letter with a diacritic does): unaccented text costs a third as much.
SMS_MAX_CHARS = 160


class SmsUnavailable(Exception):
    """The gateway did not take the message (down, refused, timed out): the caller retries later."""


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> str:
        """Hand one message to the gateway; returns the gateway's message id. Raises on failure."""
        ...


class LoggingSmsBackend:
    """Sends nothing: logs the message (structured, one line) and returns a generated id."""

    def send(self, *, phone: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        log.info("sms id=%s phone=%s chars=%d text=%r", message_id, phone, len(text), text)
        return message_id


def sms_backend() -> SmsBackend:
    """The backend named by SMS_BACKEND (a dotted path to a class taking no arguments)."""
    return import_string(settings.SMS_BACKEND)()  # type: ignore[no-any-return]


def unaccent(text: str) -> str:
    """'Hồ sơ đã được tiếp nhận' -> 'Ho so da duoc tiep nhan' (case kept; đ/Đ are letters of their own)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def sms_text(text: str, *, limit: int = SMS_MAX_CHARS) -> str:
    """One message's text: unaccented when SMS_UNACCENT, whitespace collapsed, cut to ``limit`` characters."""
    text = " ".join(text.split())
    if settings.SMS_UNACCENT:
        text = unaccent(text)
        # Typographic quotes and dashes are not in the GSM alphabet either.
        text = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."}))
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text
