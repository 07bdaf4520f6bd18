"""Lead assignment rules: territory first, else round-robin among active reps.

1. **territory**: the active reps whose territories include the lead's country
   (ISO 3166 alpha-2) or its region (`regions` maps a region name such as `EMEA`
   to countries) are the candidates;
2. **round_robin**: with no territory match, every active rep is a candidate;
3. among candidates the turn is `sequence mod len(candidates)`, candidates sorted by
   subject, where `sequence` is the number of leads captured before this one: so reps
   take turns and the choice is reproducible from the log;
4. **capturer**: with no active rep at all, a sales rep capturing a lead keeps it.
Managers' reassignments are recorded as `manual`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field


class AssignmentRules(BaseModel):
    """Regions a territory may name besides countries (`CRM_SALES_ASSIGNMENT__REGIONS`)."""

    regions: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "EMEA": ["DE", "FR", "GB", "IT", "ES", "NL", "SE", "PL", "AE", "ZA"],
            "APAC": ["CN", "JP", "KR", "SG", "AU", "IN", "HK", "TW"],
            "AMER": ["US", "CA", "MX", "BR", "AR"],
        }
    )


@dataclass(frozen=True)
class RepEntry:
    """What assignment needs to know about a rep."""

    subject: str
    territories: tuple[str, ...]
    active: bool


def covers(rules: AssignmentRules, territories: Sequence[str], country: str | None) -> bool:
    """True if a rep's territories include `country` directly or through a region."""
    if not country:
        return False
    return any(t == country or country in rules.regions.get(t, ()) for t in territories)


def choose_owner(
    rules: AssignmentRules, reps: Sequence[RepEntry], *, country: str | None, sequence: int
) -> tuple[str, str] | None:
    """(owner, rule) for a new lead, or None when no rep is active."""
    active = sorted((r for r in reps if r.active), key=lambda r: r.subject)
    local = [r for r in active if covers(rules, r.territories, country)]
    candidates, rule = (local, "territory") if local else (active, "round_robin")
    if not candidates:
        return None
    return candidates[sequence % len(candidates)].subject, rule
