"""Scans of item codes: verdicts, suspicion thresholds, coarse client data, one INSERT."""

import datetime as dt

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.trace import scan_helpers as records
from trace import codes
from trace.catalog.models import Product
from trace.production import services as production
from trace.production.models import BatchStatus, ItemStatus
from trace.scans import services as scans
from trace.scans.models import Scan, Verdict

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
RULES = scans.SuspicionRules(window=dt.timedelta(hours=24), max_scans=5, max_clients=3)
CLIENT = "c" * 64


@pytest.fixture
def judge():
    """Judges a scan of `item` (a model) as the scan page does: by its code."""

    def judge(session, item, client: str = CLIENT) -> scans.ScanCheck:
        return scans.find_and_check_scan(session, item.code, client, RULES, NOW)

    return judge


def hashes(n: int) -> list[str]:
    return [f"{i:064x}" for i in range(n)]


def minutes_ago(*minutes: int) -> list[dt.datetime]:
    return [NOW - dt.timedelta(minutes=m) for m in minutes]


# --- finding the item ---------------------------------------------------------------------


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize("spell", [str, str.lower, grouped, lambda c: f"  {grouped(c).lower()} "])
def test_find_scanned_item_normalizes_the_code(session, spell):
    item = factories.make_item(session)
    found = scans.find_scanned_item(session, spell(item.code))
    assert (found.id, found.code, found.serial) == (item.id, item.code, item.serial)
    assert found.line == "Line A"
    assert found.product["name"] == item.product.name
    assert found.batch == {
        "lot_number": item.batch.lot_number,
        "status": "open",
        "status_reason": None,
    }
    assert found.produced_at == item.produced_at


@pytest.mark.parametrize("text", ["", "ABC", "U" * 17, "A" * 200, "<script>", codes.new_code()])
def test_malformed_and_unknown_codes_both_find_nothing(session, text):
    factories.make_item(session)
    assert scans.find_scanned_item(session, text) is None


# --- verdicts ------------------------------------------------------------------------------


def test_unknown_code_verdict(session):
    check = scans.find_and_check_scan(session, codes.new_code(), CLIENT, RULES, NOW)
    assert (check.item, check.verdict) == (None, Verdict.unknown)


def test_first_scan_of_a_genuine_item(session, judge):
    item = factories.make_item(session)
    check = judge(session, item)
    assert check.verdict is Verdict.genuine
    assert (check.scan_count, check.first_scanned_at, check.reasons) == (1, NOW, ())


def test_scan_count_and_first_scan_count_every_earlier_scan(session, judge):
    item = factories.make_item(session)
    earliest = NOW - dt.timedelta(days=300)
    records.scans(session, item, [earliest, NOW - dt.timedelta(days=2)])
    check = judge(session, item)
    assert (check.scan_count, check.first_scanned_at) == (3, earliest)
    assert check.verdict is Verdict.genuine


def test_another_items_scans_do_not_count(session, judge):
    item, other = factories.make_item(session), factories.make_item(session)
    records.scans(session, other, minutes_ago(*range(10)), hashes(10))
    check = judge(session, item)
    assert (check.verdict, check.scan_count) == (Verdict.genuine, 1)


def test_more_scans_than_allowed_in_the_window_is_suspicious(session, judge):
    item = factories.make_item(session)
    records.scans(session, item, minutes_ago(1, 2, 3, 4), [CLIENT])
    assert judge(session, item).verdict is Verdict.genuine
    records.scans(session, item, minutes_ago(5), [CLIENT])  # now this scan is the sixth
    check = judge(session, item)
    assert (check.verdict, check.reasons) == (Verdict.suspicious, ("many_scans",))
    assert check.scan_count == 6


def test_more_distinct_clients_than_allowed_is_suspicious(session, judge):
    item = factories.make_item(session)
    records.scans(session, item, minutes_ago(1, 2), hashes(2))
    assert judge(session, item).verdict is Verdict.genuine
    # A client that scanned before does not count twice.
    assert judge(session, item, hashes(1)[0]).verdict is Verdict.genuine
    records.scans(session, item, minutes_ago(3), [CLIENT])
    check = judge(session, item, "d" * 64)
    assert (check.verdict, check.reasons) == (Verdict.suspicious, ("many_clients",))


