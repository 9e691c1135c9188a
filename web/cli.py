"""The `flask --app web.app ...` commands: db, audit, keys, users, demo."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from trace import migrate
from trace.audit.services import verify_chain
from trace.auth import services as auth
from trace.auth.models import ApiKey, Role
from trace.errors import DomainError
from web.database import state

CLI_ACTOR = "cli"

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
audit_cli = AppGroup("audit", help="The hash-chained audit trail.")
keys_cli = AppGroup("keys", help="API keys.")
users_cli = AppGroup("users", help="Staff users.")
demo_cli = AppGroup("demo", help="Demo data.")


def _session():
    return state().sessionmaker()


def _run_write(action):
    """Run `action(session)` in one transaction; a domain error becomes a clear CLI error."""
    with _session() as session:
        try:
            result = action(session)
            session.commit()
            return result
        except DomainError as error:
            session.rollback()
            details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in error.fields.items())
            suffix = f" ({details})" if details else ""
            raise click.ClickException(f"{error.message}{suffix}") from None


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision):
    """Migrate the database up to REVISION (default: the newest)."""
    migrate.upgrade(state().config.database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision):
    """Migrate the database down to REVISION (default: one step)."""
    migrate.downgrade(state().config.database_url, revision)
    click.echo(f"database at {revision}")


@audit_cli.command("verify")
def audit_verify():
    """Check every link of the audit chain; exit 1 at the first broken one."""
    with _session() as session:
        report = verify_chain(session)
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} entries")
        return
    click.echo(f"audit chain broken at entry {report.broken_at}: {report.reason}", err=True)
    click.echo(f"{report.checked} entries before it are intact", err=True)
    sys.exit(1)


ROLE_CHOICE = click.Choice([role.value for role in Role])


@keys_cli.command("create")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--line", "line_code", help="Bind the key to this line (code).")
@click.option("--station", "station_code", help="Bind the key to this station (code).")
@click.option("--name", default="", help="What the key is for.")
def keys_create(role, line_code, station_code, name):
    """Create an API key; the key itself is printed once, alone on the last line."""
    key, plaintext = _run_write(
        lambda s: auth.create_api_key(
            s, CLI_ACTOR, role=Role(role), name=name, line_code=line_code, station_code=station_code
        )
    )
    click.echo(f"created {role} key {key.prefix}; store it now, it is not shown again:", err=True)
    click.echo(plaintext)


@keys_cli.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix):
    """Revoke the key with this PREFIX (the part after trk_)."""
    _run_write(lambda s: auth.revoke_api_key(s, CLI_ACTOR, prefix))
    click.echo(f"revoked {prefix}")


@keys_cli.command("list")
def keys_list():
    """List keys: prefix, role, binding, state."""
    with _session() as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            binding = key.station.code if key.station else (key.line.code if key.line else "-")
            state_ = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d}"
            click.echo(f"{key.prefix}  {key.role.value:<10} {binding:<12} {state_}  {key.name}")


@users_cli.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.password_option()
def users_create(username, name, role, password):
    """Create a staff user."""
    _run_write(
        lambda s: auth.create_user(
            s, CLI_ACTOR, username=username, name=name, password=password, role=Role(role)
        )
    )
    click.echo(f"created user {username}")


@demo_cli.command("load")
def demo_load():
    """Load the demo data set once; a second run changes nothing."""
    from trace.demo import load_demo

    with _session() as session:
        summary = load_demo(session, state().config.instance_path)
        session.commit()
    click.echo(summary)


def register_commands(app: Flask) -> None:
    for group in (db_cli, audit_cli, keys_cli, users_cli, demo_cli):
        app.cli.add_command(group)
