"""The `analytics-jobs` process: on a schedule, recompute metrics, then refit CLV, then churn.

`refit` is also what `POST /models/refit` runs. A model's id is a hash of its settings and
of the purchase summary it was fitted on, so the same events and settings give the same
id and the same numbers; refitting unchanged data rewrites the same documents. The
schedule is kept in the `models` collection (the last `fitted_at`), so a restarted process
waits for the rest of the interval instead of refitting at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from pymongo import DESCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from services.analytics import churn, clv, purchases, watermarks
from services.analytics.features import History, Summary, load_histories, summarise, transactions_between
from services.analytics.generations import Generations
from services.analytics.jobstore import JobConflict, JobStore, Report
from services.analytics.metrics import recompute_metrics
from services.analytics.reports.catalog import keep_dashboard
from services.analytics.settings import AnalyticsSettings, ModelSettings, mongo_client
from shared.platform import logs

log = logging.getLogger(__name__)
MODELS = "models"
METRICS = "customer_metrics"
ACTIVE_CHECK_SECONDS = 60.0
"""How long a waiting jobs process may miss a generation switch."""
WRITE_CHUNK = 1_000
"""Updates per bulk write: bounds one command (each update is its own SQLite transaction on FerretDB)."""
CLV_STEP_DAYS = 30
"""CLV discounts expected purchases month by month (end of each 30-day step)."""
FREQUENCY_BUCKETS = 7
"""Holdout check per calibration frequency 0..6, then 7+ together (as in the literature)."""
Clock = Callable[[], datetime]
Db = AsyncDatabase[dict[str, Any]]


class NotEnoughData(Exception):
    """There are too few purchases before the calibration end to fit the models."""


class RefitFailed(Exception):
    """A scheduled refit's job ended failed (its error says why)."""


@dataclass(frozen=True)
class RefitResult:
    """What a refit produced."""

    clv_model_id: str
    churn_model_id: str
    metrics_written: int
    customers_scored: int
    churn_shipped: bool
    reports_kept: int = 0


@dataclass(frozen=True)
class ClvFit:
    """A fitted CLV model, the summary it was fitted on and the histories it came from."""

    model_id: str
    summary: Summary
    bgnbd: clv.BgNbdParams
    histories: dict[str, History]
    scores: dict[str, dict[str, Any]]
    """Customer id → their `clv` fields."""


