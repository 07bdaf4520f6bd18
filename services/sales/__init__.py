"""Sales automation (leads, opportunities, quotes, orders, forecast).

Not built yet: package skeleton only (see the status table in README.md)."""
