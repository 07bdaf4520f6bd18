"""Marketing automation (segments, campaigns, consent, tracking).

Not built yet: package skeleton only (see the status table in README.md)."""
