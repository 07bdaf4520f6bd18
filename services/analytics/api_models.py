"""The models API: fitted CLV and churn models, an on-demand refit, and one customer's CLV and churn risk."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics import jobs
from services.analytics.api import ProjectionDep
from services.analytics.api_jobs import JobStoreDep, start_job
from services.analytics.jobstore import Job, Report
from services.analytics.settings import AnalyticsSettings, ModelSettings
from shared.platform.auth import Principal, require_roles

Analyst = Annotated[Principal, require_roles("analyst")]
Reader = Annotated[Principal, require_roles("analyst", "sales_manager", "sales_rep", "marketer")]
JOB_LOCATION = {"description": "`/jobs/{id}` of the job.", "schema": {"type": "string"}}
NOT_FITTED: dict[int | str, dict[str, Any]] = {404: {"description": "No model fitted yet: `POST /models/refit`."}}


class BgNbdOut(BaseModel):
    """Fitted BG/NBD purchase model: rates ~ Gamma(r, alpha), drop-out ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool


class GammaGammaOut(BaseModel):
    """Fitted Gamma-Gamma spend model over repeat customers' average repeat spend."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int = Field(description="Repeat customers the spend model was fitted on.")
    converged: bool


class FrequencyRow(BaseModel):
    """Holdout purchases of the customers with one calibration frequency (repeat purchases)."""

    frequency: str
    customers: int
    predicted: float
    actual: int


class HoldoutOut(BaseModel):
    """Repeat purchases after the calibration end predicted by the model next to those in the data."""

    start: date
    end: date
    predicted: float
    actual: int
    by_frequency: list[FrequencyRow]


class Window(BaseModel):
    """A calibration window (first purchase seen to calibration end, both inclusive)."""

    start: date
    end: date


class ClvModelOut(BaseModel):
    """The latest fitted CLV model."""

    id: str
    fitted_at: datetime
    calibration: Window
    settings: ModelSettings
    n_customers: int = Field(description="Customers with a purchase by the calibration end.")
    bgnbd: BgNbdOut
    gamma_gamma: GammaGammaOut
    holdout: HoldoutOut | None = Field(description="Present when there are purchases after the calibration end.")


class ChurnModelOut(BaseModel):
    """The latest churn model, its evaluation against the BG/NBD baseline, and whether it is shipped."""

    id: str
    fitted_at: datetime
    clv_model_id: str
    training: dict[str, date] = Field(description="`cut` (features as of) and `holdout_end` (label window end).")
    features: list[str]
    shipped: bool = Field(description="True: `churn.risk` is this model's probability; else 1 − P(alive).")
    reason: str
    auc: float | None = Field(description="ROC AUC of the model on the test customers.")
    baseline_auc: float | None = Field(description="ROC AUC of ranking by fewest BG/NBD expected purchases.")
    n_train: int
    n_test: int
    churn_rate: float | None = Field(description="Share of customers with no purchase in the holdout.")
    coefficients: dict[str, float] = Field(description="Per standardised feature.")
    intercept: float


class CustomerClvOut(BaseModel):
    """One customer's CLV and churn risk from the latest models."""

    customer_id: UUID
    p_alive: float
    expected_purchases: float = Field(description="Over `horizon_days` after the calibration end.")
    expected_order_value: Decimal
    clv: Decimal = Field(description="margin × expected order value × discounted expected purchases.")
    currency: str
    horizon_days: int
    discount_rate: float
    margin: float
    model_id: str
    churn_risk: float | None
    churn_model_id: str | None


class RefitRequest(BaseModel):
    """Settings to use for this refit instead of the service's (`CRM_ANALYTICS_MODELS__*`)."""

    model_config = ConfigDict(extra="forbid")

    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    calibration_end: date | None = None
    time_unit_days: float | None = Field(default=None, gt=0)
    horizon_days: int | None = Field(default=None, ge=1, le=3650)
    discount_rate: float | None = Field(default=None, ge=0, le=1)
    margin: float | None = Field(default=None, gt=0, le=1)
    churn_holdout_days: int | None = Field(default=None, ge=1, le=3650)


class RefitOut(BaseModel):
    """The models a refit produced."""

    clv_model_id: str
    churn_model_id: str
    metrics_written: int
    customers_scored: int
    churn_shipped: bool
    reports_kept: int = Field(
        description="Dashboard reports computed when the refit ended (kept as snapshots unless the store refused one)."
    )


