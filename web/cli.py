"""The `flask --app web.app ...` commands: db, audit, keys, users, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from trace import migrate
from trace.audit.services import verify_chain
from trace.auth import services as auth
from trace.auth.models import ApiKey, Role
from trace.errors import DomainError
from trace.production import labels as label_output
from trace.production import services as production
from trace.production.serialization import parse_serial_csv, serialize
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
            raise click.ClickException(_message(error)) from None


def _message(error: DomainError) -> str:
    return error.message + "".join(f"\n  {line}" for line in _describe(error.fields))


def _describe(fields: dict, prefix: str = "") -> list[str]:
    """One line per field error, nested fields joined with dots (serials.3, csv.line 4)."""
    lines = []
    for name, value in fields.items():
        if isinstance(value, dict):
            lines += _describe(value, f"{prefix}{name}.")
        else:
            lines.append(f"{prefix}{name}: {'; '.join(map(str, value))}")
    return lines


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


@demo_cli.command("urls")
def demo_urls_command():
    """Print the demo's scan pages to open: genuine, suspicious, recalled, unknown."""
    from trace.demo import demo_urls

    with _session() as session:
        urls = demo_urls(session, state().config.public_base_url)
    if not urls:
        raise click.ClickException("no demo data: run `flask --app web.app demo load` first")
    for what, url in urls:
        click.echo(f"  {what + ':':<24}{url}")


@click.command("serialize")
@with_appcontext
@click.argument("batch_id", type=int)
@click.option("--count", type=click.IntRange(min=1), help="How many items to create.")
@click.option(
    "--csv",
    "csv_file",
    type=click.File(encoding="utf-8-sig"),
    help="The manufacturer's serials: a CSV with a 'serial' column, or one per line.",
)
def serialize_command(batch_id, count, csv_file):
    """Create items in batch BATCH_ID: COUNT generated serials, or those of a CSV file."""
    if (count is None) == (csv_file is None):
        raise click.UsageError("give either --count or --csv")

    def run(session):
        batch = production.get_batch(session, batch_id)
        serials = parse_serial_csv(csv_file.read()) if csv_file else None
        total = count or len(serials)
        with click.progressbar(
            length=total, label=f"serializing lot {batch.lot_number}", file=sys.stderr
        ) as bar:
            done = [0]

            def progress(written):
                bar.update(written - done[0])
                done[0] = written

            return serialize(
                session, CLI_ACTOR, batch, count=count, serials=serials, progress=progress
            )

    result = _run_write(run)
    click.echo(
        f"{result.count} items in batch {result.batch_id}: "
        f"{result.first_serial} .. {result.last_serial}"
    )


@click.command("labels")
@click.argument("batch_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(label_output.FORMATS)),
    default="pdf",
    show_default=True,
)
@click.option(
    "--layout",
    "layout_name",
    default="sheet-a4-small",
    show_default=True,
    help="A layout of label_templates/.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="The file to write (pdf, zpl) or the folder for one file a label (png, svg).",
)
@click.option("--paper", type=click.Choice(["A4", "Letter"]), help="For PDF sheets.")
@click.option("--offset-x", type=float, default=0.0, help="Printer calibration, mm to the right.")
@click.option("--offset-y", type=float, default=0.0, help="Printer calibration, mm down.")
@click.option("--dpi", type=click.IntRange(150, 1200), help="For PNG.")
@click.option("--from-serial", help="First serial to print.")
@click.option("--to-serial", help="Last serial to print.")
@with_appcontext
def labels_command(
    batch_id, fmt, layout_name, out, paper, offset_x, offset_y, dpi, from_serial, to_serial
):
    """Write the labels of batch BATCH_ID (or a serial range of it)."""
    base_url = state().config.public_base_url
    with _session() as session:
        try:
            batch = production.get_batch(session, batch_id)
            total = label_output.count_selected(session, batch, from_serial, to_serial)
            with click.progressbar(
                length=total, label=f"labels of lot {batch.lot_number}", file=sys.stderr
            ) as bar:
                progress = _progress_to(bar)
                if fmt in ("png", "svg"):
                    written = _label_files(
                        session,
                        base_url,
                        batch,
                        fmt,
                        layout_name,
                        out,
                        dpi,
                        from_serial,
                        to_serial,
                        progress,
                    )
                else:
                    output = label_output.render_batch_labels(
                        session,
                        base_url,
                        batch,
                        fmt,
                        layout_name,
                        paper=paper,
                        offset_mm=(offset_x, offset_y),
                        from_serial=from_serial,
                        to_serial=to_serial,
                        progress=progress,
                    )
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with open(out, "wb") as target:
                        target.writelines(output.chunks)
                    written = total
                bar.update(total - bar.pos)
        except DomainError as error:
            raise click.ClickException(_message(error)) from None
    click.echo(f"{written} labels written to {out}")


def _progress_to(bar):
    return lambda done: bar.update(done - bar.pos)


def _label_files(
    session, base_url, batch, fmt, layout_name, folder: Path, dpi, first, last, progress
) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    stream = label_output.batch_labels(
        session, base_url, batch, from_serial=first, to_serial=last, progress=progress
    )
    for label in stream:
        output = label_output.render_label_data(label, fmt, layout_name, dpi)
        (folder / f"{label.serial}.{fmt}").write_bytes(b"".join(output.chunks))
        written += 1
    return written


def register_commands(app: Flask) -> None:
    for group in (db_cli, audit_cli, keys_cli, users_cli, demo_cli):
        app.cli.add_command(group)
    app.cli.add_command(serialize_command)
    app.cli.add_command(labels_command)