def test_scans_before_the_window_do_not_make_it_suspicious(session, judge):
    item = factories.make_item(session)
    long_ago = [NOW - dt.timedelta(hours=25, minutes=m) for m in range(20)]
    records.scans(session, item, long_ago, hashes(20))
    check = judge(session, item)
    assert (check.verdict, check.scan_count) == (Verdict.genuine, 21)


def test_a_scrapped_unit_is_suspicious(session, judge):
    item = factories.make_item(session, status=ItemStatus.scrapped)
    check = judge(session, item)
    assert (check.verdict, check.reasons) == (Verdict.suspicious, ("scrapped",))


def test_a_recall_outranks_suspicion(session, judge):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    production.change_batch_status(session, "test", batch, BatchStatus.recalled, "coating flakes")
    records.scans(session, item, minutes_ago(*range(10)), hashes(10))
    check = judge(session, item)
    assert check.verdict is Verdict.recalled
    assert set(check.reasons) == {"many_scans", "many_clients"}  # still told, for the page


@pytest.mark.parametrize("status", [BatchStatus.released, BatchStatus.on_hold, BatchStatus.closed])
def test_other_batch_states_are_genuine(session, status, judge):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    if status is BatchStatus.closed:
        production.change_batch_status(session, "test", batch, BatchStatus.released)
    production.change_batch_status(session, "test", batch, status, "supplier deviation")
    assert judge(session, item).verdict is Verdict.genuine


def test_counts_and_first_time_cover_every_scan_not_only_the_latest(session):
    item = scans.find_scanned_item(session, factories.make_item(session).code)
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    for minutes in range(5):
        at = start + dt.timedelta(minutes=minutes)
        scans.record_scan(
            session, item, Verdict.genuine, "::1", "en", None, secret="s", scanned_at=at
        )
    rules = scans.SuspicionRules(window=dt.timedelta(days=30), max_scans=2, max_clients=6)
    check = scans.find_and_check_scan(session, item.code, "h", rules, start + dt.timedelta(hours=1))
    assert check.scan_count == 6 and check.first_scanned_at == start
    assert check.reasons == ("many_scans",)


@pytest.mark.parametrize("text", ["", "ABC", codes.new_code()])
def test_find_and_check_a_code_nobody_has(session, text):
    check = scans.find_and_check_scan(session, text, CLIENT, RULES, NOW)
    assert (check.item, check.verdict) == (None, Verdict.unknown)


def test_the_suspicion_query_uses_the_item_and_time_index(session):
    query, connection = scans._ITEM_AND_SCANS, session.connection()
    parameters = query.parameters(connection.dialect, code="X" * 17, limit=RULES.max_scans)
    plan = _plan(connection, query.sql(connection.dialect), parameters)
    assert "ix_scan_item_id_scanned_at_client_hash_verdict" in plan
    if connection.dialect.name == "sqlite":  # clients and verdicts come from the index alone
        assert "COVERING INDEX ix_scan_item_id_scanned_at_client_hash_verdict" in plan
    # Nothing sorts or gathers every scan of the item (a copied label has thousands).
    assert "TEMP B-TREE" not in plan.upper() and "Sort" not in plan


def _plan(connection, statement: str, parameters) -> str:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))
        return " ".join(str(row[-1]) for row in rows)
    # An empty table is cheapest to read whole; forbid that to see which index is chosen.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return " ".join(row[0] for row in rows)


# --- recording ----------------------------------------------------------------------------


def test_record_scan_stores_coarse_client_data_only(session):
    item = scans.find_scanned_item(session, factories.make_item(session).code)
    user_agent = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0.50"
    scans.record_scan(
        session, item, Verdict.genuine, "203.0.113.7", "zh-CN", user_agent, secret="s3cret"
    )
    scan = session.scalars(select(Scan).where(Scan.item_id == item.id)).one()
    assert scan.verdict is Verdict.genuine
    assert (scan.language, scan.user_agent_family) == ("zh-CN", "wechat")
    assert scan.client_hash == scans.hash_client_address("s3cret", "203.0.113.7")
    assert "203.0.113.7" not in scan.client_hash
    assert scan.scanned_at.tzinfo is not None


