"""Staff users and API keys."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.catalog.models import Line, Station
from trace.db import Base, str_enum, utcnow


class Role(enum.Enum):
    admin = "admin"
    quality = "quality"
    line = "line"
    logistics = "logistics"
    technician = "technician"
    viewer = "viewer"


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A key is shown once; only its prefix (to find it) and its SHA-256 are kept."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role, "api_key_role"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("line.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[dt.datetime | None]

    line: Mapped[Line | None] = relationship()
    station: Mapped[Station | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
