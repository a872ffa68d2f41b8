"""Who may use the API and the catalogs: API keys (hashed, scoped, restricted by IP and origin,
rotated with a grace period, rate tiers), private catalogs and their grants, and alerts on a
key's unusual usage. `services` changes keys, `selectors` reads them; `authentication` and
`permissions` are the DRF side."""
