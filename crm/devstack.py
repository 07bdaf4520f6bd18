"""The platform's processes on one machine, for `make run` and the integration tests.

Each service runs as its own OS process exactly as in production (`python -m ...`),
configured only by environment variables; this module picks ports, starts them, waits
until they answer and stops them. Detached processes (for `make run`) outlive the
command that started them and are found again through pid files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.analytics.settings import AnalyticsSettings
from services.customer.settings import CustomerSettings
from services.marketing.settings import MarketingSettings
from services.sales.settings import SalesSettings
from services.social.settings import SocialSettings
from services.support.settings import SupportSettings

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Service:
    """One process of the platform: what runs, and where its HTTP port is configured."""

    name: str
    module: str
    port_var: str | None = None
    default_port: int | None = None
    """The port its settings default to; `make run` uses it when it is free."""

    @property
    def health_path(self) -> str | None:
        """Where the process says it is up, if it serves HTTP."""
        return "/healthz" if self.port_var else None


SERVICES = (
    # customer
    Service("customer", "services.customer.main", "CRM_CUSTOMER_PORT", CustomerSettings.model_fields["port"].default),
    Service("customer-relay", "services.customer.relay"),
    Service("customer-consumers", "services.customer.consumers"),
    # sales
    Service("sales", "services.sales.main", "CRM_SALES_PORT", SalesSettings.model_fields["port"].default),
    Service("sales-relay", "services.sales.relay"),
    Service("sales-consumers", "services.sales.consumers"),
    Service("sales-expiry", "services.sales.expiry"),
    # marketing
    Service(
        "marketing", "services.marketing.main", "CRM_MARKETING_PORT", MarketingSettings.model_fields["port"].default
    ),
    Service("marketing-relay", "services.marketing.relay"),
    Service("marketing-consumers", "services.marketing.consumers"),
    Service("marketing-sender", "services.marketing.sender"),
    # support
    Service("support", "services.support.main", "CRM_SUPPORT_PORT", SupportSettings.model_fields["port"].default),
    Service("support-relay", "services.support.relay"),
    Service("support-consumers", "services.support.consumers"),
    Service("support-scheduler", "services.support.scheduler"),
    # social
    Service("social", "services.social.main", "CRM_SOCIAL_PORT", SocialSettings.model_fields["port"].default),
    Service("social-relay", "services.social.relay"),
    Service("social-consumers", "services.social.consumers"),
    Service("social-scheduler", "services.social.scheduler"),
    # analytics
    Service("analytics-projector", "services.analytics.projector"),
    Service("analytics-jobs", "services.analytics.jobs"),
    Service(
        "analytics", "services.analytics.main", "CRM_ANALYTICS_PORT", AnalyticsSettings.model_fields["port"].default
    ),
)


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nothing listens on it on 127.0.0.1 right now, else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred or 0))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines (as written by deploy/local/up.sh), comments skipped."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass
class Running:
    """A started service process and where to reach it."""

    service: Service
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        """Base URL of the service's HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def kill(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal the process and wait for it (SIGKILL if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


@dataclass
class Stack:
    """A set of running services sharing one environment."""

    env: dict[str, str]
    log_dir: Path
    detach: bool = False
    running: dict[str, Running] = field(default_factory=dict)

    def start(self, service: Service, deadline: float = 60) -> Running:
        """Start `service` and wait until it answers (HTTP) or at least stays up."""
        env = dict(self.env)
        port = None
        if service.port_var:
            port = int(env.get(service.port_var) or free_port())
            env[service.port_var] = str(port)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{service.name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", service.module],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=self.detach,
            )
        running = Running(service, process, log, port)
        key = service.name if service.name not in self.running else f"{service.name}#{len(self.running)}"
        self.running[key] = running
        wait_until_up(running, deadline)
        return running

    def start_all(self) -> None:
        """Start every service of the platform."""
        for service in SERVICES:
            self.start(service)

    def stop_all(self) -> None:
        """Stop every service this stack started, last started first."""
        for running in reversed(list(self.running.values())):
            running.kill()
        self.running.clear()


def wait_until_up(running: Running, deadline: float) -> None:
    """Block until the service's health endpoint answers; raise with its log if it died."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if running.process.poll() is not None:
            raise RuntimeError(f"{running.service.name} exited:\n{tail(running.log)}")
        if running.service.health_path is None:
            return
        try:
            if httpx.get(running.url + running.service.health_path, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{running.service.name} did not answer within {deadline}s:\n{tail(running.log)}")


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def environment(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment plus `overrides`, with the project root importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env | (overrides or {})
