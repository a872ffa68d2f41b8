"""bench_search: synthetic catalog, timing, live server, ingestion figures."""
