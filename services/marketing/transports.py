"""How messages leave: SMTP (aiosmtplib) with a commit point before the final dot, and an HTTP SMS gateway.

Exactly once over SMTP: the sender records `Prepared` (the idempotency record) after
the server has the whole message but before the `.` that makes it accept it. A crash
before the record leaves a transaction the server discards, so resending is safe; a
crash after it never resends (the message counts as sent, unconfirmed). The window in
which a crash loses a message is one socket write; no window sends one twice.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import aiosmtplib
import httpx
from aiosmtplib.errors import SMTPException, SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError

Commit = Callable[[], Awaitable[None]]
_LINE_ENDINGS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
_LEADING_PERIOD = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: the address and the bytes (an RFC 5322 message, or SMS text)."""

    message_id: str
    recipient: str
    body: bytes


class Refused(Exception):
    """The server said no: permanent (5xx / 4xx HTTP) or temporary (4xx SMTP / 5xx HTTP / 429)."""

    def __init__(self, code: int, permanent: bool, detail: str = "") -> None:
        super().__init__(f"refused with {code}: {detail}")
        self.code = code
        self.permanent = permanent


class Unreachable(Exception):
    """The server could not be reached or the connection broke before the commit point: try again."""


class OutcomeUnknown(Exception):
    """The connection broke after the commit point: the message may have been accepted."""


class Transport(Protocol):
    """Sends one message; calls `commit` once, right before the point of no return."""

    async def send(self, outgoing: Outgoing, sender: str, commit: Commit) -> None:
        """Deliver or raise `Refused`, `Unreachable` or `OutcomeUnknown`."""

    async def close(self) -> None:
        """Release connections."""


class SmtpTransport:
    """One reused SMTP connection (RSET between messages), reopened after a failure."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._smtp: aiosmtplib.SMTP | None = None

    async def send(self, outgoing: Outgoing, sender: str, commit: Commit) -> None:
        committed = False

        async def commit_once() -> None:
            nonlocal committed
            await commit()
            committed = True

        try:
            smtp = await self._connection()
            await smtp.mail(sender)
            await smtp.rcpt(outgoing.recipient)
            await self._data(smtp, outgoing.body, commit_once)
        except SMTPResponseException as exc:
            await self._reset()
            raise Refused(exc.code, exc.code >= 500, exc.message) from None
        except (SMTPServerDisconnected, SMTPTimeoutError, SMTPException, OSError) as exc:
            await self.close()
            raise (OutcomeUnknown if committed else Unreachable)(str(exc)) from None

    async def _data(self, smtp: aiosmtplib.SMTP, message: bytes, commit: Commit) -> None:
        """DATA with the commit between the body and the final dot (aiosmtplib's `data()` has no such hook)."""
        protocol = smtp.protocol
        assert protocol is not None
        assert protocol._command_lock is not None
        body = _LEADING_PERIOD.sub(b"..", _LINE_ENDINGS.sub(b"\r\n", message))
        body += b"" if body.endswith(b"\r\n") else b"\r\n"
        async with protocol._command_lock:
            protocol._response_pending = True
            protocol.write(b"DATA\r\n")
            start = await protocol.read_response(timeout=self.timeout)
            if start.code != 354:
                raise SMTPResponseException(start.code, start.message)
            protocol.write(body)
            try:
                await commit()
            except BaseException:
                await self.close()  # mid-DATA: dropping the connection makes the server discard the message
                raise
            protocol._response_pending = True
            protocol.write(b".\r\n")
            reply = await protocol.read_response(timeout=self.timeout)
        if reply.code != 250:
            raise SMTPResponseException(reply.code, reply.message)

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = aiosmtplib.SMTP(
                hostname=self.host, port=self.port, timeout=self.timeout, start_tls=False, use_tls=False
            )
            await self._smtp.connect()
        return self._smtp

    async def _reset(self) -> None:
        try:
            if self._smtp is not None and self._smtp.is_connected:
                await self._smtp.rset()
        except (SMTPException, OSError):
            await self.close()

    async def close(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


class HttpSmsGateway:
    """POSTs `{to, text, message_id}` with an `Idempotency-Key`; the gateway drops a repeated key.

    So, unlike SMTP, a message prepared before a crash is sent again with the same key.
    """

    def __init__(self, url: str, timeout: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def send(self, outgoing: Outgoing, sender: str, commit: Commit) -> None:
        await commit()
        payload = {
            "to": outgoing.recipient,
            "text": outgoing.body.decode(),
            "message_id": outgoing.message_id,
            "from": sender,
        }
        try:
            response = await self.client.post(self.url, json=payload, headers={"Idempotency-Key": outgoing.message_id})
        except httpx.TransportError as exc:
            raise Unreachable(str(exc)) from None
        if response.status_code >= 300:
            temporary = response.status_code >= 500 or response.status_code in (408, 429)
            raise Refused(response.status_code, not temporary, response.text[:200])

    async def close(self) -> None:
        await self.client.aclose()
