"""Customer service and support: tickets, queues, SLAs in business hours, escalation, CSAT/NPS, feedback."""
