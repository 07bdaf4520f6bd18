"""The SLA scheduler process: warnings and breaches exactly once per ticket and target, auto-close, and
assignment of waiting tickets once an agent of their queue has room again.

Each tick reads the views, works out every open ticket's SLA targets at "now" and, for a
warning or breach the ticket has not recorded yet, records it on the ticket aggregate;
the relay then publishes it. "Exactly once, also after restarts" rests on that record in
the event store: a restarted scheduler sees it and does nothing, and two schedulers
racing for the same ticket collide on its version, so one of them loses.
The clock is injected: tests pass their own, and `CRM_SUPPORT_SCHEDULER_NOW` /
`CRM_SUPPORT_SCHEDULER_OFFSET_SECONDS` set it for test and operations runs.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from services.support.application import SupportApplication, system_clock
from services.support.domain import AlreadyRecorded, IllegalTransition, StaleVersion
from services.support.monitoring import target_statuses
from services.support.settings import SupportSettings
from services.support.sla import TargetStatus
from shared.platform import logs
from shared.platform.eventstore import persistence_env

log = logging.getLogger("crm.support.scheduler")


@dataclass
class TickReport:
    """What one tick did."""

    warned: int = 0
    breached: int = 0
    closed: int = 0
    assigned: int = 0
    lost_races: int = 0


class SlaScheduler:
    """Emits owed SLA warnings/breaches and closes long-resolved tickets, using the application's clock."""

    def __init__(self, app: SupportApplication) -> None:
        self.app = app

    def tick(self) -> TickReport:
        """One pass over every ticket that is not closed."""
        report = TickReport()
        desk, now = self.app.desk(), self.app.clock()
        calendar = desk.calendar
        for row in self.app.views.tickets(lambda r: r.status != "closed"):
            for status in target_statuses(row, calendar, desk.warn_fraction, now):
                self._owed(row.id, row.sla_recorded, status, report)
            if row.status == "resolved" and self._attempt(partial(self.app.auto_close, row.id), report):
                report.closed += 1
            waiting = row.assignee is None and row.queue_id is not None and row.status != "resolved"
            if waiting and self._attempt(partial(self.app.assign_waiting, row.id), report):
                report.assigned += 1
        return report

    def _owed(self, ticket_id: UUID, recorded: list[str], status: TargetStatus, report: TickReport) -> None:
        for kind, reached in (("warning", status.warn_reached), ("breach", status.breached)):
            if not reached or f"{status.target}:{kind}" in recorded:
                continue
            record = partial(
                self.app.record_sla,
                ticket_id,
                version=None,
                kind=kind,
                target=status.target,
                elapsed_seconds=status.elapsed_seconds,
                due_at=status.due_at,
            )
            done = self._attempt(record, report)
            if done:
                report.warned += kind == "warning"
                report.breached += kind == "breach"
                log.info("SLA %s of %s recorded for ticket %s", kind, status.target, ticket_id)

    @staticmethod
    def _attempt(action: Callable[[], object], report: TickReport) -> bool:
        """Run one recording; another scheduler (or an earlier run) having done it is not an error."""
        try:
            return action() is not False
        except (AlreadyRecorded, IllegalTransition):
            return False
        except StaleVersion:
            report.lost_races += 1
            return False


def run(scheduler: SlaScheduler, stop: threading.Event, interval: float) -> None:
    """Tick every `interval` seconds until `stop` is set; a failing tick is logged and retried."""
    while not stop.is_set():
        try:
            report = scheduler.tick()
            busy = report.warned or report.breached or report.closed or report.assigned
            level = logging.INFO if busy else logging.DEBUG
            log.log(level, "scheduler tick done: %s", report)
        except Exception:
            log.exception("scheduler tick failed; retrying in %.1fs", interval)
        stop.wait(interval)


def main() -> None:
    """Entry point: `python -m services.support.scheduler`."""
    settings = SupportSettings()
    logs.configure("support-scheduler", settings.log_level)
    app = SupportApplication(
        env=persistence_env(settings.store), clock=lambda: settings.scheduler_clock_reading(system_clock())
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(SlaScheduler(app), stop, settings.scheduler_interval_seconds)


if __name__ == "__main__":
    main()
