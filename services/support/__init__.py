"""Customer service and support (tickets, SLAs, CSAT/NPS).

Not built yet: package skeleton only (see the status table in README.md)."""
