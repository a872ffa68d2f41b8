"""The embedder chain of a deployment with remote CLIP, for tests against the fake CLIP
endpoint: CLIP over HTTP (one attempt, short timeouts), then the offline pixel embedder."""

from __future__ import annotations

from analysis.http import HttpPolicy, ProviderSession
from analysis.models import ModelCallPurpose
from analysis.providers.chains import FallbackEmbedder
from analysis.providers.clip_remote import RemoteClipEmbedder
from analysis.providers.fallback import ProviderLink
from tests.fakes.local_providers import PixelEmbedder


def remote_clip_chain(base_url: str) -> FallbackEmbedder:
    policy = HttpPolicy(read_timeout=2.0, max_attempts=1, backoff_base=0.01, backoff_max=0.02)
    clip = ProviderLink(
        name="clip-remote",
        build=lambda: RemoteClipEmbedder(
            base_url=base_url,
            session=ProviderSession("clip-remote", policy=policy, api_key="sk-test-clip"),
            remote_model="openai/clip-vit-base-patch32",
        ),
        model_of=lambda p: p.model,
    )
    offline = ProviderLink(
        name="offline-image", build=PixelEmbedder, model_of=lambda p: p.model, offline=True
    )
    return FallbackEmbedder([clip, offline], purpose=ModelCallPurpose.EMBED_IMAGE)
