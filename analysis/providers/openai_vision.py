"""Vision analysis through an OpenAI-compatible `POST {base_url}/chat/completions`.

Together AI by default (LLaMA 3.2 Vision 90B); the same request works with vLLM, Ollama and
OpenRouter: only base URL, key and model name change. The image goes as a JPEG data URL in an
`image_url` part, JSON mode is on and the temperature low. The answer is untrusted: it is
parsed with `description_parse`; a truncated (`finish_reason: "length"`), malformed or invalid
answer is repaired ONCE by a second request that shows the model its errors, then rejected with
the reasons (`ProviderError` code `bad_response`). Usage tokens of both requests are counted.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from PIL import Image

from analysis.depth import depth_check, depth_max_tokens, depth_prompt_version
from analysis.description import DescriptionInvalid, MaterialDescription, description_parse
from analysis.http import ProviderSession, provider_session
from analysis.prompts import PROMPT_VERSION, SYSTEM_PROMPT, material_prompt, repair_prompt
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    ProviderError,
    Usage,
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class InvalidModelOutput(ProviderError):
    """The model answered, twice, with something that is not a valid description."""

    def __init__(self, message: str, *, reasons: list[str], usage: Usage) -> None:
        super().__init__(message, retryable=False, code="bad_response", usage=usage)
        self.reasons = reasons


def image_data_url(image: Image.Image, *, max_side: int, quality: int = 85) -> str:
    """The image as a `data:image/jpeg;base64,…` URL, scaled down to `max_side`."""
    rgb = image.convert("RGB")
    if max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _add(a: Usage, raw: Any) -> Usage:
    raw = raw if isinstance(raw, dict) else {}

    def count(key: str) -> int:
        value = raw.get(key)
        return int(value) if isinstance(value, int | float) and value >= 0 else 0

    return Usage(
        prompt_tokens=a.prompt_tokens + count("prompt_tokens"),
        completion_tokens=a.completion_tokens + count("completion_tokens"),
    )


class OpenAIVisionDescriber:
    """`ImageDescriber` over the OpenAI chat-completions wire format."""

    source = "model"
    embedding_model = None  # the model looks at the image itself

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        session: ProviderSession,
        max_tokens: int = 1200,
        image_max_side: int = 1024,
        temperature: float = 0.1,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model_id = model
        self.session = session
        self.max_tokens = max_tokens
        self.image_max_side = image_max_side
        self.temperature = temperature
        self.prompt_version = PROMPT_VERSION

    def prompt_version_for(self, depth: str) -> str:
        return depth_prompt_version(depth)

    def _request(self, messages: list[dict[str, Any]], depth: str) -> dict[str, Any]:
        payload = {
            "model": self.model_id,
            "messages": messages,
            "response_format": {"type": "json_object"},
            "temperature": self.temperature,
            "max_tokens": depth_max_tokens(depth, detailed=self.max_tokens),
        }
        data = self.session.post_json(self.url, payload).data
        if not isinstance(data, dict) or not data.get("choices"):
            raise ProviderError(
                f"{self.session.provider}: answer without choices",
                retryable=True,
                code="bad_response",
            )
        return data

    @staticmethod
    def _content(data: dict[str, Any]) -> tuple[str, str]:
        choice = data["choices"][0] if isinstance(data["choices"], list) else {}
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # some servers answer with content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return (content or ""), str(choice.get("finish_reason") or "")

    @staticmethod
    def _parse(content: str, finish_reason: str, depth: str) -> MaterialDescription:
        if finish_reason == "length":
            raise DescriptionInvalid(
                ["the answer was cut off (finish_reason: length): give a shorter, complete object"]
            )
        fenced = _FENCE.match(content)
        text = fenced.group(1) if fenced else content
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise DescriptionInvalid([f"not valid JSON: {exc}"]) from exc
        description = description_parse(raw)
        missing = depth_check(raw, depth)
        if missing:
            raise DescriptionInvalid(missing)
        return description

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": material_prompt(hints.depth)},
                    {
                        "type": "image_url",
                        "image_url": {"url": image_data_url(image, max_side=self.image_max_side)},
                    },
                ],
            },
        ]
        usage = Usage()
        data = self._request(messages, hints.depth)
        usage = _add(usage, data.get("usage"))
        content, finish_reason = self._content(data)
        try:
            description = self._parse(content, finish_reason, hints.depth)
        except DescriptionInvalid as first:
            # One repair: the model sees its own answer and what is wrong with it.
            messages += [
                {"role": "assistant", "content": content[:4000]},
                {"role": "user", "content": repair_prompt(first.reasons)},
            ]
            try:
                data = self._request(messages, hints.depth)
            except ProviderError as exc:
                exc.usage = usage  # the first answer was paid for: the ledger counts it
                raise
            usage = _add(usage, data.get("usage"))
            content, finish_reason = self._content(data)
            try:
                description = self._parse(content, finish_reason, hints.depth)
            except DescriptionInvalid as second:
                raise InvalidModelOutput(
                    f"{self.session.provider}: invalid description after one repair: "
                    + "; ".join(second.reasons[:5]),
                    reasons=second.reasons,
                    usage=usage,
                ) from second
        return DescriptionResult(
            description=description,
            source=self.source,
            model_id=self.model_id,
            prompt_version=depth_prompt_version(hints.depth),
            usage=usage,
            depth=hints.depth,
        )


def openai_describer(
    *,
    base_url: str,
    model: str,
    api_key: str | None,
    timeout: tuple[float, float],
    max_tokens: int,
    image_max_side: int,
) -> OpenAIVisionDescriber:
    """The describer of a chain entry (`SWATCH_PROVIDERS["CHAINS"]`): its own HTTP session."""
    return OpenAIVisionDescriber(
        base_url=base_url,
        model=model,
        session=provider_session("openai", timeout=timeout, api_key=api_key),
        max_tokens=max_tokens,
        image_max_side=image_max_side,
    )
