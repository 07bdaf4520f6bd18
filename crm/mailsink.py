"""A local SMTP server that keeps every message it accepts, for development and tests.

`python -m crm.mailsink --port 2525 --maildir .local/smtp/maildir` runs aiosmtpd and
writes each accepted message as one `.eml` file into a Maildir (`new/`), with the
envelope recipients in an `X-Sink-To` header, so a test reads exactly what arrived.
A recipient whose local part starts with `bounce` is refused with 550 (to exercise
bounce handling); one starting with `defer` gets 451 (a temporary failure).
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import signal
import socket
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import SMTP
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTP_SERVER
from aiosmtpd.smtp import Envelope, Session


class MaildirHandler:
    """aiosmtpd handler: refuse test addresses, store the rest in a Maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = _maildir(maildir)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP_SERVER, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.partition("@")[0].lower()
        if local.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP_SERVER, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message: Message = BytesParser(policy=SMTP).parsebytes(raw)
        message["X-Sink-To"] = ", ".join(envelope.rcpt_tos)
        await asyncio.to_thread(self.maildir.add, message)
        return "250 Message accepted for delivery"


def _maildir(path: Path) -> mailbox.Maildir:
    """A Maildir at `path`; its subfolders are made even when `path` already exists."""
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=False)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def controller(maildir: Path, host: str = "127.0.0.1", port: int | None = None) -> Controller:
    """A started-on-demand sink on `port` (a free one when None); tests call `.start()` / `.stop()`."""
    return Controller(
        MaildirHandler(maildir),
        hostname=host,
        port=port or free_port(host),
        decode_data=False,
        data_size_limit=10 * 1024 * 1024,
        ready_timeout=10,
    )


def read_maildir(maildir: Path, since: float = 0.0) -> list[EmailMessage]:
    """The messages in the sink, only those delivered at or after `since` (a `time.time()`), oldest first."""
    parser = BytesParser(policy=SMTP)
    _maildir(maildir)
    files = [f for sub in ("new", "cur") for f in (maildir / sub).iterdir() if f.stat().st_mtime >= since]
    return [parser.parsebytes(f.read_bytes()) for f in sorted(files, key=lambda f: f.stat().st_mtime)]


def main(argv: list[str] | None = None) -> None:
    """Entry point: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args: Any = parser.parse_args(argv)
    sink = controller(args.maildir, args.host, args.port)
    sink.start()
    print(f"mailsink listening on {args.host}:{args.port}, Maildir {args.maildir}", flush=True)
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        sink.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
