"""What a request will cost the limits, from its JSON payload (OpenAI wire format), before it
is sent — and what it did cost, from the answer's `usage`."""

from __future__ import annotations

import math
from typing import Any

CHARS_PER_TOKEN = 4  # English prose and JSON Schema, as LLaMA's tokenizer cuts them (about)


def _text_and_images(messages: Any) -> tuple[int, int]:
    chars = images = 0
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            chars += len(content)
            continue
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "image_url":
                images += 1
            else:
                chars += len(str(part.get("text", "")))
    return chars, images


def request_amounts(payload: dict[str, Any], *, image_tokens: int) -> dict[str, int]:
    """`tokens` (prompt text + images + `max_tokens`) and `items` (embedding inputs)."""
    chars, images = _text_and_images(payload.get("messages"))
    tokens = 0
    if "messages" in payload:
        max_tokens = payload.get("max_tokens")
        completion = int(max_tokens) if isinstance(max_tokens, int | float) else 0
        tokens = math.ceil(chars / CHARS_PER_TOKEN) + images * image_tokens + completion
    inputs = payload.get("input")
    items = len(inputs) if isinstance(inputs, list) else (1 if inputs else 0)
    return {"tokens": tokens, "items": items}


def used_tokens(data: Any) -> int | None:
    """Prompt + completion tokens of an answer, or None when it does not say."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    counts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens")]
    known = [int(v) for v in counts if isinstance(v, int | float) and v >= 0]
    return sum(known) if known else None
