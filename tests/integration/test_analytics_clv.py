"""CLV on real data through the real platform: the CDNOW sample imported via sales, fitted by analytics.

The fit from the events that reached analytics must equal the fit straight from the file
(the same transactions), and both must be close to the published BG/NBD and Gamma-Gamma
parameters.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.analytics import clv
from services.analytics.features import summarise
from services.analytics.tests.cdnow_sample import CALIBRATION_END, HOLDOUT_END, SAMPLE, cdnow_histories
from tests.integration.platform import Platform, eventually

HOLDOUT_DAYS = (HOLDOUT_END - CALIBRATION_END).days


def analytics(platform: Platform, method: str, path: str, **kwargs: Any) -> httpx.Response:
    url = f"{platform.url('analytics')}{path}"
    return httpx.request(method, url, headers=platform.headers("analyst"), timeout=300, **kwargs)


def orders_projected(platform: Platform, rows: int) -> int | None:
    docs = platform.mongo["customer_360"].find({"sales": {"$exists": True}}, {"sales.order_count": 1})
    total = sum(d["sales"]["order_count"] for d in docs)
    return total if total == rows else None


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_cdnow_clv_fitted_from_the_events_matches_the_file_and_the_literature(platform: Platform) -> None:
    for name in ("sales", "sales-relay", "analytics-projector", "analytics"):
        platform.start(name)
    text = SAMPLE.read_text()
    rows = len(text.splitlines())
    imported = httpx.post(
        f"{platform.url('sales')}/imports/cdnow-orders",
        headers=platform.headers("integration"),
        content=text,
        timeout=300,
    )
    assert imported.status_code in (200, 201), imported.text
    assert imported.json()["imported"] == rows
    started = time.monotonic()
    eventually(lambda: orders_projected(platform, rows), timeout=300, interval=2, what="every order in analytics")
    print(f"every order projected after {time.monotonic() - started:.1f}s")

    body = {"calibration_end": CALIBRATION_END.isoformat(), "churn_holdout_days": HOLDOUT_DAYS}
    started = time.monotonic()
    job = platform.refit(body)
    print(f"refit (metrics, CLV, churn) took {time.monotonic() - started:.1f}s; the job says {job['seconds']}s")
    assert job["state"] == "succeeded", job
    assert job["progress"]["stage"] == "done"
    refit = job["result"]
    assert refit["customers_scored"] == 2357

    model = analytics(platform, "GET", "/models/clv").json()
    summary = summarise(cdnow_histories(), CALIBRATION_END, 7.0)
    direct = clv.fit_bgnbd(summary.x, summary.t_x, summary.big_t)
    fitted = model["bgnbd"]
    assert model["n_customers"] == direct.n_customers == 2357
    assert model["calibration"] == {"start": "1997-01-01", "end": "1997-09-30"}
    d = direct.params
    params = (fitted["r"], fitted["alpha"], fitted["a"], fitted["b"])
    assert params == pytest.approx((d.r, d.alpha, d.a, d.b), rel=1e-4)
    assert fitted["log_likelihood"] == pytest.approx(direct.log_likelihood, abs=1e-3)
    assert (fitted["r"], fitted["alpha"], fitted["a"], fitted["b"]) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=0.002
    )
    assert fitted["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    gg = model["gamma_gamma"]
    assert (gg["p"], gg["q"], gg["gamma"], gg["n_customers"]) == pytest.approx((6.25, 3.74, 15.44, 946), abs=0.01)
    holdout = model["holdout"]
    assert (holdout["start"], holdout["end"], holdout["actual"]) == ("1997-10-01", "1998-06-30", 1882)
    assert holdout["predicted"] == pytest.approx(1653.4, abs=1.0)
    print(f"holdout repeat purchases: predicted {holdout['predicted']}, actual {holdout['actual']}")

    churn = analytics(platform, "GET", "/models/churn").json()
    assert churn["auc"] is not None
    assert churn["baseline_auc"] is not None
    assert churn["shipped"] == (churn["auc"] > churn["baseline_auc"])
    print(f"churn AUC {churn['auc']:.3f} vs BG/NBD baseline {churn['baseline_auc']:.3f}, shipped {churn['shipped']}")

    customer = platform.mongo["customer_metrics"].find_one({"clv.clv": {"$gt": 0}, "churn.risk": {"$gte": 0}})
    assert customer is not None
    assert "rfm" in customer
    one = analytics(platform, "GET", f"/customers/{customer['_id']}/clv")
    assert one.status_code == 200, one.text
    assert one.json()["model_id"] == model["id"]
