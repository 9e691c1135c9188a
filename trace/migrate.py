"""Running the Alembic migrations from code (the CLI, the demo and the tests use this)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from trace.config import REPO_ROOT


def alembic_config(database_url: str | None = None, connection=None) -> AlembicConfig:
    cfg = AlembicConfig(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    if database_url:
        cfg.attributes["database_url"] = database_url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head", connection=None) -> None:
    """Bring the database up to `revision` (the newest by default)."""
    command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str | None = None, revision: str = "-1", connection=None) -> None:
    command.downgrade(alembic_config(database_url, connection), revision)
