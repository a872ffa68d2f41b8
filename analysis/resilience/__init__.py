"""Resilience for model calls: retry delays (full-jitter exponential backoff, server-stated
waits) and a circuit breaker whose state every process shares through the Django cache."""

from analysis.resilience.backoff import backoff_delay, server_stated_delay
from analysis.resilience.breaker import CircuitBreaker, CircuitState, breaker_for

__all__ = ["CircuitBreaker", "CircuitState", "backoff_delay", "breaker_for", "server_stated_delay"]
