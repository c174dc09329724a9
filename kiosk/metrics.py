"""Process-local Prometheus metrics of the tap path (exposed on /metrics by the default registry).

Counts that must be right across several server processes (scans by outcome, open loans) are
computed from the database at scrape time instead; a processing time can only be measured here.
"""

from prometheus_client import Histogram

TAP_SECONDS = Histogram(
    "toolcrib_tap_processing_seconds",
    "Time to interpret and apply one tap, from rule lookup to its database writes.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
