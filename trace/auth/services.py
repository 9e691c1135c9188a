"""Passwords, API keys and the checks every write makes on who is asking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from trace.audit.services import audit_write
from trace.auth.models import ApiKey, Role, User
from trace.catalog.models import Line, Station
from trace.db import utcnow
from trace.errors import Conflict, Forbidden, Invalid, NotFound

KEY_PREFIX = "trk"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class Principal:
    """Who is acting: the name written into the audit trail, a role and any binding."""

    actor: str
    role: Role
    line_id: int | None = None
    station_id: int | None = None


def hash_password(password: str) -> str:
    """scrypt with a random salt; the parameters are stored so they can be raised later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    params = f"{SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}"
    return f"scrypt${params}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    again = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(again, base64.b64decode(digest))


def create_user(
    session: Session, actor: str, *, username: str, name: str, password: str, role: Role
) -> User:
    """A staff login. Passwords shorter than 12 characters are refused."""
    if len(password) < 12:
        raise Invalid("password too short", {"password": ["at least 12 characters"]})
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists", {"username": ["already taken"]})
    user = User(username=username, name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    audit_write(session, actor, "user.create", user, {"username": username, "role": role.value})
    return user


def _key_digest(key: str) -> str:
    # API keys carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session,
    actor: str,
    *,
    role: Role,
    name: str = "",
    line_code: str | None = None,
    station_code: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key bound to an optional line or station. Returns the key and its only plaintext."""
    line, station = _binding(session, line_code, station_code)
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix,
        key_hash=_key_digest(plaintext),
        name=name,
        role=role,
        line_id=line.id if line else (station.line_id if station else None),
        station_id=station.id if station else None,
        created_by=actor,
    )
    session.add(key)
    audit_write(
        session,
        actor,
        "api_key.create",
        key,
        {"prefix": prefix, "role": role.value, "line": line_code, "station": station_code},
    )
    return key, plaintext


def _binding(session: Session, line_code, station_code) -> tuple[Line | None, Station | None]:
    line = station = None
    if line_code:
        line = session.scalar(select(Line).where(Line.code == line_code))
        if line is None:
            raise NotFound(f"no line {line_code!r}", {"line": ["unknown line"]})
    if station_code:
        station = session.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            raise NotFound(f"no station {station_code!r}", {"station": ["unknown station"]})
        if line and station.line_id != line.id:
            raise Invalid("station is not on that line", {"station": ["not on the line given"]})
    return line, station


def authenticate_api_key(session: Session, presented: str) -> ApiKey | None:
    """The active key matching `presented`, or None; compares in constant time."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not key.active:
        return None
    if not hmac.compare_digest(key.key_hash, _key_digest(presented)):
        return None
    return key


def principal_for_key(key: ApiKey) -> Principal:
    return Principal(f"key:{key.prefix}", key.role, key.line_id, key.station_id)


API_KEY = ApiKey.__table__
# authenticate_api_key's question as one plain statement: an API request has no use for
# the key as an object, and the ORM's load of one costs more than the rest of the check.
KEY_BY_PREFIX = select(
    API_KEY.c.key_hash,
    API_KEY.c.role,
    API_KEY.c.line_id,
    API_KEY.c.station_id,
    API_KEY.c.revoked_at,
).where(API_KEY.c.prefix == bindparam("prefix"))


def principal_for_api_key(session: Session, presented: str) -> Principal | None:
    """The principal of the active key matching `presented`, or None (authenticate_api_key's
    rules: constant-time comparison, revoked keys refused)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    row = session.connection().execute(KEY_BY_PREFIX, {"prefix": parts[1]}).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _key_digest(presented)):
        return None
    return Principal(f"key:{parts[1]}", row.role, row.line_id, row.station_id)


# How long a checked key is trusted without asking the database again: the longest a
# revocation made by another process (the CLI, another worker) takes to reach this one.
KEY_TRUST_SECONDS = 5.0


class KeyCache:
    """API keys checked lately, by the SHA-256 of their text: a known key costs no query.

    Every API request presents its key, and most come from a few line machines. Only keys
    found active are kept, each for `seconds` after its check; unknown and revoked keys
    are looked up every time, so a new key works at once. revoke_api_key empties every
    cache of its process (when it runs and again when it commits): a revocation through
    this process takes effect for every request that checks the key after it commits; one
    through another process, or a request that was checking the key meanwhile, within
    `seconds`.
    """

    MAX_KEYS = 1000
    _all: weakref.WeakSet[KeyCache] = weakref.WeakSet()
    _all_lock = threading.Lock()

    def __init__(
        self, seconds: float = KEY_TRUST_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self.seconds, self.clock = seconds, clock
        self._known: dict[str, tuple[float, Principal]] = {}
        with KeyCache._all_lock:
            KeyCache._all.add(self)

    def known(self, presented: str) -> Principal | None:
        """The principal of `presented` if it was found active lately; None asks the database."""
        known = self._known.get(_key_digest(presented))
        if known is not None and self.clock() < known[0]:
            return known[1]
        return None

    def principal(self, session: Session, presented: str) -> Principal | None:
        """The principal of `presented` if it is an active key, or None."""
        known = self.known(presented)
        if known is not None:
            return known
        now, digest = self.clock(), _key_digest(presented)
        principal = principal_for_api_key(session, presented)
        if principal is None:
            self._known.pop(digest, None)
            return None
        if len(self._known) >= self.MAX_KEYS:  # keys are few; a flood of them is not
            self._known.clear()
        self._known[digest] = (now + self.seconds, principal)
        return principal

    def clear(self) -> None:
        self._known.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Forget every key checked by this process."""
        with cls._all_lock:
            caches = list(cls._all)
        for cache in caches:
            cache.clear()


def revoke_api_key(session: Session, actor: str, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    if not key.active:
        raise Conflict(f"API key {prefix} was already revoked")
    key.revoked_at = utcnow()
    audit_write(session, actor, "api_key.revoke", key, {"prefix": prefix})
    # Once now, and once the revocation is committed: a request checking the key in
    # between (on PostgreSQL, it still sees the key active) must not keep it trusted.
    KeyCache.clear_all()
    event.listen(session, "after_commit", _forget_keys, once=True)
    return key


def _forget_keys(_session: Session) -> None:
    KeyCache.clear_all()


def require_role(principal: Principal, allowed: frozenset[Role]) -> None:
    """Admins may do anything; everyone else needs one of the allowed roles."""
    if principal.role is not Role.admin and principal.role not in allowed:
        raise Forbidden(f"role {principal.role.value!r} may not do this")


def require_line(principal: Principal, line_id: int, field: str = "line_id") -> None:
    """A key bound to a line or station acts only for that line; `field` names what the
    caller gave that belongs to the line (a batch, a station)."""
    if principal.line_id is not None and principal.line_id != line_id:
        raise Forbidden("this key is bound to another line", {field: ["another line's"]})


def require_station(principal: Principal, station: Station) -> None:
    """A key bound to a station posts only for that station (and one bound to a line, its line)."""
    if principal.station_id is not None and principal.station_id != station.id:
        raise Forbidden("this key is bound to another station", {"station": ["not this key's"]})
    require_line(principal, station.line_id, "station")
