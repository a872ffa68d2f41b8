"""The one package that reads the environment.

Every variable Swatch understands is declared once, in the module of its area below, with its
default and its meaning; `docs/CONFIGURATION.md` lists them all (a test keeps the two in step).
Code reads them as `env.get_int(env.SEARCH_CANDIDATES)`. A new area gets a module of its own,
imported here (the import order is the order of docs/CONFIGURATION.md).
"""

from config.env.access import *  # noqa: F403
from config.env.budgets import *  # noqa: F403
from config.env.core import *  # noqa: F403
from config.env.database import *  # noqa: F403
from config.env.intake import *  # noqa: F403
from config.env.observability import *  # noqa: F403
from config.env.offline import *  # noqa: F403
from config.env.pages import *  # noqa: F403
from config.env.pipeline import *  # noqa: F403
from config.env.providers import *  # noqa: F403
from config.env.queue import *  # noqa: F403
from config.env.registry import *  # noqa: F403
from config.env.search import *  # noqa: F403
from config.env.security import *  # noqa: F403
from config.env.storage import *  # noqa: F403
from config.env.web import *  # noqa: F403