def _model_id(kind: str, settings: ModelSettings, summary: Summary) -> str:
    digest = hashlib.sha256(json.dumps(settings.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(json.dumps(summary.customer_ids).encode())
    for column in (summary.x, summary.t_x, summary.big_t, summary.m):
        digest.update(np.ascontiguousarray(column).tobytes())
    return f"{kind}-{summary.cut.isoformat()}-{digest.hexdigest()[:12]}"


def _cal_end(settings: ModelSettings, as_of: datetime) -> date:
    return settings.calibration_end or as_of.astimezone(UTC).date()


def holdout_check(fit: ClvFit, params: clv.BgNbdParams, until: date) -> dict[str, Any] | None:
    """Repeat purchases in (calibration end, until] predicted by the model next to those in the data."""
    s = fit.summary
    if until <= s.cut:
        return None
    length = (until - s.cut).days / s.unit_days
    predicted = clv.expected_purchases(params, length, s.x, s.t_x, s.big_t)
    actual = np.array([transactions_between(fit.histories[c], s.cut, until) for c in s.customer_ids], dtype=float)
    bucket = np.minimum(s.x, FREQUENCY_BUCKETS).astype(int)
    table = [
        {
            "frequency": f"{k}+" if k == FREQUENCY_BUCKETS else str(k),
            "customers": int((bucket == k).sum()),
            "predicted": round(float(predicted[bucket == k].sum()), 2),
            "actual": int(actual[bucket == k].sum()),
        }
        for k in range(FREQUENCY_BUCKETS + 1)
    ]
    period = {"start": (s.cut + timedelta(days=1)).isoformat(), "end": until.isoformat()}
    return period | {"predicted": round(float(predicted.sum()), 2), "actual": int(actual.sum()), "by_frequency": table}


async def write_scores(db: Db, scores: dict[str, dict[str, Any]]) -> int:
    """Set each customer's `clv` and `churn`, skipping those unchanged; drop them from customers not scored.

    Only changed documents are written: FerretDB updates documents one by one, slowly, and a
    scheduled refit over unchanged events changes nothing. Returns the documents written.
    """
    current = {d["_id"]: d async for d in db[METRICS].find({}, {"clv": 1, "churn": 1})}
    updates = [
        UpdateOne({"_id": c}, {"$set": fields}, upsert=True)
        for c, fields in sorted(scores.items())
        if any(current.get(c, {}).get(k) != v for k, v in fields.items())
    ]
    stale = sorted(c for c, d in current.items() if c not in scores and ("clv" in d or "churn" in d))
    updates += [UpdateOne({"_id": c}, {"$unset": {"clv": "", "churn": ""}}) for c in stale]
    if updates:
        await _write_chunks(db, updates)
        await watermarks.advance(db, "metrics")
    return len(updates)


async def _write_chunks(db: Db, updates: list[UpdateOne]) -> None:
    for start in range(0, len(updates), WRITE_CHUNK):
        await db[METRICS].bulk_write(updates[start : start + WRITE_CHUNK], ordered=False)


async def fit_clv(db: Db, settings: ModelSettings, as_of: datetime) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma as of the calibration end; store the model, return every customer's CLV."""
    cal_end = _cal_end(settings, as_of)
    histories = await load_histories(db, settings.currency, as_of)
    summary = summarise(histories, cal_end, settings.time_unit_days)
    repeat = (summary.x > 0) & (summary.m > 0)
    if len(summary.customer_ids) < 3 or repeat.sum() < 3:
        raise NotEnoughData(
            f"{len(summary.customer_ids)} customers ({int(repeat.sum())} repeat) bought in {settings.currency} "
            f"by {cal_end}: at least 3 repeat customers are needed to fit the models"
        )
    bgnbd = await asyncio.to_thread(clv.fit_bgnbd, summary.x, summary.t_x, summary.big_t)
    spend = await asyncio.to_thread(clv.fit_gamma_gamma, summary.x[repeat], summary.m[repeat])
    fit = ClvFit(_model_id("clv", settings, summary), summary, bgnbd.params, histories, {})
    fit.scores.update(_clv_fields(fit, settings, spend.params))
    last_day = max((max(h) for h in histories.values()), default=cal_end)
    doc = _clv_document(fit, settings, bgnbd, spend, as_of) | {"holdout": holdout_check(fit, bgnbd.params, last_day)}
    await db[MODELS].replace_one({"_id": fit.model_id}, doc, upsert=True)
    return fit


def _clv_document(
    fit: ClvFit,
    settings: ModelSettings,
    bgnbd: clv.Fit[clv.BgNbdParams],
    spend: clv.Fit[clv.GammaGammaParams],
    as_of: datetime,
) -> dict[str, Any]:
    first = min(min(fit.histories[c]) for c in fit.summary.customer_ids)
    return {
        "_id": fit.model_id,
        "kind": "clv",
        "fitted_at": as_of.astimezone(UTC),
        "calibration": {"start": first.isoformat(), "end": fit.summary.cut.isoformat()},
        "settings": settings.model_dump(mode="json"),
        "n_customers": bgnbd.n_customers,
        "bgnbd": asdict(bgnbd.params) | {"log_likelihood": bgnbd.log_likelihood, "converged": bgnbd.converged},
        "gamma_gamma": asdict(spend.params)
        | {"log_likelihood": spend.log_likelihood, "n_customers": spend.n_customers, "converged": spend.converged},
    }


def _clv_fields(fit: ClvFit, settings: ModelSettings, spend: clv.GammaGammaParams) -> dict[str, dict[str, Any]]:
    s, unit = fit.summary, settings.time_unit_days
    horizon, step = settings.horizon_days / unit, CLV_STEP_DAYS / unit
    rate_per_unit = (1 + settings.discount_rate) ** (unit / 365.0) - 1
    p_alive = clv.probability_alive(fit.bgnbd, s.x, s.t_x, s.big_t)
    purchases = clv.expected_purchases(fit.bgnbd, horizon, s.x, s.t_x, s.big_t)
    value = clv.expected_order_value(spend, s.x, s.m)
    discounted = clv.discounted_expected_purchases(
        fit.bgnbd, s.x, s.t_x, s.big_t, horizon=horizon, step=step, rate_per_unit=rate_per_unit
    )
    lifetime = settings.margin * value * discounted
    return {
        customer_id: {
            "p_alive": round(float(p_alive[i]), 6),
            "expected_purchases": round(float(purchases[i]), 6),
            # Numbers rounded to cents, not strings: the analyst list sorts and filters on them.
            "expected_order_value": round(float(value[i]), 2),
            "clv": round(float(lifetime[i]), 2),
            "horizon_days": settings.horizon_days,
            "discount_rate": settings.discount_rate,
            "margin": settings.margin,
            "currency": settings.currency,
            "model_id": fit.model_id,
        }
        for i, customer_id in enumerate(s.customer_ids)
    }


async def _contexts(db: Db, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
    fields = {"support.tickets": 1, "support.csat_average": 1, "social.by_sentiment": 1}
    cursor = db["customer_360"].find({}, fields | {"marketing.unsubscribed_channels": 1})
    wanted = set(customer_ids)
    return {doc["_id"]: doc async for doc in cursor if doc["_id"] in wanted}


async def fit_churn(db: Db, settings: ModelSettings, as_of: datetime, fit: ClvFit) -> tuple[str, churn.ChurnModel]:
    """Train and evaluate the churn model, store it, and add every customer's churn risk to `fit.scores`."""
    holdout = timedelta(days=settings.churn_holdout_days)
    cut = min(fit.summary.cut, as_of.astimezone(UTC).date() - holdout)
    train_summary = summarise(fit.histories, cut, settings.time_unit_days)
    train_params = fit.bgnbd
    if cut != fit.summary.cut and len(train_summary.customer_ids) >= 3:
        fitted = await asyncio.to_thread(clv.fit_bgnbd, train_summary.x, train_summary.t_x, train_summary.big_t)
        train_params = fitted.params
    contexts = await _contexts(db, fit.summary.customer_ids)
    horizon_units = settings.churn_holdout_days / settings.time_unit_days
    model = churn.ChurnModel(reason="fewer than 3 customers before the training cut")
    if len(train_summary.customer_ids) >= 3:
        matrix = churn.feature_matrix(train_summary, train_params, fit.histories, contexts, horizon_units)
        churned = np.array(
            [transactions_between(fit.histories[c], cut, cut + holdout) == 0 for c in train_summary.customer_ids]
        )
        model = await asyncio.to_thread(churn.train, train_summary.customer_ids, matrix, churned)
    now = churn.feature_matrix(fit.summary, fit.bgnbd, fit.histories, contexts, horizon_units)
    s = fit.summary
    risk = model.risk(now) if model.shipped else 1.0 - clv.probability_alive(fit.bgnbd, s.x, s.t_x, s.big_t)
    model_id = f"churn-{fit.model_id.removeprefix('clv-')}"
    doc = {"_id": model_id, "kind": "churn", "fitted_at": as_of.astimezone(UTC), "clv_model_id": fit.model_id}
    doc |= {"training": {"cut": cut.isoformat(), "holdout_end": (cut + holdout).isoformat()}} | asdict(model)
    await db[MODELS].replace_one({"_id": model_id}, doc | {"features": list(model.features)}, upsert=True)
    for customer_id, value in zip(s.customer_ids, risk, strict=True):
        fit.scores[customer_id] = {
            "clv": fit.scores[customer_id],
            "churn": {"risk": round(float(value), 6), "model_id": model_id},
        }
    return model_id, model


REFIT_STAGES = ("metrics", "clv", "churn", "scores", "reports")
"""The steps of a refit, as its job reports them."""


def _no_progress(stage: str, done: int, total: int | None) -> None:
    """A refit run without a job to report to."""


async def refit(
    db: Db,
    settings: AnalyticsSettings,
    as_of: datetime,
    models: ModelSettings | None = None,
    progress: Report = _no_progress,
) -> RefitResult:
    """Metrics, then CLV, then churn, then the dashboard's reports, all as of `as_of` from one read of the orders.

    Models settings default to the service's.
    """
    models = models or settings.models
    total = len(REFIT_STAGES)
    with purchases.one_read(db):
        progress("metrics", 0, total)
        written = await recompute_metrics(db, settings, as_of)
        progress("clv", 1, total)
        fit = await fit_clv(db, models, as_of)
        progress("churn", 2, total)
        churn_id, model = await fit_churn(db, models, as_of, fit)
        progress("scores", 3, total)
        await write_scores(db, fit.scores)
        progress("reports", 4, total)
        kept = await keep_dashboard(db, settings.metrics, as_of)
    progress("done", total, total)
    return RefitResult(fit.model_id, churn_id, written, len(fit.summary.customer_ids), model.shipped, kept)


async def latest(db: Db, kind: str) -> dict[str, Any] | None:
    """The most recently fitted model of `kind` ("clv" or "churn")."""
    return await db[MODELS].find_one({"kind": kind}, sort=[("fitted_at", DESCENDING), ("_id", DESCENDING)])


async def due_in(db: Db, settings: ModelSettings, now: datetime) -> float:
    """Seconds until the next scheduled refit (0 = now), from the last fit recorded in the store."""
    last = await latest(db, "clv")
    if last is None:
        return 0.0
    fitted_at: datetime = last["fitted_at"]
    fitted_at = fitted_at if fitted_at.tzinfo else fitted_at.replace(tzinfo=UTC)
    return max(0.0, settings.refit_interval_seconds - (now - fitted_at).total_seconds())


async def run_schedule(
    database: Callable[[], Awaitable[Db]],
    settings: AnalyticsSettings,
    clock: Clock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rounds: int | None = None,
    store: JobStore | None = None,
) -> list[RefitResult | None]:
    """Refit whenever due; `rounds` bounds the loop for tests (None = forever). A failed round is logged.

    `database` gives the active projection generation's database. It is asked again at
    least every `ACTIVE_CHECK_SECONDS`, so a rebuild's switch moves the jobs along. With
    a job `store`, each refit is a job like `POST /models/refit`'s, under the same lock:
    while one started by an analyst runs, the schedule waits for its next round.
    """
    results: list[RefitResult | None] = []
    while rounds is None or len(results) < rounds:
        db = await database()
        wait = await due_in(db, settings.models, clock())
        if wait > 0:
            await sleep(min(wait, ACTIVE_CHECK_SECONDS))
            continue
        try:
            results.append(await _scheduled_refit(db, settings, clock(), store))
        except (NotEnoughData, RefitFailed, PyMongoError, JobConflict) as exc:  # try again soon; stay up
            log.warning("refit skipped: %s", exc)
            results.append(None)
            await sleep(min(settings.models.retry_seconds, settings.models.refit_interval_seconds))
    return results


async def _scheduled_refit(db: Db, settings: AnalyticsSettings, now: datetime, store: JobStore | None) -> RefitResult:
    if store is None:
        return await refit(db, settings, now)

    async def work(report: Report) -> dict[str, Any]:
        return asdict(await refit(db, settings, now, progress=report))

    job = await store.run("refit", work, by="analytics-jobs schedule")
    if job.state != "succeeded" or job.result is None:
        raise RefitFailed(f"job {job.id}: {job.error}")
    return RefitResult(**job.result)


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _main(settings: AnalyticsSettings) -> None:
    client: AsyncMongoClient[dict[str, Any]] = mongo_client(settings)
    generations = Generations(client, settings)

    async def active_database() -> Db:
        return generations.database(await generations.active())

    store = JobStore(client[settings.database])
    try:
        await store.recover()
        await run_schedule(active_database, settings, _utcnow, store=store)
    finally:
        await client.close()


def main() -> None:
    """Entry point: `python -m services.analytics.jobs`."""
    settings = AnalyticsSettings()
    logs.configure("analytics-jobs", settings.log_level)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
