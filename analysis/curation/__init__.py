"""Curation of analyses: the review queue, approve / reject / correct / re-run, the audit
trail, user flags, the curator role and curated-label export/import.

`selectors` reads, `services` and `labels` write; the admin (`analysis.admin`) and the
commands only parse input, call one of them and render.
"""
