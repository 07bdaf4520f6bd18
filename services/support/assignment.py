"""Round-robin assignment among a queue's agents, honouring skills and open-ticket caps.

A pure, deterministic function: the queue's members in the order they joined, the skills
the ticket needs, each agent's open tickets and who got the last ticket. The next agent
after the last one (wrapping around) who has every needed skill and room under the cap
gets the ticket, so work spreads evenly and nobody is skipped twice in a row by luck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """An agent of a queue: what they can handle and how many open tickets they may hold."""

    agent: str
    skills: frozenset[str] = frozenset()
    cap: int = 10


def next_agent(
    members: Sequence[Member],
    *,
    needed_skills: frozenset[str],
    open_tickets: Mapping[str, int],
    last_assigned: str | None,
) -> str | None:
    """The agent who gets the next ticket, or None if nobody qualifies (skills) or has room (cap)."""
    if not members:
        return None
    agents = [m.agent for m in members]
    start = agents.index(last_assigned) + 1 if last_assigned in agents else 0
    for offset in range(len(members)):
        member = members[(start + offset) % len(members)]
        if needed_skills <= member.skills and open_tickets.get(member.agent, 0) < member.cap:
            return member.agent
    return None
