"""HTTP routes the customer uses without logging in (the survey), and feedback records.

A survey link carries a signed token: forged or altered → 403 and nothing recorded;
expired or superseded → 410; answered already → 409.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import HTMLResponse

from services.support import survey_page
from services.support.api import SupportDep
from services.support.domain import SupportError
from services.support.schemas import ERROR_RESPONSES, FeedbackCreate, FeedbackPublic, SurveyAnswer, SurveyPublic
from shared.platform import pages
from shared.platform.auth import Principal, require_roles

SURVEY_ERRORS: dict[int | str, dict[str, Any]] = ERROR_RESPONSES | {
    403: {"description": "The link is forged or altered."},
    410: {"description": "The link expired or was superseded."},
}
surveys = APIRouter(prefix="/surveys", tags=["surveys (public, no login)"], responses=SURVEY_ERRORS)
feedback = APIRouter(prefix="/feedback", tags=["feedback"], responses=ERROR_RESPONSES)
Token = Annotated[str, Path(min_length=10, max_length=1000, description="The token from the survey link.")]
Agent = Annotated[Principal, require_roles("support_agent")]
Reader = Annotated[Principal, require_roles("support_agent", "analyst")]


@surveys.get(
    "/{token}",
    summary="Open a survey",
    response_model=SurveyPublic,
    responses={200: {"content": {"text/html": {}}, "description": "JSON, or the survey form for a browser."}},
)
def read_survey(token: Token, request: Request, support: SupportDep) -> SurveyPublic | HTMLResponse:
    """The survey behind a link: which ticket, until when, whether it was answered.

    A browser (asking for `text/html` first) gets the form to fill in (`survey_page.py`).
    """
    browser = pages.wants_html(request)
    try:
        claim, ticket = support.read_survey(token)
    except SupportError as exc:
        if not browser:
            raise
        return survey_page.refused(pages.language(request), exc)
    answered = bool(ticket.survey and ticket.survey["answered"])
    if browser:
        return survey_page.form(token, pages.language(request), answered)
    return SurveyPublic(ticket_id=ticket.id, expires_at=claim.expires_at, answered=answered)


@surveys.post("/{token}", status_code=status.HTTP_201_CREATED, summary="Answer a survey")
def answer_survey(token: Token, body: SurveyAnswer, support: SupportDep) -> dict[str, str]:
    """CSAT 1–5 with an optional comment and NPS 0–10; a link answers once."""
    ticket_id = support.answer_survey(token, csat=body.csat, nps=body.nps, comment=body.comment)
    return {"ticket_id": str(ticket_id), "status": "thank you"}


@feedback.post("", status_code=status.HTTP_201_CREATED, summary="Record feedback")
def record_feedback(body: FeedbackCreate, support: SupportDep, user: Agent) -> FeedbackPublic:
    """A complaint, suggestion or praise the customer gave, optionally about one of their tickets."""
    feedback_id = support.record_feedback(
        customer_id=body.customer_id, ticket_id=body.ticket_id, kind=body.kind, body=body.text, recorded_by=user.subject
    )
    return read_feedback(feedback_id, support, user)


@feedback.get("/{feedback_id}", summary="Read feedback")
def read_feedback(feedback_id: UUID, support: SupportDep, user: Reader) -> FeedbackPublic:
    """One feedback record."""
    f = support.feedback(feedback_id)
    return FeedbackPublic(
        id=f.id,
        customer_id=f.customer_id,
        ticket_id=f.ticket_id,
        kind=f.kind,
        text=f.text,
        recorded_by=f.recorded_by,
        at=f.at,
    )