def test_record_scan_of_an_unknown_code(session):
    scans.record_scan(session, None, Verdict.unknown, None, None, None, secret="s")
    scan = session.scalars(select(Scan).where(Scan.item_id.is_(None))).one()
    assert (scan.verdict, scan.language, scan.user_agent_family) == (Verdict.unknown, None, None)


def test_a_digital_link_scan_is_unverified_or_unknown(session):
    item = factories.make_item(session)
    assert scans.serial_scan_verdict(item) is Verdict.unverified
    assert scans.serial_scan_verdict(None) is Verdict.unknown
    production.change_batch_status(session, "test", item.batch, BatchStatus.recalled, "Lid")
    assert scans.serial_scan_verdict(item) is Verdict.unverified
    # The schema the migrations built takes the verdict.
    scans.record_scan(session, item, Verdict.unverified, None, None, None, secret="s")
    stored = session.scalars(select(Scan.verdict).where(Scan.item_id == item.id)).one()
    assert stored is Verdict.unverified


def test_digital_link_scans_do_not_count_for_the_code(session, judge):
    # Serials can be worked out for a whole lot: their scans must not make codes look copied.
    item = factories.make_item(session)
    for i in range(RULES.max_scans + RULES.max_clients + 2):
        scans.record_scan(
            session, item, Verdict.unverified, f"198.51.100.{i}", None, None, secret="s",
            scanned_at=NOW - dt.timedelta(minutes=i + 1),
        )  # fmt: skip
    check = judge(session, item)
    assert (check.verdict, check.scan_count, check.first_scanned_at) == (Verdict.genuine, 1, NOW)
    scans.record_scan(session, item, Verdict.genuine, "203.0.113.7", None, None, secret="s")
    assert judge(session, item).scan_count == 2


def test_record_scan_writes_straight_through_without_a_flush(session):
    item = scans.find_scanned_item(session, factories.make_item(session).code)
    session.flush()
    unsaved = Product(sku="NOT-FLUSHED", name="x", warranty_months=0)
    session.add(unsaved)
    at = dt.datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=dt.UTC)
    scans.record_scan(
        session, item, Verdict.suspicious, "::1", "en", "curl/8", secret="s", scanned_at=at
    )
    assert unsaved in session.new  # nothing else was flushed along with it
    session.expunge(unsaved)
    # Written by the driver, read back by the ORM: the column types' own conversions.
    scan = session.scalars(select(Scan).where(Scan.item_id == item.id)).one()
    assert scan.scanned_at == at and scan.verdict is Verdict.suspicious
    # ... and found by the queries that compare stored times.
    rules = scans.SuspicionRules(window=dt.timedelta(hours=1))
    check = scans.find_and_check_scan(session, item.code, "h", rules, at + dt.timedelta(minutes=30))
    assert check.first_scanned_at == at and check.scan_count == 2


def test_client_hash_is_keyed_and_stable():
    one = scans.hash_client_address("key-1", "198.51.100.1")
    assert one == scans.hash_client_address("key-1", "198.51.100.1")
    assert one != scans.hash_client_address("key-2", "198.51.100.1")
    assert one != scans.hash_client_address("key-1", "198.51.100.2")
    assert len(one) == 64


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (None, None),
        ("", None),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Mobile Safari/537.36",
            "chrome",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "safari",
        ),
        ("Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 CriOS/126.0 Mobile Safari/604.1", "chrome"),
        ("Mozilla/5.0 (Android 14) AppleWebKit Chrome/126 MicroMessenger/8.0.49", "wechat"),
        ("Mozilla/5.0 (Android) Chrome/120 AlipayClient/10.5", "alipay"),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 Safari/537.36 Edg/126.0", "edge"),
        ("Mozilla/5.0 (Android 13; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0", "firefox"),
        ("Mozilla/5.0 (Linux; Android 13) SamsungBrowser/25.0 Chrome/121 Safari", "samsung"),
        ("Mozilla/5.0 (Linux; U; Android 12) UCBrowser/15.5 Mobile Safari", "uc"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32", "python"),
        ("SomethingElse/1.0", "other"),
    ],
)
def test_user_agent_families(user_agent, family):
    assert scans.user_agent_family(user_agent) == family
