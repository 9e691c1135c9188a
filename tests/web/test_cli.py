"""The `flask --app web.app ...` commands."""

import datetime as dt

from sqlalchemy import select, text

from tests import factories
from trace.auth.models import ApiKey
from trace.auth.services import authenticate_api_key
from trace.catalog.models import Product
from trace.demo import demo_urls
from trace.production.models import Item, ItemStatus, Scrap
from trace.scans.models import Scan
from trace.service.models import Repair, RepairOutcome
from web.app import create_app


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_keys_create_prints_the_key_alone_on_its_last_line(app, session):
    result = run(app, "keys", "create", "--role", "quality", "--name", "QA laptop")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    found = authenticate_api_key(session, key)
    assert found is not None and found.role.value == "quality"
    assert key not in {k.key_hash for k in session.scalars(select(ApiKey))}


def test_keys_create_with_a_station_binds_its_line_too(app, session):
    station = factories.make_station(session)
    session.commit()
    result = run(app, "keys", "create", "--role", "line", "--station", station.code)
    key = authenticate_api_key(session, result.stdout.strip().splitlines()[-1])
    assert (key.station_id, key.line_id) == (station.id, station.line_id)


def test_keys_create_with_an_unknown_station_fails_clearly(app):
    result = run(app, "keys", "create", "--role", "line", "--station", "NOPE")
    assert result.exit_code == 1
    assert "no station 'NOPE'" in result.output


def test_keys_create_refuses_an_unknown_role(app):
    result = run(app, "keys", "create", "--role", "superuser")
    assert result.exit_code == 2


def test_revoked_keys_no_longer_authenticate(app, session):
    key = run(app, "keys", "create", "--role", "viewer").stdout.strip().splitlines()[-1]
    prefix = key.split("_")[1]
    assert run(app, "keys", "revoke", prefix).exit_code == 0
    assert authenticate_api_key(session, key) is None
    assert "revoked" in run(app, "keys", "list").output


def test_audit_verify_reports_an_intact_chain(app, session):
    factories.make_product(session)
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 0
    assert "audit chain intact" in result.output


def test_audit_verify_reports_the_first_broken_link(app, session):
    factories.make_product(session)
    factories.make_product(session)
    session.commit()
    seq = session.scalar(text("SELECT min(seq) FROM audit_entry WHERE action = 'product.create'"))
    session.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = :s"), {"s": seq})
    session.commit()
    result = run(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"broken at entry {seq}" in result.output


def test_demo_load_runs_once(app, session, tmp_path):
    first = run(app, "demo", "load")
    assert first.exit_code == 0, first.output
    products = session.scalar(select(Product.id).where(Product.sku == "KT-2200-WH"))
    items = factories.count(session, Item)
    assert products and items >= 300
    second = run(app, "demo", "load")
    assert "already loaded" in second.output
    assert factories.count(session, Item) == items
    assert (app.extensions["trace"].config.instance_path / "demo-admin-key").exists()


def test_the_demo_scraps_a_kettle_and_two_dryers_one_salvaging_its_part(app, session):
    assert run(app, "demo", "load").exit_code == 0
    scraps = session.scalars(
        select(Scrap).where(Scrap.inside_scrap_id.is_(None)).order_by(Scrap.id)
    ).all()
    assert [scrap.item.status for scrap in scraps] == [ItemStatus.scrapped] * 3
    kettle, dryer, burnt = (scrap.item for scrap in scraps)
    assert kettle.batch.lot_number == "KT2610A" and scraps[0].station is not None
    outcomes = session.scalars(select(Repair.outcome).where(Repair.item_id == dryer.id)).all()
    assert outcomes == [RepairOutcome.replaced, RepairOutcome.not_repairable]
    # The spare heater module the first repair fitted was salvaged, free to be fitted again.
    [salvaged] = scraps[1].salvaged
    module = salvaged.component
    assert module.product.sku == "HM-1800" and module.status is ItemStatus.produced
    assert salvaged.removed_at == scraps[1].occurred_at and not scraps[1].parts_scrapped
    # The burnt dryer's module went with it: scrapped inside it, and it says so.
    [gone] = scraps[2].parts_scrapped
    assert gone.item.product.sku == "HM-1800" and gone.item.status is ItemStatus.scrapped
    assert gone.inside_scrap_id == scraps[2].id and burnt.batch.lot_number == "HD2610A"


def test_serialize_command_creates_items(app, session):
    batch = factories.make_batch(session, lot_number="CLI1")
    session.commit()
    result = run(app, "serialize", str(batch.id), "--count", "12")
    assert result.exit_code == 0, result.output
    assert "12 items" in result.output and "CLI1-000012" in result.output


def test_serialize_command_reports_csv_problems_by_line(app, session, tmp_path):
    batch = factories.make_batch(session)
    session.commit()
    csv_file = tmp_path / "serials.csv"
    csv_file.write_text("serial\nA-1\nA 2\n")
    result = run(app, "serialize", str(batch.id), "--csv", str(csv_file))
    assert result.exit_code == 1
    assert "csv.line 3" in result.output
    assert factories.count(session, Item) == 0


def test_db_upgrade_builds_a_fresh_database(config, tmp_path):
    fresh = config.with_overrides(database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    app = create_app(fresh)
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    with app.extensions["trace"].engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM audit_head")) == 1
    app.extensions["trace"].engine.dispose()


def test_a_later_demo_load_keeps_the_copied_label_suspicious(app, client, session):
    assert run(app, "demo", "load").exit_code == 0
    (_, suspicious_url), *_ = [url for url in demo_urls(session, "") if url[0] == "suspicious"]
    # Days later: the copied label's scans have left the suspicion window.
    for scan in session.scalars(select(Scan)):
        scan.scanned_at -= dt.timedelta(days=5)
    session.commit()
    json = {"Accept": "application/json"}
    assert client.get(suspicious_url, headers=json).get_json()["verdict"] == "genuine"
    result = run(app, "demo", "load")
    assert "scanned again" in result.output
    assert client.get(suspicious_url, headers=json).get_json()["verdict"] == "suspicious"
    assert "scanned again" not in run(app, "demo", "load").output  # fresh: left alone