def get_db(projection: ProjectionDep) -> AsyncDatabase[dict[str, Any]]:
    """The database of the active projection generation (models and scores live beside it)."""
    database: AsyncDatabase[dict[str, Any]] = projection.customers.database
    return database


DbDep = Annotated[AsyncDatabase[dict[str, Any]], Depends(get_db)]


async def _latest(db: AsyncDatabase[dict[str, Any]], kind: str) -> dict[str, Any]:
    doc = await jobs.latest(db, kind)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} model fitted yet: POST /models/refit")
    return {("id" if k == "_id" else k): v for k, v in doc.items()}


def models_router(settings: AnalyticsSettings) -> APIRouter:
    """The `/models/*` routes and `/customers/{id}/clv`, refitting with `settings`."""
    router = APIRouter(tags=["models"])

    @router.get("/models/clv", summary="Latest BG/NBD + Gamma-Gamma CLV model", responses=NOT_FITTED)
    async def clv_model(db: DbDep, user: Analyst) -> ClvModelOut:
        """Parameters, log-likelihoods, customers, calibration window, settings and the holdout check."""
        return ClvModelOut.model_validate(await _latest(db, "clv"))

    @router.get("/models/churn", summary="Latest churn model and its AUC against the baseline", responses=NOT_FITTED)
    async def churn_model(db: DbDep, user: Analyst) -> ChurnModelOut:
        """Features, AUC next to the BG/NBD expected-purchases baseline AUC, and whether it is shipped."""
        doc = await _latest(db, "churn")
        doc["coefficients"] = dict(zip(doc["features"], doc["coefficients"], strict=False))
        return ChurnModelOut.model_validate(doc)

    @router.post(
        "/models/refit",
        summary="Start a refit job: recompute metrics, refit CLV, retrain churn",
        status_code=status.HTTP_202_ACCEPTED,
        responses={
            202: {
                "description": "The refit job, started. Read it at `Location` (`GET /jobs/{id}`) until it ends;"
                " its `result` is a `RefitOut`, or its `error` says why it failed (e.g. too little purchase data).",
                "headers": {"Location": JOB_LOCATION},
            },
            409: {
                "description": "A refit is already running: the detail names its job, `Location` points to it.",
                "headers": {"Location": JOB_LOCATION},
            },
        },
    )
    async def refit(
        db: DbDep,
        store: JobStoreDep,
        user: Analyst,
        response: Response,
        body: Annotated[RefitRequest | None, Body(examples=[{"calibration_end": "1997-09-30"}])] = None,
    ) -> Job:
        """Runs metrics → CLV → churn as of now, as a job; the same events and settings give the same model ids.

        The job runs on whether or not the client stays: one refit at a time, across API replicas and the
        scheduled `analytics-jobs` process.
        """
        overrides = body.model_dump(exclude_none=True, mode="json") if body else {}
        models = ModelSettings.model_validate(settings.models.model_dump() | overrides)

        async def work(report: Report) -> dict[str, Any]:
            result = await jobs.refit(db, settings, datetime.now(UTC), models, progress=report)
            return RefitOut.model_validate(result, from_attributes=True).model_dump()

        return await start_job(store, "refit", work, params=overrides, by=user.subject, response=response)

    @router.get(
        "/customers/{customer_id}/clv",
        summary="One customer's CLV, P(alive), expected purchases and churn risk",
        tags=["customer 360"],
        responses={404: {"description": "The customer has no CLV (no purchase by the calibration end)."}},
    )
    async def customer_clv(customer_id: UUID, db: DbDep, user: Reader) -> CustomerClvOut:
        """From the latest refit; amounts in the model's currency."""
        doc = await db[jobs.METRICS].find_one({"_id": str(customer_id)}, {"clv": 1, "churn": 1})
        if doc is None or not doc.get("clv"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no CLV for customer {customer_id}")
        value, risk = doc["clv"], doc.get("churn") or {}
        money = {k: Decimal(str(value[k])).quantize(Decimal("0.01")) for k in ("clv", "expected_order_value")}
        return CustomerClvOut.model_validate(
            value
            | money
            | {"customer_id": customer_id, "churn_risk": risk.get("risk"), "churn_model_id": risk.get("model_id")}
        )

    return router
