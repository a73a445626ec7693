"""Operator settings read from ``AISLE_*`` environment variables.

:meth:`Settings.from_env` is the one place the environment is read. Secrets (the
credential key, passwords inside URLs) never appear in ``repr`` or logs: use
:meth:`Settings.describe` to show what is configured.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from aisle.env import SettingsError, env_number

__all__ = ["SECRET_KEY_FILE", "Settings", "SettingsError", "redact_url"]

SECRET_KEY_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
"""Name of the generated credential key inside the data directory (embedded mode)."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an Aisle process is configured with.

    Build it with :meth:`from_env`; tests construct it directly with the fields they
    care about.
    """

    data_dir: str = "./aisle-data"
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = ""
    previous_secret_keys: tuple[str, ...] = ()
    public_url: str | None = None
    """Where the world reaches this server (``https://aisle.example.com``): CRM REST
    hooks are subscribed to inbound URLs under it; ``None`` subscribes none."""
    # Database.
    db_pool_min: int = 1
    db_pool_max: int = 10
    sqlite_busy_timeout_seconds: float = 30.0
    # Durable execution.
    queue_namespace: str = "aisle"
    worker_threads: int = 8
    lease_grace_seconds: float = 60.0
    redispatch_seconds: float = 300.0
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 3600.0
    poll_interval_seconds: float = 1.0
    batch_size: int = 100
    broker_heartbeat_seconds: float = 60.0
    environ: Mapping[str, str] = msgspec.field(default_factory=dict)
    """The ``AISLE_*`` environment the settings came from (``ActionServices.setting``)."""

    def __post_init__(self) -> None:
        if not self.database_url:
            default = f"sqlite:///{Path(self.data_dir).absolute() / 'aisle.sqlite3'}"
            msgspec.structs.force_setattr(self, "database_url", default)

    def __repr__(self) -> str:
        return f"Settings({self.describe()})"

    __str__ = __repr__

    @property
    def embedded(self) -> bool:
        """No Redis: the relay, workers and scheduler run inside ``aisle serve``."""
        return not self.redis_url

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgres``, from :attr:`database_url`."""
        return database_dialect(self.database_url)

    def describe(self) -> dict[str, Any]:
        """The settings safe to print or log: secrets masked, URL passwords removed."""
        shown = {f: getattr(self, f) for f in self.__struct_fields__ if f != "environ"}
        shown["database_url"] = redact_url(self.database_url)
        shown["redis_url"] = redact_url(self.redis_url) if self.redis_url else None
        shown["secret_key"] = "***" if self.secret_key else ""
        shown["previous_secret_keys"] = ["***"] * len(self.previous_secret_keys)
        return shown

    def setting(self, name: str, default: str | None = None) -> str | None:
        """An operator setting by short name: ``setting("smtp_host")`` reads AISLE_SMTP_HOST."""
        key = name.upper()
        if not key.startswith("AISLE_"):
            key = f"AISLE_{key}"
        return self.environ.get(key, default)

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (tests shorten leases this way)."""
        return msgspec.structs.replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, create_dirs: bool = True
    ) -> Settings:
        """Read the settings; in embedded mode create the data dir and the credential key.

        Production (``AISLE_REDIS_URL`` set) runs several processes that must share one
        key, so there ``AISLE_SECRET_KEY`` is required instead of generated.
        """
        env = dict(os.environ if environ is None else environ)
        aisle_env = {k: v for k, v in env.items() if k.startswith("AISLE_")}
        data_dir = env.get("AISLE_DATA_DIR") or "./aisle-data"
        redis_url = env.get("AISLE_REDIS_URL") or None
        database_url = env.get("AISLE_DATABASE_URL") or ""
        if database_url:
            database_dialect(database_url)  # fail early on a malformed URL
        secret_key = env.get("AISLE_SECRET_KEY") or ""
        if not secret_key:
            if redis_url:
                raise SettingsError(
                    "AISLE_SECRET_KEY must be set when AISLE_REDIS_URL is set: every "
                    "process must encrypt credentials with the same key (generate one "
                    "with `python -c 'import secrets,base64; "
                    "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`)"
                )
            if create_dirs:
                secret_key = load_or_create_secret_key(Path(data_dir))
        elif create_dirs:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
        previous = tuple(
            k.strip() for k in env.get("AISLE_PREVIOUS_SECRET_KEYS", "").split(",") if k.strip()
        )
        return cls(
            data_dir=data_dir,
            public_url=_public_url(env.get("AISLE_PUBLIC_URL")),
            database_url=database_url,
            redis_url=redis_url,
            secret_key=secret_key,
            previous_secret_keys=previous,
            db_pool_min=env_number(env, "AISLE_DB_POOL_MIN", 1, bound="any"),
            db_pool_max=env_number(env, "AISLE_DB_POOL_MAX", 10, bound="any"),
            sqlite_busy_timeout_seconds=env_number(
                env, "AISLE_SQLITE_BUSY_TIMEOUT", 30.0, bound="any"
            ),
            queue_namespace=env.get("AISLE_QUEUE_NAMESPACE") or "aisle",
            worker_threads=env_number(env, "AISLE_WORKER_THREADS", 8, bound="any"),
            lease_grace_seconds=env_number(env, "AISLE_LEASE_GRACE_SECONDS", 60.0, bound="any"),
            redispatch_seconds=env_number(env, "AISLE_REDISPATCH_SECONDS", 300.0, bound="any"),
            retry_base_seconds=env_number(env, "AISLE_RETRY_BASE_SECONDS", 10.0, bound="any"),
            retry_cap_seconds=env_number(env, "AISLE_RETRY_CAP_SECONDS", 3600.0, bound="any"),
            poll_interval_seconds=env_number(env, "AISLE_POLL_INTERVAL_SECONDS", 1.0, bound="any"),
            batch_size=env_number(env, "AISLE_BATCH_SIZE", 100, bound="any"),
            broker_heartbeat_seconds=env_number(
                env, "AISLE_BROKER_HEARTBEAT_SECONDS", 60.0, bound="any"
            ),
            environ=aisle_env,
        )


def _public_url(raw: str | None) -> str | None:
    """``AISLE_PUBLIC_URL`` checked (an http(s) URL with a host, nothing after its
    path), without a trailing slash; unset or empty: ``None``."""
    text = (raw or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            f"AISLE_PUBLIC_URL: {text!r} is not an http(s) URL such as https://aisle.example.com"
        )
    return text.rstrip("/")


def database_dialect(url: str) -> str:
    """``sqlite`` or ``postgres`` for a database URL; anything else is a clear error."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return "postgres"
    raise SettingsError(
        f"AISLE_DATABASE_URL: unsupported scheme {scheme!r} in {redact_url(url)!r}; "
        "use sqlite:///path/to/file.sqlite3 or postgresql://user@host:5432/dbname"
    )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def load_or_create_secret_key(data_dir: Path) -> str:
    """Read ``<data_dir>/secret.key``, creating it (mode 0600) on first run.

    ``O_EXCL`` makes two processes starting at once agree on one key.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_KEY_FILE
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = path.read_text().strip()
        if not stored:
            raise SettingsError(f"{path} is empty: delete it or set AISLE_SECRET_KEY") from None
        return stored
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
