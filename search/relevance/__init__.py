"""Relevance: calibrated evidence per strategy, one relevance in [0, 1] per result, P(material)
of an image query, and the fitting of all of it (docs/ARCHITECTURE.md, Relevance)."""
