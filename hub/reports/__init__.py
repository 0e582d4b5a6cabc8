"""Reports: reporting facts recorded as they happen, per-day rollups with mergeable quantile
sketches, the live operations view and the figures supervisors read."""
