"""Round-robin assignment: fair rotation, skills honoured, caps respected, deterministic."""

from __future__ import annotations

from collections import Counter

from services.support.assignment import Member, next_agent

TEAM = [
    Member("ann", frozenset({"zh", "en"}), 3),
    Member("bo", frozenset({"en"}), 3),
    Member("cy", frozenset({"zh"}), 3),
]


def deal(members: list[Member], tickets: int, skills: frozenset[str] = frozenset()) -> list[str | None]:
    """Assign `tickets` in a row, counting each one against its agent's cap."""
    counts: Counter[str] = Counter()
    last: str | None = None
    given: list[str | None] = []
    for _ in range(tickets):
        agent = next_agent(members, needed_skills=skills, open_tickets=counts, last_assigned=last)
        given.append(agent)
        if agent is not None:
            counts[agent] += 1
            last = agent
    return given


def test_rotation_is_fair_among_equals() -> None:
    assert deal(TEAM, 6) == ["ann", "bo", "cy", "ann", "bo", "cy"]


def test_only_agents_with_every_needed_skill_are_chosen() -> None:
    assert deal(TEAM, 4, frozenset({"zh"})) == ["ann", "cy", "ann", "cy"]
    assert deal(TEAM, 2, frozenset({"zh", "en"})) == ["ann", "ann"]
    assert deal(TEAM, 1, frozenset({"fr"})) == [None]


def test_caps_are_respected_and_then_nobody_gets_more() -> None:
    given = deal(TEAM, 11)
    assert Counter(given) == Counter({"ann": 3, "bo": 3, "cy": 3, None: 2})


def test_an_agent_at_cap_is_skipped_without_losing_their_turn_order() -> None:
    agent = next_agent(TEAM, needed_skills=frozenset(), open_tickets={"bo": 3}, last_assigned="ann")
    assert agent == "cy"


def test_an_unknown_last_agent_starts_from_the_top_and_empty_queues_give_nobody() -> None:
    assert next_agent(TEAM, needed_skills=frozenset(), open_tickets={}, last_assigned="gone") == "ann"
    assert next_agent([], needed_skills=frozenset(), open_tickets={}, last_assigned=None) is None


def test_the_choice_is_deterministic() -> None:
    assert deal(TEAM, 9) == deal(list(TEAM), 9)
