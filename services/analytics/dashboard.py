"""The analysts' dashboard: one HTML page whose script reads the analytics JSON endpoints.

The page itself holds no data and needs no login to load; every number comes from
the JSON API, called with the analyst's JWT (`Authorization: Bearer`). The token is
taken once from `?token=` (then dropped from the address bar) or typed into the
page's token field, and kept in `sessionStorage` only, so it dies with the tab.
Nothing is loaded from the internet: the CSS and the SVG-drawing script are ours and
inlined into the page, so it works on an air-gapped network.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["dashboard"])
STATIC = resources.files("services.analytics") / "static"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def page() -> tuple[str, dict[str, str]]:
    """The dashboard HTML with its stylesheet and script inlined (read once), and its response headers.

    The Content-Security-Policy allows exactly our inline script and style (by hash) and
    requests to this origin only; `no-referrer` keeps a `?token=` out of any Referer.
    """
    html = (STATIC / "dashboard.html").read_text(encoding="utf-8")
    css = (STATIC / "dashboard.css").read_text(encoding="utf-8")
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    policy = (
        f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(css)}; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    return html.replace("/*STYLE*/", css).replace("/*SCRIPT*/", script), headers


@router.get(
    "/dashboard",
    summary="Analytics dashboard (HTML page for analysts)",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "The page; it calls the JSON API with your JWT."}},
)
async def dashboard() -> HTMLResponse:
    """KPI tiles, revenue, cohort retention, lifecycle and tiers, pipeline, CLV and churn risks with drill-down.

    Open `/dashboard?token=<JWT of an analyst or admin>` or paste the token into the page.
    """
    html, headers = page()
    return HTMLResponse(html, headers=headers)
