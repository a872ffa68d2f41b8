"""Observability of a Swatch node: `/metrics` (Prometheus), `/readyz`, the worker heartbeat,
what travels with background tasks (the request id, worker time) and the JSON log format.

Each app keeps its own series (`materials.metrics`, `analysis.metrics`, `search.metrics`);
this package exposes them with the state every process shares, read when scraped
(`collectors`). See docs/OPERATIONS.md.
"""
