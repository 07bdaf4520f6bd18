"""Lead scoring: documented, configurable rules whose reasons add up to the score.

A lead's score is the sum of the points of every rule that fires, capped at 100:
- **source**: points per capture channel (`source_points`);
- **completeness**: `completeness_points` for each of company, email, phone, country given;
- **fit**: `fit_country_points` when the country is a target market, `fit_business_email_points`
  when the email is on a company domain (not a free-mail provider);
- **engagement**: `click_points` per tracked link click of a matching customer (from marketing's
  `LinkClickedV1`), at most `max_click_points` in all.
Each fired rule leaves one reason (`"source campaign +20"`), so a rep sees why.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_SCORE = 100


class ScoringRules(BaseModel):
    """The configurable weights of lead scoring (`CRM_SALES_SCORING__*`)."""

    source_points: dict[str, int] = Field(
        default_factory=lambda: {"campaign": 20, "web_form": 15, "api": 10, "csv_import": 5}
    )
    completeness_points: int = 5
    target_countries: list[str] = Field(default_factory=lambda: ["CN", "DE", "GB", "US", "FR", "JP"])
    fit_country_points: int = 15
    fit_business_email_points: int = 10
    free_mail_domains: list[str] = Field(
        default_factory=lambda: ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "qq.com", "163.com"]
    )
    click_points: int = 5
    max_click_points: int = 25


def score(
    rules: ScoringRules,
    *,
    source: str,
    company: str | None,
    email: str | None,
    phone: str | None,
    country: str | None,
    clicks: int,
) -> tuple[int, list[str]]:
    """The score of a lead and the reasons for it (pure: same facts, same score)."""
    reasons: list[tuple[str, int]] = [(f"source {source}", rules.source_points.get(source, 0))]
    for field, value in (("company", company), ("email", email), ("phone", phone), ("country", country)):
        if value:
            reasons.append((f"complete {field}", rules.completeness_points))
    if country and country in rules.target_countries:
        reasons.append((f"fit country {country}", rules.fit_country_points))
    if email and email.rsplit("@", 1)[-1].lower() not in rules.free_mail_domains:
        reasons.append(("fit business email", rules.fit_business_email_points))
    if clicks:
        reasons.append((f"engagement {clicks} clicks", min(clicks * rules.click_points, rules.max_click_points)))
    fired = [(why, points) for why, points in reasons if points]
    total = min(sum(points for _, points in fired), MAX_SCORE)
    return total, [f"{why} +{points}" for why, points in fired]
