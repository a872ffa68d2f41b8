"""Template tags of the curation admin: the review queue's counts on the admin home."""

from django import template

from analysis.curation.review import review_queue_counts as counts_of_queue

register = template.Library()


@register.simple_tag
def review_queue_counts() -> dict[str, int]:
    return counts_of_queue()
