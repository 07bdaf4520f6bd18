"""Cross-cutting plumbing every service shares: auth, logging, metrics, health, Kafka, event store.

Nothing domain-specific lives here; the public event contract is `shared.events`.
"""
