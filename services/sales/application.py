"""The sales service's application: every command of the service, on one event store.

The commands are grouped by subject in their own modules (leads and deals, commerce,
lifecycle); this class puts them together on one `eventsourcing` application so one
store, one notification log and one read model serve them all.
"""

from __future__ import annotations

from services.sales.commerce_commands import CommerceCommands
from services.sales.lead_commands import LeadCommands
from services.sales.lifecycle_commands import LifecycleCommands


class SalesApplication(LeadCommands, CommerceCommands, LifecycleCommands):
    """Sales automation: leads, opportunities, price book, quotes, orders, team registry."""
