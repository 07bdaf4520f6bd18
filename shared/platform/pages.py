"""Pages customers open from a message (survey, unsubscribe): one document shell, in Chinese or English.

Customers have no token and often no JavaScript (mail clients, privacy browsers), so
these pages are plain HTML forms: a `lang` attribute, a title, a heading, labelled
controls, and a Content-Security-Policy that allows nothing but the page's own style and
posting back to us. The language follows the browser's first `Accept-Language` (Chinese
for `zh*`, else English); each page keeps its own texts per language.
"""

from __future__ import annotations

import html
from typing import Literal

from fastapi import Request
from fastapi.responses import HTMLResponse

Language = Literal["en", "zh"]
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
    "fieldset{margin:1rem 0;border:1px solid #ccc;border-radius:.5rem}label{margin-right:.6rem;"
    "white-space:nowrap}textarea{width:100%}button{font-size:1rem;padding:.5rem 1.5rem}"
)


def language(request: Request) -> Language:
    """`zh` when the browser's first language is Chinese, else `en`."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"


def wants_html(request: Request) -> bool:
    """A browser opening the link (it lists `text/html` before any JSON)."""
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and (
        "application/json" not in accept or accept.index("text/html") < accept.index("application/json")
    )


def document(lang: str, title: str, body: str, code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A whole page: `title` as its title and heading, `body` (HTML, already escaped) below it."""
    return HTMLResponse(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status_code=code,
        headers={"Content-Security-Policy": CSP, **(headers or {})},
    )
