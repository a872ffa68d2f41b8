"""Search quality on a labelled folder (`manage.py evaluate_search`)."""
