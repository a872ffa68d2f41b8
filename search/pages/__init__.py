"""The server-rendered pages: `/` (search) and `/materials/{id}/`, built on the search
service (never on HTTP to ourselves)."""
