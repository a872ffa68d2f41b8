"""Text queries as designers write them: lemmas, plurals and synonyms of materials, colours,
finishes and patterns (`lexicon`), read into a partial description (`parser`)."""

from search.textquery.parser import (
    TextQuery,
    description_from_text,
    fulltext_query,
    lemma,
    text_query_parse,
)

__all__ = ["TextQuery", "description_from_text", "fulltext_query", "lemma", "text_query_parse"]
