"""Model providers, outbound HTTP, resilience, the cost ledger."""

from __future__ import annotations

from config.env.registry import declare

VISION_PROVIDER = declare(
    "SWATCH_VISION_PROVIDER",
    "offline",
    "Who describes images: `openai` (any OpenAI-compatible chat-completions endpoint with "
    "image input: Together AI, vLLM, Ollama, OpenRouter; falls back to the offline analyser) "
    "or `offline` (the offline analyser only).",
)
IMAGE_EMBEDDER = declare(
    "SWATCH_IMAGE_EMBEDDER",
    "offline",
    "Who embeds images: `offline` (EfficientNet-Lite0), `clip-local` (CLIP ViT-B/32 from "
    "SWATCH_CLIP_WEIGHTS_DIR, needs torch) or `clip-remote` (SWATCH_CLIP_REMOTE_URL). CLIP "
    "falls back to local CLIP (when configured), then offline; each vector keeps the name of "
    "the model that made it.",
)
TEXT_EMBEDDER = declare(
    "SWATCH_TEXT_EMBEDDER",
    "offline",
    "Who embeds text: `offline` (MiniLM, description space), `clip-local` or `clip-remote` "
    "(CLIP text tower, image space: text→image search). Same fallback chain as images.",
)
VISION_BASE_URL = declare(
    "SWATCH_VISION_BASE_URL",
    "https://api.together.xyz/v1",
    "Base URL of the OpenAI-compatible vision endpoint (`…/v1`; `/chat/completions` is "
    "appended). E.g. `http://localhost:8000/v1` (vLLM), `http://localhost:11434/v1` (Ollama), "
    "`https://openrouter.ai/api/v1`.",
)
VISION_MODEL = declare(
    "SWATCH_VISION_MODEL",
    "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
    "Vision model name as the endpoint knows it.",
)
VISION_API_KEY = declare(
    "SWATCH_VISION_API_KEY",
    None,
    "Bearer key of the vision endpoint (Together AI key by default). Empty: no Authorization "
    "header (local vLLM/Ollama).",
    secret=True,
)
VISION_CONNECT_TIMEOUT = declare(
    "SWATCH_VISION_CONNECT_TIMEOUT", "5", "Seconds to connect to the vision endpoint."
)
VISION_READ_TIMEOUT = declare(
    "SWATCH_VISION_READ_TIMEOUT",
    "90",
    "Seconds to wait for the vision endpoint's answer (one request; retries come on top, "
    "bounded by SWATCH_HTTP_MAX_TOTAL_SECONDS).",
)
VISION_MAX_TOKENS = declare(
    "SWATCH_VISION_MAX_TOKENS",
    "1200",
    "`max_tokens` of a description answer (a full description is ~400–700 tokens).",
)
VISION_IMAGE_MAX_SIDE = declare(
    "SWATCH_VISION_IMAGE_MAX_SIDE",
    "1024",
    "Images sent to the vision model are scaled down to this long side (JPEG data URL).",
)
CLIP_WEIGHTS_DIR = declare(
    "SWATCH_CLIP_WEIGHTS_DIR",
    None,
    "Folder with a transformers CLIP checkpoint (`config.json`, weights, tokenizer and "
    "preprocessor files), e.g. a `save_pretrained` of openai/clip-vit-base-patch32. Needed "
    "for `clip-local`; loaded on first use, offline only.",
)
CLIP_REMOTE_URL = declare(
    "SWATCH_CLIP_REMOTE_URL",
    None,
    "Base URL of the remote CLIP embedding endpoint (`POST {url}/embeddings`, OpenAI-style; "
    "see docs/ARCHITECTURE.md for the wire format). Needed for `clip-remote`.",
)
CLIP_REMOTE_MODEL = declare(
    "SWATCH_CLIP_REMOTE_MODEL",
    "clip-vit-b-32",
    "Model name sent to the remote CLIP endpoint.",
)
CLIP_REMOTE_API_KEY = declare(
    "SWATCH_CLIP_REMOTE_API_KEY", None, "Bearer key of the remote CLIP endpoint.", secret=True
)
CLIP_CONNECT_TIMEOUT = declare(
    "SWATCH_CLIP_CONNECT_TIMEOUT", "3", "Seconds to connect to the remote CLIP endpoint."
)
CLIP_READ_TIMEOUT = declare(
    "SWATCH_CLIP_READ_TIMEOUT", "30", "Seconds to wait for the remote CLIP endpoint's answer."
)
HTTP_MAX_ATTEMPTS = declare(
    "SWATCH_HTTP_MAX_ATTEMPTS",
    "4",
    "Attempts of one outbound model request at the most (timeouts, 408, 429, 5xx are retried; "
    "other 4xx are not).",
)
HTTP_BACKOFF_BASE = declare(
    "SWATCH_HTTP_BACKOFF_BASE",
    "0.5",
    "Seconds: retry n waits a random time in [0, base·2ⁿ] (full-jitter exponential backoff).",
)
HTTP_BACKOFF_MAX = declare("SWATCH_HTTP_BACKOFF_MAX", "20", "Seconds: cap of one backoff wait.")
HTTP_MAX_RETRY_AFTER = declare(
    "SWATCH_HTTP_MAX_RETRY_AFTER",
    "60",
    "Seconds: a `Retry-After` / `x-ratelimit-reset` longer than this is not waited for; the "
    "call fails as rate limited (and the fallback answers).",
)
HTTP_MAX_TOTAL_SECONDS = declare(
    "SWATCH_HTTP_MAX_TOTAL_SECONDS",
    "180",
    "Seconds one outbound call may take in all, retries and waits included.",
)
BREAKER_FAILURES = declare(
    "SWATCH_BREAKER_FAILURES",
    "5",
    "Consecutive availability failures (timeout, 429, 5xx, refused, 401) of a provider that "
    "open its circuit; every process then skips it and uses the fallback.",
)
BREAKER_COOLDOWN = declare(
    "SWATCH_BREAKER_COOLDOWN",
    "60",
    "Seconds an open circuit stays open; then one trial call (half-open) decides whether it "
    "closes or opens again.",
)
BREAKER_WINDOW = declare(
    "SWATCH_BREAKER_WINDOW",
    "600",
    "Seconds a failure is remembered: failures farther apart than this do not add up.",
)
MODEL_PRICES = declare(
    "SWATCH_MODEL_PRICES",
    "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo=1.20/1.20,"
    "meta-llama/Llama-3.2-11B-Vision-Instruct-Turbo=0.18/0.18",
    "Estimated cost for the model-call ledger: `model=input/output` in USD per million "
    "tokens, comma-separated. Models not listed cost 0 (local ones).",
)
