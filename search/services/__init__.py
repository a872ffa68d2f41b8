"""The search service: encode the query, run the strategies, fuse, explain, cache.

Phase `fast` answers from the vectors (image, text) at once; when the query has an image and
a describer, its analysis runs in the background (`search.refinement`) and
`search_answer_get` then answers phase `refined`, adding property matching and the
description's semantic match.

One module a step, in the order a search takes them:

- `run`: the entry points, `search_run` and `search_answer_get`;
- `encode`: the query's state (its vectors, the material's stored inputs);
- `vectors`: the query vectors each vector strategy searches with;
- `strategy_lists`: the weighted strategies run side by side, their ranked lists and rows;
- `strategy_calls`: how a vector strategy is called (knobs, rows read along, candidates);
- `answer`: fusion, relevance and the page of results, through the answer cache.
"""

from search.services.run import REFINE_MODES, search_answer_get, search_run

__all__ = ["REFINE_MODES", "search_answer_get", "search_run"]
