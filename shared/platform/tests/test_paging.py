"""Every list pages the same way: `limit`, `after`, `X-Next-Cursor`, `Link: rel="next"`, `X-Total-Count`."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.platform.http import instrument
from shared.platform.paging import MAX_LIMIT, PageDep

ROWS: list[dict[str, Any]] = [{"id": f"{n:03}", "score": n % 7} for n in range(23)]


def client() -> TestClient:
    api = FastAPI()
    instrument(api, "paging-test", {})

    @api.get("/rows", summary="Rows", responses={404: {"description": "never"}})
    def rows(page: PageDep, kind: str = "all") -> list[dict[str, Any]]:
        return page.of(ROWS, key=lambda r: (-r["score"], r["id"]))

    @api.get("/newest", summary="Newest", responses={404: {"description": "never"}})
    def newest(page: PageDep) -> list[dict[str, Any]]:
        return page.of(ROWS, key=lambda r: (r["id"],), reverse=True)

    return TestClient(api)


def walk(api: TestClient, url: str) -> tuple[list[str], list[str]]:
    """Follow `Link: rel="next"` to the end: the ids seen and the links followed."""
    seen, links = [], []
    while url:
        answer = api.get(url)
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-total-count"] == str(len(ROWS))
        seen += [r["id"] for r in answer.json()]
        link = answer.headers.get("link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else ""  # type: ignore[union-attr]
        if link:
            assert f"after={answer.headers['x-next-cursor']}" in url
            links.append(url)
    return seen, links


def test_following_next_links_gives_every_row_once_in_the_lists_order() -> None:
    api = client()
    seen, links = walk(api, "/rows?limit=5&kind=all")
    assert seen == [r["id"] for r in sorted(ROWS, key=lambda r: (-r["score"], r["id"]))]
    assert len(links) == 4
    assert all(link.startswith("/rows?limit=5&kind=all&after=") for link in links)  # the query is kept
    assert walk(api, "/newest?limit=10")[0] == sorted((r["id"] for r in ROWS), reverse=True)
    last = api.get("/rows?limit=100")
    assert ("link" not in last.headers, "x-next-cursor" not in last.headers) == (True, True)


def test_a_bad_limit_or_cursor_is_a_422_naming_it() -> None:
    api = client()
    for query, name in (
        (f"limit={MAX_LIMIT + 1}", "limit"),
        ("limit=0", "limit"),
        ("after=%%%", "after"),
        ("after=WyJ4Il0", "after"),
    ):  # fmt: skip  (the last: a cursor ["x"] of another list)
        answer = api.get(f"/rows?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["errors"][0]["loc"] == ["query", name]


def test_the_paging_headers_are_documented_on_each_list() -> None:
    document = client().app.openapi()  # type: ignore[attr-defined]
    headers = document["paths"]["/rows"]["get"]["responses"]["200"]["headers"]
    assert set(headers) == {"X-Next-Cursor", "Link", "X-Total-Count"}
