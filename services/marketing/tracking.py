"""Public endpoints the customer's mail client and browser call: open pixel, click redirect, unsubscribe.

No bearer token here (customers have none): the signed token is the credential. A
forged or tampered token gets 404 and records nothing.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from services.marketing.application import MarketingApplication
from services.marketing.tokens import Claims, InvalidToken, Kind, TokenSigner
from shared.platform import pages

router = APIRouter(tags=["tracking"])

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def get_marketing(request: Request) -> MarketingApplication:
    """The application the app was wired with."""
    app: MarketingApplication = request.app.state.marketing
    return app


def get_signer(request: Request) -> TokenSigner:
    """The signer the app was wired with."""
    signer: TokenSigner = request.app.state.signer
    return signer


MarketingDep = Annotated[MarketingApplication, Depends(get_marketing)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]


def _claims(signer: TokenSigner, kind: Kind, token: str, marketing: MarketingApplication) -> Claims:
    try:
        claims = signer.verify(kind, token)
    except InvalidToken:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown link") from None
    if marketing.message(claims.message_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown link")
    return claims


@router.get(
    "/t/open/{token}",
    summary="Open pixel",
    response_class=Response,
    responses={200: {"content": {"image/gif": {}}}, 404: {"description": "Forged or unknown token"}},
)
def open_pixel(token: str, marketing: MarketingDep, signer: SignerDep) -> Response:
    """A 1×1 GIF; the first load records `EmailOpened`."""
    claims = _claims(signer, "open", token, marketing)
    marketing.record_open(claims.message_id)
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get(
    "/t/click/{token}",
    summary="Click redirect",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses={404: {"description": "Forged or unknown token"}},
)
def click(token: str, marketing: MarketingDep, signer: SignerDep) -> RedirectResponse:
    """Records `LinkClicked` and redirects to the URL signed into the token (and only there)."""
    claims = _claims(signer, "click", token, marketing)
    assert claims.url is not None
    marketing.record_click(claims.message_id, claims.url)
    return RedirectResponse(claims.url, status.HTTP_302_FOUND, headers=NO_STORE)


UNSUBSCRIBE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop receiving {channel} messages from us? Nothing changes until you press the button.",
        "button": "Unsubscribe",
        "done_title": "You are unsubscribed",
        "done": "You will get no more {channel} messages from us. It can take a moment to reach every campaign.",
        "unknown_title": "This link does not work",
        "unknown": "The link is not valid (it may have been cut or changed). Please use the link in the message.",
    },
    "zh": {
        "title": "退订",
        "ask": "不再接收我们的{channel}消息吗？按下按钮之前，什么都不会改变。",
        "button": "退订",
        "done_title": "您已退订",
        "done": "您将不会再收到我们的{channel}消息。",
        "unknown_title": "此链接无效",
        "unknown": "链接无效（可能被截断或修改）。请使用消息中的链接。",
    },
}
CHANNELS = {"en": {"email": "e-mail", "sms": "SMS"}, "zh": {"email": "电子邮件", "sms": "短信"}}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The page, in Chinese or English (`Accept-Language`)."},
    404: {"content": {"text/html": {}}, "description": "Forged or unknown link: a page saying so."},
}


def _unsubscribe_claims(
    request: Request, token: str, marketing: MarketingApplication, signer: TokenSigner
) -> Claims | HTMLResponse:
    """The link's claims, or the page a customer sees for a link that is not one of ours (404)."""
    try:
        return _claims(signer, "unsubscribe", token, marketing)
    except HTTPException:
        t = UNSUBSCRIBE[pages.language(request)]
        return pages.document(
            pages.language(request), t["unknown_title"], f"<p>{escape(t['unknown'])}</p>", 404, NO_STORE
        )


@router.get("/unsubscribe/{token}", summary="Unsubscribe page", response_class=HTMLResponse, responses=PAGE_RESPONSES)
def unsubscribe_page(token: str, request: Request, marketing: MarketingDep, signer: SignerDep) -> HTMLResponse:
    """A page with one button; nothing changes until it is pressed (link scanners only GET)."""
    claims = _unsubscribe_claims(request, token, marketing, signer)
    if isinstance(claims, HTMLResponse):
        return claims
    lang = pages.language(request)
    t, message = UNSUBSCRIBE[lang], marketing.message(claims.message_id)
    channel = CHANNELS[lang].get(message.channel if message else "email", "e-mail")
    body = (
        f'<form method="post" action="/unsubscribe/{escape(token, quote=True)}">'
        f"<p>{escape(t['ask'].format(channel=channel))}</p>"
        f'<button type="submit">{escape(t["button"])}</button></form>'
    )
    return pages.document(lang, t["title"], body, headers=NO_STORE)


@router.post(
    "/unsubscribe/{token}", summary="Unsubscribe (one click)", response_class=HTMLResponse, responses=PAGE_RESPONSES
)
def unsubscribe(token: str, request: Request, marketing: MarketingDep, signer: SignerDep) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe (the page's button, or a mail client's `List-Unsubscribe=One-Click` POST).

    Suppressed at once, and the customer service is told (`Unsubscribed`); pressing again changes nothing.
    """
    claims = _unsubscribe_claims(request, token, marketing, signer)
    if isinstance(claims, HTMLResponse):
        return claims
    message = marketing.unsubscribe(claims.message_id)
    lang = pages.language(request)
    t = UNSUBSCRIBE[lang]
    done = t["done"].format(channel=CHANNELS[lang].get(message.channel, message.channel))
    return pages.document(lang, t["done_title"], f'<p role="status">{escape(done)}</p>', headers=NO_STORE)
