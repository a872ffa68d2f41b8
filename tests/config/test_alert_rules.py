"""The alert rules deployments load (deploy/prometheus/alerts.yml): valid for Prometheus
(`promtool check rules`), firing when they should (`promtool test rules`), and written only
against series Swatch really exports.

promtool comes from Debian's `prometheus` package; .ci/run installs it when missing."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.fakes.processes import ROOT

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
SERIES = re.compile(r"\b((?:swatch|django)_[a-z0-9_]+)")


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: apt-get install prometheus (.ci/run does)")
    return path


def test_promtool_check_rules_passes():
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_fire_on_their_unit_tests():
    result = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _exported_series() -> set[str]:
    """Every series name Swatch's processes and its scrape-time collectors can export."""
    import django_prometheus.db  # noqa: F401 - registers the database series
    import django_prometheus.middleware
    from prometheus_client import REGISTRY

    import analysis.metrics  # noqa: F401 - each registers its series
    import materials.metrics  # noqa: F401 - (as above)
    import search.metrics  # noqa: F401 - (as above)
    from config.observability.collectors import PARTS

    django_prometheus.middleware.Metrics.get_instance()  # made when the middleware first runs

    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        kind = family.type
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names.update(family.name + suffix for suffix in suffixes.get(kind, []))
    source = (ROOT / "config" / "observability" / "collectors.py").read_text()
    names.update(re.findall(r'"(swatch_[a-z0-9_]+)"', source))
    assert set(PARTS) >= {"queue", "circuits", "heartbeat"}
    return names


@pytest.mark.django_db
def test_every_rule_reads_series_swatch_exports():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "SwatchHighErrorRate",
        "SwatchSearchSlow",
        "SwatchCircuitOpen",
        "SwatchQueueBacklogOld",
        "SwatchModelSpendHigh",
        "SwatchZeroResultRateHigh",
    }
    exported = _exported_series()
    unknown = {
        name: rule["alert"]
        for rule in rules
        for name in SERIES.findall(rule["expr"])
        if name not in exported
    }
    assert not unknown, f"rules read series nobody exports: {unknown}"
