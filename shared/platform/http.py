"""What every service's HTTP app has: correlation ids, trace spans, metrics, health and readiness.

`/healthz` says the process is up; `/readyz` runs the service's readiness checks, each
bounded in time (a hung store is a failure, not a hung probe), and answers 503 naming
the failing one, so Kubernetes stops routing to a pod that cannot do its job. Advisory
checks (Kafka, for a write API) are reported but never make the pod unready: a write API
keeps taking commands while the broker is away, its outbox holds the events until the
relay can publish them, and taking every API out of service on a broker outage would
turn a delay into downtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.events import asyncapi
from shared.platform import correlation, tracing
from shared.platform.inputpolicy import install_input_policy
from shared.platform.kafka import KafkaSettings, readiness
from shared.platform.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.platform.openapi import amend_openapi, api_routes
from shared.platform.paging import pages_in
from shared.platform.problems import install_problems

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises if a dependency is unreachable."""
CHECK_SECONDS = 5.0
"""How long a readiness check may take before it counts as failed."""

log = logging.getLogger("crm.http")

UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probe and scrape endpoints: polled every few seconds, their spans would drown the real ones."""
_TRACE_HEADERS = frozenset(name.encode() for name in tracing.FIELDS)


class CorrelationMiddleware:
    """Binds the request's `X-Correlation-ID` (or a new one) and echoes it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(correlation.HEADER.lower().encode())
        token = correlation.bind(incoming.decode()[:128] if incoming else None)
        cid = correlation.current() or ""

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((correlation.HEADER.encode(), cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation.reset(token)


class TracingMiddleware:
    """One SERVER span per request, continuing the caller's W3C `traceparent` (or a new trace).

    The span is current while the request runs, so the events it stores carry its
    context. It is named by route template (`POST /customers/{customer_id}/notes`);
    paths and query strings are not recorded, as they may hold personal data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED:
            await self.app(scope, receive, send)
            return
        # ASGI header names are lower-case bytes.
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _TRACE_HEADERS}
        method: str = scope["method"]
        status = 500
        attributes = {"http.request.method": method, "url.scheme": str(scope.get("scheme", "http"))}
        if cid := correlation.current():
            attributes["crm.correlation_id"] = cid

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with tracing.tracer().start_as_current_span(
            method, context=tracing.extract(carrier), kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def instrument(
    app: FastAPI,
    service: str,
    checks: Mapping[str, ReadinessCheck],
    *,
    advisory: Mapping[str, ReadinessCheck] | None = None,
    check_seconds: float = CHECK_SECONDS,
) -> None:
    """Add correlation, tracing, metrics, access logs, the input policy, problem answers, and the probes.

    Probes: `/healthz`, `/readyz` and `/metrics`; problem answers: `problems.py` (every
    error as RFC 9457 problem details, documented per operation in the OpenAPI).

    Middleware order, outermost first: correlation id, trace span, metrics and access log,
    input policy (`inputpolicy.py`), so the access log line carries both and the span
    records the correlation id, and a refused body is logged and counted like any answer.
    """
    install_input_policy(app)
    install_problems(app)
    amend_openapi(app, lambda document: pages_in(document, api_routes(app)))

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = _route_of(request)
        HTTP_REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, route).observe(elapsed)
        log.info(
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={"status": response.status_code, "duration_ms": round(elapsed * 1000, 2)},
        )
        return response

    app.add_middleware(TracingMiddleware)
    _without_native_tracing(app)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(_health_router(checks, advisory or {}, check_seconds))


def _without_native_tracing(app: FastAPI) -> None:
    """Turn off FastAPI's own request spans (FastAPI >= 0.162 makes them once a tracer provider exists).

    `TracingMiddleware` makes the one SERVER span per request; FastAPI's would be a second
    one, recording the raw path and query string (search terms such as names and email
    addresses: personal data we must not ship to a tracing backend). The service mains
    build their apps without a `telemetry=` argument, so the setting is changed here, on
    the config mapping FastAPI reads per request; the tracing tests fail if that changes.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config["tracing"] = False


async def _failures(checks: Mapping[str, ReadinessCheck], seconds: float) -> dict[str, str]:
    """Each failing check's error, every check run at once and bounded by `seconds`."""

    async def one(check: ReadinessCheck) -> str | None:
        try:
            await asyncio.wait_for(check(), seconds)
        except TimeoutError:
            return f"TimeoutError: no answer within {seconds:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return f"{type(exc).__name__}: {exc}"
        return None

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
    return {name: error for name, error in zip(names, results, strict=True) if error is not None}


def _health_router(
    checks: Mapping[str, ReadinessCheck], advisory: Mapping[str, ReadinessCheck], seconds: float
) -> APIRouter:
    router = APIRouter(tags=["operations"])
    events_document = asyncapi.document()  # the contract is fixed for the life of the process

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: every required dependency answers in time (advisory ones are reported)",
        responses={503: {"description": "A required dependency failed or did not answer in time."}},
    )
    async def readyz() -> JSONResponse:
        failing, degraded = await asyncio.gather(_failures(checks, seconds), _failures(advisory, seconds))
        if failing:
            return JSONResponse({"status": "unavailable", "failing": failing} | _advisory(degraded), status_code=503)
        body: dict[str, Any] = {"status": "ready", "checks": sorted(checks)}
        if advisory:
            body |= {"advisory": sorted(advisory)} | _advisory(degraded)
        return JSONResponse(body)

    @router.get("/asyncapi.json", summary="AsyncAPI 3.0 document of the platform's public events")
    async def asyncapi_document() -> dict[str, Any]:
        return events_document

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def _advisory(degraded: dict[str, str]) -> dict[str, Any]:
    return {"degraded": degraded} if degraded else {}


def store_readiness(recorder: Any) -> ReadinessCheck:
    """Ready when the event store answers (the notification log's head, read in a worker thread)."""

    async def event_store() -> None:
        await asyncio.to_thread(recorder.max_notification_id)

    return event_store


def service_checks(recorder: Any) -> dict[str, ReadinessCheck]:
    """The readiness checks an event-sourced API needs to take commands: its store."""
    return {"event_store": store_readiness(recorder)}


def broker_checks(kafka: KafkaSettings | None) -> dict[str, ReadinessCheck]:
    """Kafka, as an advisory check of a write API (its outbox holds events while the broker is away)."""
    return {} if kafka is None else {"kafka": readiness(kafka)}


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` with uvicorn, logging through our JSON logs (access lines come from `instrument`)."""
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
