"""The survey as a page a customer fills in: an HTML form that works without JavaScript, in Chinese or English.

Why: the survey link in the closing e-mail opened JSON. A browser asking for
`/surveys/{token}` (it prefers `text/html`) now gets a form: CSAT as five labelled
radio buttons, NPS as eleven, an optional comment, each group a `fieldset` with a
`legend` so screen readers announce the question. The form posts
`application/x-www-form-urlencoded` to `/surveys/{token}/form`; the answer goes through
the same `SurveyAnswer` rules and the same input policy (`inputpolicy.py`) as the JSON API, and the reply
is a page too (thanks, or what went wrong, with the same status the API would give).
The language follows `Accept-Language` (Chinese for `zh*`, else English); the page shell is
`shared/platform/pages.py`.
"""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.support.api import SupportDep
from services.support.domain import SupportError
from services.support.errors import STATUS
from services.support.schemas import SurveyAnswer
from shared.platform.errors import status_of
from shared.platform.pages import document, language

page = APIRouter(prefix="/surveys", tags=["surveys (public, no login)"])
Token = Annotated[str, Path(min_length=10, max_length=1000, description="The token from the survey link.")]

TEXT = {
    "en": {
        "title": "How did we do?",
        "csat": "How satisfied are you with how we handled your request?",
        "csat_low": "very unhappy",
        "csat_high": "very happy",
        "nps": "How likely are you to recommend us to a friend? (optional)",
        "nps_low": "not at all likely",
        "nps_high": "extremely likely",
        "comment": "Anything you would like to tell us? (optional)",
        "send": "Send",
        "thanks": "Thank you: your answer has been recorded.",
        "answered": "This survey has already been answered. Thank you!",
        "problem": "We could not record your answer",
    },
    "zh": {
        "title": "我们的服务怎么样？",
        "csat": "您对我们处理您的请求的方式满意吗？",
        "csat_low": "非常不满意",
        "csat_high": "非常满意",
        "nps": "您有多大可能向朋友推荐我们？（选填）",
        "nps_low": "完全不可能",
        "nps_high": "非常可能",
        "comment": "还有什么想告诉我们的吗？（选填）",
        "send": "提交",
        "thanks": "谢谢！您的回答已记录。",
        "answered": "此问卷已经回答过了。谢谢！",
        "problem": "无法记录您的回答",
    },
}


def _scale(name: str, low: int, high: int, t: dict[str, str], required: bool) -> str:
    options = "".join(
        f'<label><input type="radio" name="{name}" value="{n}"{" required" if required else ""}> {n}</label>'
        for n in range(low, high + 1)
    )
    return (
        f"<fieldset><legend>{html.escape(t[name])}</legend>{options}"
        f"<p><small>{low} = {html.escape(t[name + '_low'])}, {high} = {html.escape(t[name + '_high'])}</small></p>"
        "</fieldset>"
    )


def form(token: str, lang: str, answered: bool) -> HTMLResponse:
    """The survey form (or, once answered, a note saying so)."""
    t = TEXT[lang]
    if answered:
        return document(lang, t["title"], f"<p>{html.escape(t['answered'])}</p>")
    action = f"/surveys/{html.escape(token, quote=True)}/form"
    body = (
        f'<form method="post" action="{action}">'
        f"{_scale('csat', 1, 5, t, required=True)}{_scale('nps', 0, 10, t, required=False)}"
        f'<p><label for="comment">{html.escape(t["comment"])}</label><br>'
        '<textarea id="comment" name="comment" rows="4" maxlength="4000"></textarea></p>'
        f'<button type="submit">{html.escape(t["send"])}</button></form>'
    )
    return document(lang, t["title"], body)


def problem(lang: str, message: str, code: int) -> HTMLResponse:
    """A page saying what went wrong, with the status the JSON API gives for the same error."""
    t = TEXT[lang]
    return document(lang, t["problem"], f'<p role="alert">{html.escape(message)}</p>', code)


def refused(lang: str, error: SupportError) -> HTMLResponse:
    """`problem` for a domain error, with the status of support's error table."""
    return problem(lang, str(error), status_of(error, STATUS))


@page.post(
    "/{token}/form",
    summary="Answer a survey from its HTML form",
    response_class=HTMLResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/SurveyAnswer"}}},
        }
    },
    responses={
        403: {"description": "The link is forged or altered."},
        409: {"description": "Already answered."},
        410: {"description": "The link expired or was superseded."},
        422: {
            "description": "An answer out of range, or text the input policy refuses (not UTF-8, control characters)."
        },
    },
)
async def answer_from_form(token: Token, request: Request, support: SupportDep) -> HTMLResponse:
    """What the survey page's form posts: the same rules as `POST /surveys/{token}`, answered with a page."""
    lang = language(request)
    # The input policy has already refused a body that is not UTF-8 or holds control characters.
    fields = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
    try:
        answer = SurveyAnswer.model_validate(
            {"csat": fields.get("csat"), "nps": fields.get("nps") or None, "comment": fields.get("comment") or None}
        )  # the numbers arrive as text; the model reads "5" as 5, and refuses "five"
    except ValidationError as exc:
        where = ", ".join(str(e["loc"][0]) for e in exc.errors())
        return problem(lang, f"please check: {where}", status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        support.answer_survey(token, csat=answer.csat, nps=answer.nps, comment=answer.comment)
    except SupportError as exc:
        return refused(lang, exc)
    return document(lang, TEXT[lang]["title"], f"<p>{html.escape(TEXT[lang]['thanks'])}</p>", status.HTTP_201_CREATED)
