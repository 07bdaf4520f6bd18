"""Analytics: consumes every public stream and keeps read models (projections) in MongoDB."""
