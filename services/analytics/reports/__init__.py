"""Business reports over the projections: each a function (db, params) → `Report`, small by construction.

Inputs are streamed from MongoDB cursors and folded into per-period or per-group totals,
so the size of a report is the number of periods, stages, channels or campaigns, never
the number of events. Every rule is in the README section "Metrics and reports".
"""
