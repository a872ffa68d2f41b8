"""Read `/metrics` as Prometheus would, and look samples up by name and labels."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    samples: dict[tuple[str, frozenset], float]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return cls(samples)

    def value(self, name: str, **labels: str) -> float:
        """The sum over every sample of `name` whose labels include `labels` (0 if none)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def scrape(client, **extra) -> Scrape:
    """`/metrics` through a Django test client (from 127.0.0.1: the test settings must allow
    it, see `metrics_open`)."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content[:300]
    return Scrape.parse(response.content.decode())
