"""The one error path. Every failure a request meets ends as a clear answer: the JSON error
envelope on the API (`/api/…`), the site's own error page elsewhere; server errors are logged
with their traceback and the request id, outages of the database or the cache are a 503 with
`Retry-After`. `handlers` holds Django's handler400/403/404/500, `envelope` the JSON shape,
`outages` what counts as an outage."""
