"""Public endpoints the customer's mail client and browser call: open pixel, click redirect, unsubscribe.

No bearer token here (customers have none): the signed token is the credential. A
forged or tampered token gets 404 and records nothing.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from services.marketing.application import MarketingApplication
from services.marketing.tokens import Claims, InvalidToken, Kind, TokenSigner

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


@router.get(
    "/unsubscribe/{token}",
    summary="Unsubscribe page",
    response_class=HTMLResponse,
    responses={404: {"description": "Forged or unknown token"}},
)
def unsubscribe_page(token: str, marketing: MarketingDep, signer: SignerDep) -> HTMLResponse:
    """A page with one button; nothing changes until it is pressed (link scanners only GET)."""
    _claims(signer, "unsubscribe", token, marketing)
    form = (
        f'<form method="post" action="/unsubscribe/{escape(token)}">'
        '<button type="submit">Unsubscribe / 退订</button></form>'
    )
    return HTMLResponse(f"<!doctype html><html><body>{form}</body></html>", headers=NO_STORE)


@router.post(
    "/unsubscribe/{token}",
    summary="Unsubscribe (one click)",
    response_class=HTMLResponse,
    responses={404: {"description": "Forged or unknown token"}},
)
def unsubscribe(token: str, marketing: MarketingDep, signer: SignerDep) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe: suppressed at once, and the customer service is told (`Unsubscribed`)."""
    claims = _claims(signer, "unsubscribe", token, marketing)
    message = marketing.unsubscribe(claims.message_id)
    text = f"You will get no more {message.channel} messages from us. / 您已退订。"
    return HTMLResponse(f"<!doctype html><html><body><p>{escape(text)}</p></body></html>", headers=NO_STORE)
