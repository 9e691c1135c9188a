"""One configuration object, read from TRACE_* environment variables with safe defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = REPO_ROOT / "instance"


@dataclass(frozen=True)
class Config:
    """Settings of one running service; the app factory builds it once."""

    database_url: str
    public_base_url: str
    secret_key: str
    ratelimit_storage: str = "memory://"
    instance_path: Path = DEFAULT_INSTANCE
    max_body_bytes: int = 32 * 1024 * 1024
    # How many reverse proxies in front set X-Forwarded-* (0: trust none of them).
    proxy_hops: int = 0
    # Rate limits per client (`limits` notation, as Flask-Limiter's; "" switches one off).
    ratelimit_scans: str = "60 per minute; 600 per hour"
    ratelimit_complaints: str = "5 per hour; 20 per day"
    # A genuine code is suspicious when, within the window, more scans or more distinct
    # clients than these scanned it: one buyer's household rarely does, a copied label does.
    suspicious_window_hours: int = 72
    suspicious_max_scans: int = 30
    suspicious_max_clients: int = 6
    # Scans are written in batches this often (trace/scans/recorder.py); 0 writes each
    # scan within its own request.
    scan_batch_seconds: float = 0.5
    # A browser's GET of a scan page is answered without Flask's request machinery
    # (web/scan_fast.py); off, Flask answers every request.
    fast_scan_pages: bool = True
    # The zone public pages show times in (stored times are UTC).
    display_timezone: str = "Asia/Shanghai"
    complaint_photo_max_bytes: int = 5 * 1024 * 1024
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        """Read the TRACE_* variables; anything unset gets its documented default."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("TRACE_INSTANCE_PATH", DEFAULT_INSTANCE))
        return cls(
            database_url=env.get("TRACE_DATABASE_URL") or f"sqlite:///{instance / 'trace.db'}",
            public_base_url=env.get("TRACE_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            secret_key=env.get("TRACE_SECRET_KEY") or _instance_secret(instance),
            ratelimit_storage=env.get("TRACE_RATELIMIT_STORAGE", "memory://"),
            instance_path=instance,
            proxy_hops=int(env.get("TRACE_PROXY_HOPS", "0")),
            **_optional(env, _OPTIONAL),
        )

    def with_overrides(self, **changes) -> Config:
        """A copy with some settings replaced (tests and the CLI use this)."""
        return replace(self, **changes)


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(f"must be 1 or 0 (or true/false, yes/no, on/off): {text!r}")
    return value in ("1", "true", "yes", "on")


# Settings whose environment variable may be left unset: (field, variable, type).
_OPTIONAL = [
    ("ratelimit_scans", "TRACE_RATELIMIT_SCANS", str),
    ("ratelimit_complaints", "TRACE_RATELIMIT_COMPLAINTS", str),
    ("suspicious_window_hours", "TRACE_SUSPICIOUS_WINDOW_HOURS", int),
    ("suspicious_max_scans", "TRACE_SUSPICIOUS_MAX_SCANS", int),
    ("suspicious_max_clients", "TRACE_SUSPICIOUS_MAX_CLIENTS", int),
    ("scan_batch_seconds", "TRACE_SCAN_BATCH_SECONDS", float),
    ("fast_scan_pages", "TRACE_FAST_SCAN_PAGES", _flag),
    ("display_timezone", "TRACE_DISPLAY_TIMEZONE", str),
    ("complaint_photo_max_bytes", "TRACE_COMPLAINT_PHOTO_MAX_BYTES", int),
]


def _optional(env, settings) -> dict:
    """The settings whose variable is set, converted; the others keep their defaults. A
    value that does not convert is refused with its variable's name."""
    values = {}
    for name, variable, kind in settings:
        if variable in env:
            try:
                values[name] = kind(env[variable])
            except ValueError as error:
                raise ValueError(f"{variable}: {error}") from None
    return values


def _instance_secret(instance: Path) -> str:
    """The secret key kept in instance/, generated on first use and never committed."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
