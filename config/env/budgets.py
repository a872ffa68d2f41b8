"""Outbound limits and money budgets of the model APIs (`analysis.limits`, `analysis.budget`)."""

from __future__ import annotations

from config.env.registry import declare

VISION_LIMIT_RPM = declare(
    "SWATCH_VISION_LIMIT_RPM",
    "60",
    "Requests a minute Swatch may send to the vision endpoint (Together AI: 60), counted before "
    "each request across every process (Redis, or the database without it); 0: no limit. Over "
    "it, background analyses are deferred and a search's refinement is answered offline.",
)
VISION_LIMIT_TOKENS_PER_HOUR = declare(
    "SWATCH_VISION_LIMIT_TOKENS_PER_HOUR",
    "1000000",
    "Tokens an hour for the vision endpoint (prompt + completion; Together AI: 1,000,000): "
    "each request is counted before it goes by an estimate (prompt text, image, `max_tokens`) "
    "and corrected from the answer's `usage`; 0: no limit.",
)
VISION_IMAGE_TOKENS = declare(
    "SWATCH_VISION_IMAGE_TOKENS",
    "1600",
    "Prompt tokens one image is estimated to cost the vision model, for the token limit's "
    "estimate before a request (corrected from `usage` after it).",
)
CLIP_LIMIT_RPM = declare(
    "SWATCH_CLIP_LIMIT_RPM",
    "120",
    "Requests a minute to the remote CLIP endpoint (SWATCH_CLIP_REMOTE_URL); 0: no limit.",
)
CLIP_LIMIT_EMBEDDINGS_PER_DAY = declare(
    "SWATCH_CLIP_LIMIT_EMBEDDINGS_PER_DAY",
    "10000",
    "Embeddings (inputs, images and texts) a day from the remote CLIP endpoint; 0: no limit.",
)
MODEL_BUDGET_USD_DAY = declare(
    "SWATCH_MODEL_BUDGET_USD_DAY",
    None,
    "Money the model APIs may cost per UTC day, in USD, from the ledger's prices "
    "(SWATCH_MODEL_PRICES). A warning at SWATCH_MODEL_BUDGET_WARN_SHARE of it (log, admin "
    "notice, `mail_admins` when ADMINS are set); at 100 % paid calls stop and the offline "
    "providers answer until the day turns. Empty: no daily budget.",
)
MODEL_BUDGET_USD_MONTH = declare(
    "SWATCH_MODEL_BUDGET_USD_MONTH",
    None,
    "The same per UTC calendar month. Empty: no monthly budget.",
)
MODEL_BUDGET_WARN_SHARE = declare(
    "SWATCH_MODEL_BUDGET_WARN_SHARE",
    "0.8",
    "Share of a money budget at which Swatch warns (once per period).",
)
ADMINS = declare(
    "SWATCH_ADMINS",
    "",
    "Email addresses (comma-separated) Django's `mail_admins` writes to: the budget warnings "
    "go there when set (with Django's EMAIL_* defaults: an SMTP server on localhost).",
)
