"""The analysis app in the Django admin.

- `analyses`: every analysis (the pipeline's view, with the dead-letter list) and embeddings;
- `queue`: the curation review queue (least confident first), its filters and bulk actions;
- `common`: the review page (the change view of an analysis), columns and actions shared;
- `rerun`: the analysis options (depth, vision, CLIP) of the re-run actions, their page;
- `audit`: the audit trail and user flags, read-only;
- `costs`: the model-call ledger and the costs page per day and model;
- `registry`: the embedding models, their indexes and coverage per catalog.
"""

from analysis.admin import analyses, audit, costs, queue, registry  # noqa: F401 - registers the admins
