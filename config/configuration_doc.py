"""docs/CONFIGURATION.md is generated from the declarations in `config.env`."""

from __future__ import annotations

from config import env

HEADER = """# Configuration

Swatch reads its configuration from environment variables, in one package (`config/env/`, a
module per area); this page is generated from it by `python manage.py config_doc` (a test fails
when it is stale). Variables marked *secret* are never logged.

| variable | default | meaning |
|---|---|---|
"""


def configuration_markdown() -> str:
    rows = []
    for var in env.REGISTRY.values():
        default = f"`{var.default}`" if var.default not in (None, "") else "—"
        if var.default and str(env.BASE_DIR) in var.default:
            default = f"`{var.default.replace(str(env.BASE_DIR), '<project>')}`"
        meaning = var.doc + (" *secret*" if var.secret else "")
        rows.append(f"| `{var.name}` | {default} | {meaning} |")
    return HEADER + "\n".join(rows) + "\n"
