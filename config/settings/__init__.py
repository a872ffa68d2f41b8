"""Django settings, a module per area. Every value comes from `config.env`, the one package
that reads the environment; see docs/CONFIGURATION.md. A new area gets a module of its own,
imported here."""

from config.settings.access import *  # noqa: F403
from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.budgets import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.hardening import *  # noqa: F403
from config.settings.logs import *  # noqa: F403
from config.settings.observability import *  # noqa: F403
from config.settings.providers import *  # noqa: F403
from config.settings.queue import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.swatch import *  # noqa: F403
