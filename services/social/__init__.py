"""Social media management (accounts, calendar, inbox, sentiment).

Not built yet: package skeleton only (see the status table in README.md)."""
