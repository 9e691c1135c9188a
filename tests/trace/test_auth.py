"""Staff passwords, API keys (hashed, bound, revocable) and the checks made on who is asking."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from tests import factories
from trace.audit.models import AuditEntry
from trace.auth import services as auth
from trace.auth.models import ApiKey, Role, User
from trace.auth.services import Principal
from trace.errors import Conflict, Forbidden, Invalid, NotFound

PASSWORD = "correct horse battery"


# --- passwords -------------------------------------------------------------------------


def test_password_hash_checks_only_the_right_password():
    stored = auth.hash_password(PASSWORD)
    assert PASSWORD not in stored
    assert auth.check_password(stored, PASSWORD)
    assert not auth.check_password(stored, PASSWORD + "!")
    assert not auth.check_password(stored, "")


def test_the_same_password_hashes_differently_each_time():
    assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)


@pytest.mark.parametrize("stored", ["", "plain", "md5$abc", "scrypt$1$2$3$4"])
def test_a_stored_value_that_is_not_an_scrypt_hash_never_matches(stored):
    assert not auth.check_password(stored, PASSWORD)


def test_create_user_keeps_only_the_hash(session):
    user = auth.create_user(
        session, "test", username="li", name="Li Na", password=PASSWORD, role=Role.quality
    )
    stored = session.get(User, user.id)
    assert stored.role is Role.quality
    assert stored.password_hash != PASSWORD
    assert auth.check_password(stored.password_hash, PASSWORD)


def test_a_short_password_is_refused(session):
    with pytest.raises(Invalid) as caught:
        auth.create_user(
            session, "test", username="li", name="Li Na", password="eleven char", role=Role.viewer
        )
    assert "password" in caught.value.fields
    assert factories.count(session, User) == 0


def test_a_taken_username_is_refused(session):
    auth.create_user(
        session, "test", username="li", name="Li Na", password=PASSWORD, role=Role.viewer
    )
    with pytest.raises(Conflict):
        auth.create_user(
            session, "test", username="li", name="Li Lei", password=PASSWORD, role=Role.admin
        )
    assert factories.count(session, User) == 1


# --- API keys ----------------------------------------------------------------------------


def test_a_new_key_authenticates_with_its_role(session):
    key, plaintext = factories.make_key(session, "quality")
    found = auth.authenticate_api_key(session, plaintext)
    assert found is not None
    assert found.id == key.id
    principal = auth.principal_for_key(found)
    assert principal.role is Role.quality
    assert principal.actor == f"key:{key.prefix}"
    assert (principal.line_id, principal.station_id) == (None, None)


def test_the_plaintext_key_is_stored_nowhere(session):
    key, plaintext = factories.make_key(session, "admin")
    secret = plaintext.rsplit("_", 1)[1]
    row = session.get(ApiKey, key.id)
    stored_text = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
    assert not any(secret in value for value in stored_text)
    assert row.key_hash != plaintext
    assert all(secret not in entry.data for entry in session.scalars(select(AuditEntry)))


def test_two_keys_differ(session):
    _, first = factories.make_key(session)
    _, second = factories.make_key(session)
    assert first != second


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda key: "xyz" + key[3:],  # wrong scheme
        lambda key: key.rsplit("_", 1)[0],  # secret missing
        lambda key: "",
        lambda key: "trk_unknownpref_" + key.rsplit("_", 1)[1],
    ],
)
def test_a_wrong_key_does_not_authenticate(session, mangle):
    _, plaintext = factories.make_key(session)
    assert auth.authenticate_api_key(session, mangle(plaintext)) is None


def test_a_revoked_key_no_longer_authenticates(session):
    key, plaintext = factories.make_key(session, "line")
    auth.revoke_api_key(session, "test", key.prefix)
    assert not session.get(ApiKey, key.id).active
    assert auth.authenticate_api_key(session, plaintext) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key,
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: "xyz" + key[3:],
        lambda key: "trk_unknownpref_" + key.rsplit("_", 1)[1],
    ],
)
def test_the_light_check_agrees_with_the_full_one(session, mangle):
    _, plaintext = factories.make_key(session, "line", station_code=make_station_code(session))
    found = auth.authenticate_api_key(session, mangle(plaintext))
    expected = None if found is None else auth.principal_for_key(found)
    assert auth.principal_for_api_key(session, mangle(plaintext)) == expected


def make_station_code(session) -> str:
    return factories.make_station(session).code


# --- the cache of checked keys -------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_key_needs_no_query(session):
    key, plaintext = factories.make_key(session, "quality")
    cache = auth.KeyCache()
    principal = cache.principal(session, plaintext)
    assert principal == auth.principal_for_key(key)
    # No session at all: the answer can only come from the cache.
    assert cache.principal(None, plaintext) == principal


def test_a_key_revoked_elsewhere_is_refused_once_its_trust_runs_out(session):
    key, plaintext = factories.make_key(session, "line")
    clock = Clock()
    cache = auth.KeyCache(seconds=5, clock=clock)
    assert cache.principal(session, plaintext) is not None
    # Revoked by another process: this one's cache is not told.
    session.execute(
        update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=dt.datetime.now(dt.UTC))
    )
    clock.now += 4.9
    assert cache.principal(session, plaintext) is not None
    clock.now += 0.2
    assert cache.principal(session, plaintext) is None
    clock.now += 60
    assert cache.principal(session, plaintext) is None


def test_a_key_revoked_here_is_refused_at_once(session):
    key, plaintext = factories.make_key(session, "line")
    caches = [auth.KeyCache(), auth.KeyCache()]  # as several apps in one process
    assert all(cache.principal(session, plaintext) for cache in caches)
    auth.revoke_api_key(session, "test", key.prefix)
    assert [cache.principal(session, plaintext) for cache in caches] == [None, None]


def test_the_caches_are_emptied_again_when_a_revocation_commits(session):
    key, plaintext = factories.make_key(session, "line")
    session.commit()
    cache = auth.KeyCache()
    auth.revoke_api_key(session, "test", key.prefix)
    # A request that checked the key before the revocation committed (PostgreSQL still
    # showed it active) put it back in the cache; the commit takes it out again.
    cache._known[auth._key_digest(plaintext)] = (cache.clock() + 60, auth.principal_for_key(key))
    session.commit()
    assert cache.principal(session, plaintext) is None


def test_unknown_keys_are_not_cached(session):
    cache = auth.KeyCache()
    _, plaintext = factories.make_key(session, "line")
    assert cache.principal(session, plaintext + "x") is None
    assert cache.principal(session, plaintext) is not None
    assert list(cache._known) == [auth._key_digest(plaintext)]


def test_revoking_twice_is_a_conflict(session):
    key, _ = factories.make_key(session)
    auth.revoke_api_key(session, "test", key.prefix)
    revoked_at = key.revoked_at
    with pytest.raises(Conflict):
        auth.revoke_api_key(session, "test", key.prefix)
    assert session.get(ApiKey, key.id).revoked_at == revoked_at


def test_revoking_an_unknown_key_is_not_found(session):
    with pytest.raises(NotFound):
        auth.revoke_api_key(session, "test", "000000000000")


# --- binding ------------------------------------------------------------------------------


def test_binding_to_a_station_implies_its_line(session):
    station = factories.make_station(session)
    key, _ = factories.make_key(session, "line", station_code=station.code)
    principal = auth.principal_for_key(key)
    assert (principal.station_id, principal.line_id) == (station.id, station.line_id)


def test_binding_to_a_line(session):
    line = factories.make_line(session)
    key, _ = factories.make_key(session, "line", line_code=line.code)
    assert (key.line_id, key.station_id) == (line.id, None)


def test_a_station_on_another_line_than_the_one_given_is_refused(session):
    line, station = factories.make_line(session), factories.make_station(session)
    with pytest.raises(Invalid):
        factories.make_key(session, "line", line_code=line.code, station_code=station.code)
    assert factories.count(session, ApiKey) == 0


@pytest.mark.parametrize(("binding", "field"), [("line_code", "line"), ("station_code", "station")])
def test_binding_to_an_unknown_line_or_station_is_refused(session, binding, field):
    with pytest.raises(NotFound) as caught:
        factories.make_key(session, "line", **{binding: "NOPE"})
    assert field in caught.value.fields
    assert factories.count(session, ApiKey) == 0


def test_require_station_refuses_another_station(session):
    station = factories.make_station(session)
    neighbour = factories.make_station(session, station.line)
    principal = Principal("key:x", Role.line, station.line_id, station.id)
    auth.require_station(principal, station)
    with pytest.raises(Forbidden):
        auth.require_station(principal, neighbour)


def test_require_station_with_a_line_key_refuses_stations_of_other_lines(session):
    station = factories.make_station(session)
    elsewhere = factories.make_station(session)
    principal = Principal("key:x", Role.line, station.line_id)
    auth.require_station(principal, station)
    with pytest.raises(Forbidden):
        auth.require_station(principal, elsewhere)


def test_require_line_refuses_another_line():
    principal = Principal("key:x", Role.line, line_id=1)
    auth.require_line(principal, 1)
    with pytest.raises(Forbidden):
        auth.require_line(principal, 2)


def test_an_unbound_key_acts_for_every_line_and_station(session):
    station = factories.make_station(session)
    principal = Principal("key:x", Role.line)
    auth.require_line(principal, station.line_id)
    auth.require_station(principal, station)


@pytest.mark.parametrize("role", list(Role))
def test_require_role_admits_the_roles_listed_and_admins(role):
    allowed = frozenset({Role.quality})
    principal = Principal("key:x", role)
    if role in (Role.admin, Role.quality):
        auth.require_role(principal, allowed)
    else:
        with pytest.raises(Forbidden):
            auth.require_role(principal, allowed)
