"""The operator's `crm` command line: tokens now; status, rebuild, verify, replay to come."""
