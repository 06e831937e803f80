"""Persistence: SQLAlchemy 2 tables, repositories, the unit of work and Alembic migrations.

Nothing connects at import: ``make_engine(url)`` builds an engine, ``upgrade(url)`` migrates,
``SqlUnitOfWork(engine)`` is one transaction.
"""

from incident_bot.adapters.db.engine import make_engine, normalise_url
from incident_bot.adapters.db.migrate import (
    current,
    current_revision,
    head_revision,
    require_head,
    upgrade,
)
from incident_bot.adapters.db.uow import SqlUnitOfWork

__all__ = [
    "SqlUnitOfWork",
    "current",
    "current_revision",
    "head_revision",
    "make_engine",
    "normalise_url",
    "require_head",
    "upgrade",
]
