"""The six CRM services; each owns its aggregates and talks to the others only through events."""
