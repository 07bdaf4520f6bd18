"""The sender against a real (in-process) SMTP server: consent, personalisation, bounces, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from aiosmtpd.controller import Controller

from crm.mailsink import read_maildir
from services.marketing.application import MarketingApplication
from services.marketing.messages import message_id
from services.marketing.sender import Sender, Throttle, build_sender
from services.marketing.tests.conftest import NOW, join, settings_for, web_customers
from services.marketing.transports import Outgoing, SmtpTransport

VARIANTS = [
    {
        "name": "A",
        "weight": 1,
        "subject": "{{ customer.name }}，春季新品",
        "text": "Hi {{ customer.name }}",
        "html": '<p>您好 {{ customer.name }}</p><a href="https://shop.example.com/spring">Shop</a>',
    },
    {
        "name": "B",
        "weight": 1,
        "subject": "Spring for {{ customer.first_name }}",
        "html": '<p>Hello {{ customer.name }}</p><a href="https://shop.example.com/spring">Go</a>',
    },
]


def campaign(app: MarketingApplication) -> UUID:
    segment = app.define_segment(name="email ok", description="", rules=web_customers(), by="m@example.com")
    created = app.create_campaign(
        name="春季促销",
        channel="email",
        segment_id=segment.id,
        variants=VARIANTS,
        fallbacks={"name": "朋友"},
        by="m@example.com",
    )
    app.schedule(created.id, expected_version=None, send_at=None)
    return created.id


def sender(app: MarketingApplication, sink: tuple[Controller, Path]) -> Sender:
    async def no_sleep(_: float) -> None:
        return None

    built = build_sender(settings_for(sink[0].port), app)
    built.sleep = no_sleep
    return built


def test_only_consenting_reachable_customers_get_their_personalised_mail(
    app: MarketingApplication, sink: tuple[Controller, Path]
) -> None:
    zhang = join(app, "张伟", "zhang@example.cn")
    join(app, "No Consent", "nope@example.com", consent={"email": False})
    join(app, "Phone Only", phone="+8613812345678", consent={"email": True})
    campaign_id = campaign(app)
    outcomes = asyncio.run(sender(app, sink).send_campaign(campaign_id))
    mails = read_maildir(sink[1])
    assert [m["To"] for m in mails] == ["zhang@example.cn"]
    mail = mails[0]
    assert mail["Message-ID"] == f"<{message_id(campaign_id, zhang)}@crm.marketing>"
    assert mail["List-Unsubscribe"].startswith("<http://marketing.test/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Subject"] in ("张伟，春季新品", "Spring for 张伟")
    part = mail.get_body(("html",))
    assert part is not None
    html = part.get_content()
    assert "张伟" in html
    assert "/t/open/" in html
    assert "/t/click/" in html
    assert "https://shop.example.com/spring" not in html  # every link goes through the tracked redirect
    assert outcomes == {"sent": 1}
    assert app.campaign(campaign_id).excluded == {"no_consent": 1, "no_address": 1}
    assert app.campaign(campaign_id).status == "completed"


def test_an_unsubscribed_customer_is_left_out_of_the_next_campaign(
    app: MarketingApplication, sink: tuple[Controller, Path]
) -> None:
    li = join(app, "李娜", "li@example.cn")
    first = campaign(app)
    asyncio.run(sender(app, sink).send_campaign(first))
    app.unsubscribe(message_id(first, li))
    second = campaign(app)
    asyncio.run(sender(app, sink).send_campaign(second))
    assert len(read_maildir(sink[1])) == 1
    assert app.campaign(second).excluded == {"unsubscribed": 1}


def test_a_refused_address_is_recorded_as_a_hard_bounce(
    app: MarketingApplication, sink: tuple[Controller, Path]
) -> None:
    bad = join(app, "Bounce", "bounce-1@example.com")
    join(app, "Good", "good@example.com")
    campaign_id = campaign(app)
    outcomes = asyncio.run(sender(app, sink).send_campaign(campaign_id))
    assert outcomes == {"sent": 1, "bounced": 1}
    assert app.message(message_id(campaign_id, bad)).outcome == "bounced"  # type: ignore[union-attr]


def test_temporary_refusals_are_retried_then_a_soft_bounce(
    app: MarketingApplication, sink: tuple[Controller, Path]
) -> None:
    join(app, "Defer", "defer-1@example.com")
    campaign_id = campaign(app)
    built = sender(app, sink)
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    built.sleep = record
    built.settings = settings_for(sink[0].port, retry_base_seconds=1.0)
    assert asyncio.run(built.send_campaign(campaign_id)) == {"bounced": 1}
    assert sleeps == [1.0, 2.0, 4.0]  # exponential backoff between the 4 attempts


def test_a_restart_after_the_commit_point_never_sends_twice(
    app: MarketingApplication, sink: tuple[Controller, Path]
) -> None:
    customers = [join(app, f"客户{i}", f"c{i}@example.cn") for i in range(5)]
    campaign_id = campaign(app)
    crashing = sender(app, sink)
    real_send = crashing.transports["email"].send

    async def crash_on_third(outgoing: Outgoing, sender_: str, commit: object) -> None:
        if outgoing.recipient == "c2@example.cn":
            await commit()  # type: ignore[operator]
            raise SystemExit("killed between the commit and the final dot")
        await real_send(outgoing, sender_, commit)  # type: ignore[arg-type]

    crashing.transports["email"].send = crash_on_third  # type: ignore[method-assign,assignment]
    with contextlib.suppress(SystemExit):
        asyncio.run(crashing.send_campaign(campaign_id))
    asyncio.run(sender(app, sink).send_campaign(campaign_id))
    recipients = sorted(m["To"] for m in read_maildir(sink[1]))
    assert recipients == ["c0@example.cn", "c1@example.cn", "c3@example.cn", "c4@example.cn"]
    unconfirmed = app.message(message_id(campaign_id, customers[2]))
    assert unconfirmed is not None
    assert unconfirmed.outcome == "sent"
    assert app.campaign(campaign_id).status == "completed"


def test_a_cancelled_campaign_sends_nothing(app: MarketingApplication, sink: tuple[Controller, Path]) -> None:
    join(app, "Ada", "ada@example.com")
    campaign_id = campaign(app)
    app.cancel(campaign_id, expected_version=None, by="m@example.com")
    assert asyncio.run(sender(app, sink).run_once()) == 0
    assert read_maildir(sink[1]) == []


def test_the_throttle_paces_sends_without_real_sleeping() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(rate=10, clock=lambda: now[0], sleep=sleep)

    async def three() -> None:
        for _ in range(3):
            await throttle.acquire()

    asyncio.run(three())
    assert slept == [0.1, 0.1]


def test_variants_split_by_weight_and_stay_stable(app: MarketingApplication) -> None:
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    heavy, light = VARIANTS[0] | {"weight": 3}, VARIANTS[1] | {"weight": 1}
    created = app.create_campaign(
        name="ab", channel="email", segment_id=segment.id, variants=[heavy, light], fallbacks={}, by="m"
    )
    picks = [created.variant_for(UUID(int=i)) for i in range(2000)]
    assert 0.70 < picks.count("A") / len(picks) < 0.80
    assert picks == [created.variant_for(UUID(int=i)) for i in range(2000)]


def test_a_campaign_waits_for_its_time(sink: tuple[Controller, Path]) -> None:
    now = [NOW]
    app = MarketingApplication(clock=lambda: now[0])
    join(app, "Ada", "ada@example.com")
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    created = app.create_campaign(
        name="later", channel="email", segment_id=segment.id, variants=VARIANTS[:1], fallbacks={}, by="m"
    )
    app.schedule(created.id, expected_version=None, send_at=NOW + timedelta(hours=1))
    worker = sender(app, sink)
    assert asyncio.run(worker.run_once()) == 0
    now[0] = NOW + timedelta(hours=1)
    assert asyncio.run(worker.run_once()) == 1
    assert [m["To"] for m in read_maildir(sink[1])] == ["ada@example.com"]


def test_a_failed_commit_drops_the_message_and_the_connection(sink: tuple[Controller, Path]) -> None:
    transport = SmtpTransport("127.0.0.1", sink[0].port)

    async def losing_commit() -> None:
        raise RuntimeError("another sender prepared this message first")

    async def fine_commit() -> None:
        return None

    async def scenario() -> None:
        with contextlib.suppress(RuntimeError):
            await transport.send(Outgoing("1", "lost@example.com", b"Subject: x\r\n\r\nx\r\n"), "m@x", losing_commit)
        await transport.send(Outgoing("2", "next@example.com", b"Subject: y\r\n\r\ny\r\n"), "m@x", fine_commit)
        await transport.close()

    asyncio.run(scenario())
    assert [str(m["X-Sink-To"]) for m in read_maildir(sink[1])] == ["next@example.com"]
