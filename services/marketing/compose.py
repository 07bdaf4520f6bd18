"""Turning a campaign variant and a customer into the bytes that are sent.

Emails get the open pixel, tracked links (each one signed with its destination), a
one-click unsubscribe link and the `List-Unsubscribe` headers (RFC 2369 / RFC 8058);
their Message-ID is the idempotency key. SMS get the rendered text.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any
from uuid import UUID

from services.marketing import templates
from services.marketing.rules import Member
from services.marketing.tokens import TokenSigner
from services.marketing.transports import Outgoing

_HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)
MESSAGE_ID_DOMAIN = "crm.marketing"


class Composer:
    """Renders messages with links back to the public tracking endpoints at `base_url`."""

    def __init__(self, signer: TokenSigner, base_url: str, mail_from: str) -> None:
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.mail_from = mail_from

    def unsubscribe_url(self, message_id: UUID) -> str:
        """The one-click unsubscribe link of a message."""
        return f"{self.base_url}/unsubscribe/{self.signer.sign('unsubscribe', message_id)}"

    def context(
        self, member: Member, campaign_name: str, fallbacks: dict[str, str], message_id: UUID
    ) -> dict[str, Any]:
        """The template variables (see README: customer.*, campaign.name, unsubscribe_url)."""
        return {
            "customer": templates.customer_fields(member, fallbacks),
            "campaign": {"name": campaign_name},
            "unsubscribe_url": self.unsubscribe_url(message_id),
        }

    def email(self, variant: dict[str, Any], context: dict[str, Any], message_id: UUID, to: str) -> Outgoing:
        """The MIME email of one recipient."""
        msg = EmailMessage(policy=SMTP)
        msg["From"] = self.mail_from
        msg["To"] = to
        msg["Subject"] = templates.render(variant["subject"], context, html=False).replace("\n", " ")
        msg["Message-ID"] = f"<{message_id}@{MESSAGE_ID_DOMAIN}>"
        msg["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["X-CRM-Message-ID"] = str(message_id)
        text = variant.get("text")
        footer = f"\n\nUnsubscribe: {context['unsubscribe_url']}"
        msg.set_content((templates.render(text, context, html=False) if text else "") + footer, charset="utf-8")
        msg.add_alternative(
            self._html(templates.render(variant["html"], context, html=True), message_id),
            subtype="html",
            charset="utf-8",
        )
        return Outgoing(message_id=str(message_id), recipient=to, body=msg.as_bytes())

    def sms(self, variant: dict[str, Any], context: dict[str, Any], message_id: UUID, to: str) -> Outgoing:
        """The SMS text of one recipient."""
        text = templates.render(variant["text"], context, html=False)
        return Outgoing(message_id=str(message_id), recipient=to, body=text.encode())

    def _html(self, body: str, message_id: UUID) -> str:
        """Links tracked, an unsubscribe link and the open pixel appended."""

        def track(match: re.Match[str]) -> str:
            url = html.unescape(match.group(1))
            token = self.signer.sign("click", message_id, url)
            return f'href="{self.base_url}/t/click/{token}"'

        pixel = f"{self.base_url}/t/open/{self.signer.sign('open', message_id)}"
        unsubscribe = html.escape(self.unsubscribe_url(message_id))
        return (
            _HREF.sub(track, body)
            + f'<p><a href="{unsubscribe}">Unsubscribe / 退订</a></p>'
            + f'<img src="{pixel}" width="1" height="1" alt="">'
        )
