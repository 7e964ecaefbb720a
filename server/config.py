"""Settings from the environment and command-line flags.

Every setting ``name`` is read from ``HEARTH_<NAME>`` and from ``hearth serve --<name>``; a flag
wins over the environment. Values are parsed and checked once, here, so the rest of the server can
trust them; a bad value raises ``ConfigError`` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from rooms.limits import (
    CHAT_MAX_BYTES,
    CHAT_MAX_MESSAGES,
    MAX_CHAT_CHARS,
    MAX_NAME_CHARS,
    PARTICIPANTS_MAX,
    PARTICIPANTS_MIN,
    Limits,
)
from rooms.model import MediaMode, MediaPath, RoomConfig

SECRET_FILE = "secret"
MIN_SECRET_BYTES = 32  # HS256 keys shorter than its digest are weak (RFC 7518 section 3.2)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
ICE_POLICIES = ("all", "relay")
LIVE_STORE_PERSISTENCE = ("refuse", "warn")

IcePolicy = Literal["all", "relay"]
StoreKind = Literal["sqlite", "redis"]


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable to fix."""


def env_name(field_name: str) -> str:
    return "HEARTH_" + field_name.upper()


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def _label(field_name: str) -> str:
    return f"{env_name(field_name)} ({flag_name(field_name)})"


# Parsers: (field name, raw value) -> checked value. A raw value is a string from the environment
# or a flag, or an already typed value passed by a caller.

Parser = Callable[[str, object], Any]


def _text(name: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{_label(name)} must be a string, not {raw!r}")
    return raw.strip()


def _optional_text(name: str, raw: object) -> str | None:
    return _text(name, raw) or None


def _integer(minimum: int, maximum: int | None = None) -> Parser:
    def parse(name: str, raw: object) -> int:
        if isinstance(raw, str):
            try:
                value = int(raw.strip())
            except ValueError:
                raise ConfigError(f"{_label(name)} must be an integer, not {raw!r}") from None
        elif isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            raise ConfigError(f"{_label(name)} must be an integer, not {raw!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise ConfigError(f"{_label(name)} must be {bounds}, not {value}")
        return value

    return parse


def _positive_number(name: str, raw: object) -> float:
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise ConfigError(f"{_label(name)} must be a number, not {raw!r}") from None
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    else:
        raise ConfigError(f"{_label(name)} must be a number, not {raw!r}")
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{_label(name)} must be a positive number, not {raw!r}")
    return value


def _boolean(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    value = _text(name, raw).lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{_label(name)} must be true or false, not {raw!r}")


def _choice(options: tuple[str, ...]) -> Parser:
    def parse(name: str, raw: object) -> str:
        value = _text(name, raw).lower()
        if value not in options:
            raise ConfigError(f"{_label(name)} must be one of {', '.join(options)}, not {raw!r}")
        return value

    return parse


def _url_list(schemes: tuple[str, ...]) -> Parser:
    def parse(name: str, raw: object) -> tuple[str, ...]:
        if isinstance(raw, str):
            items = [item.strip() for item in raw.split(",")]
        elif isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
            items = [item.strip() for item in raw]
        else:
            raise ConfigError(f"{_label(name)} must be a comma-separated list, not {raw!r}")
        values = tuple(item.rstrip("/") if "://" in item else item for item in items if item)
        for value in values:
            if not value.startswith(schemes):
                raise ConfigError(f"{_label(name)}: {value!r} must start with one of {', '.join(schemes)}")
        return values

    return parse


def _janus_urls(name: str, raw: object) -> tuple[str, ...]:
    """``ws://HOST:PORT`` endpoints, one per Janus instance: a port is required, since Janus has
    no standard one and a URL without it would silently mean port 80."""
    values: tuple[str, ...] = _url_list(("ws://", "wss://"))(name, raw)
    for value in values:
        if not _host_and_port_only(value):
            raise ConfigError(
                f"{_label(name)}: each instance must be ws://HOST:PORT or wss://HOST:PORT, not {value!r}"
            )
    return values


def _host_and_port_only(url: str) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    return bool(parts.hostname) and port is not None and not (parts.path or parts.query or parts.fragment)


def _path(name: str, raw: object) -> Path:
    if isinstance(raw, str | os.PathLike):
        text = os.fspath(raw).strip()
        if text:
            return Path(text).expanduser().absolute()
    raise ConfigError(f"{_label(name)} must be a directory path, not {raw!r}")


def _store(name: str, raw: object) -> str:
    value = _text(name, raw)
    if value.startswith(("redis://", "rediss://")) or (
        value.startswith("sqlite:///") and len(value) > len("sqlite:///")
    ):
        return value
    raise ConfigError(f"{_label(name)} must be sqlite:///PATH or redis://HOST:PORT/DB, not {raw!r}")


def _live_store(name: str, raw: object) -> str:
    value = _text(name, raw)
    if not value or value.startswith(("redis://", "rediss://")):
        return value
    raise ConfigError(f"{_label(name)} must be redis://HOST:PORT/DB (or empty), not {raw!r}")


def _secret(name: str, raw: object) -> str:
    value = _text(name, raw)
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{_label(name)} must be at least {MIN_SECRET_BYTES} bytes long "
            "(leave it unset to have one generated and kept in the data directory)"
        )
    return value


def _public_url(name: str, raw: object) -> str:
    value = _text(name, raw).rstrip("/")
    if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
        raise ConfigError(f"{_label(name)} must be an http:// or https:// URL, not {raw!r}")
    return value


def _host(name: str, raw: object) -> str:
    value = _text(name, raw)
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if not value:
        raise ConfigError(f"{_label(name)} must not be empty")
    return value


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/hearth``, else ``~/.local/share/hearth``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_DATA_HOME", "").strip()
    if xdg:
        return Path(xdg).expanduser().absolute() / "hearth"
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".local" / "share" / "hearth"


def load_or_create_secret(data_dir: Path) -> str:
    """The token secret kept in ``<data_dir>/secret`` (mode 0600), created on first use.

    Creation is atomic (write a private temporary file, then hard-link it into place), so two
    processes starting at once agree on one secret.
    """
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its secret
        finally:
            temporary.unlink(missing_ok=True)
    value = path.read_text().strip()
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{path} holds no usable secret: delete it, or set HEARTH_SECRET")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return value


def _meta(parse: Parser, help_text: str) -> dict[str, object]:
    return {"parse": parse, "help": help_text}


@dataclass(frozen=True, slots=True)
class Settings:
    """The server's configuration. Build it with ``Settings.from_env``.

    ``store``, ``secret`` and ``public_url`` left empty are derived from the others (see
    ``__post_init__``), so a test can also write ``Settings(data_dir=tmp_path, secret=...)``.
    """

    host: str = field(default="127.0.0.1", metadata=_meta(_host, "address to listen on"))
    port: int = field(default=8080, metadata=_meta(_integer(0, 65535), "port to listen on"))
    data_dir: Path = field(
        default_factory=default_data_dir,
        metadata=_meta(_path, "where the SQLite store and the generated secret live"),
    )
    store: str = field(default="", metadata=_meta(_store, "sqlite:///PATH (default) or redis://HOST:PORT/DB"))
    live_store: str = field(
        default="",
        metadata=_meta(
            _live_store,
            "redis://HOST:PORT/DB keeping nothing on disk, for live state, chat, presence and "
            "pub/sub (default: the store)",
        ),
    )
    live_store_persistence: str = field(
        default="refuse",
        metadata=_meta(
            _choice(LIVE_STORE_PERSISTENCE),
            "refuse (default) or warn when the live store's Redis writes data to disk",
        ),
    )
    secret: str = field(
        default="", repr=False, metadata=_meta(_secret, "token signing key (generated when unset)")
    )
    organizer_key: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(_optional_text, "bearer key needed to create rooms (required off loopback)"),
    )
    metrics_key: str | None = field(
        default=None,
        repr=False,
        metadata=_meta(_optional_text, "bearer key for /metrics (unset: this machine only)"),
    )
    public_url: str = field(default="", metadata=_meta(_public_url, "base URL of invite links"))
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata=_meta(_url_list(("http://", "https://")), "extra origins allowed to open sockets"),
    )
    turn_urls: tuple[str, ...] = field(
        default=(), metadata=_meta(_url_list(("turn:", "turns:", "stun:")), "TURN/STUN URLs")
    )
    turn_secret: str | None = field(
        default=None, repr=False, metadata=_meta(_optional_text, "TURN REST shared secret")
    )
    turn_ttl: int = field(default=3600, metadata=_meta(_integer(60), "lifetime of TURN credentials (s)"))
    ice_policy: IcePolicy = field(default="all", metadata=_meta(_choice(ICE_POLICIES), "all or relay"))
    janus_urls: tuple[str, ...] = field(
        default=(),
        metadata=_meta(_janus_urls, "Janus API endpoints, ws://HOST:PORT, one per instance (SFU mode)"),
    )
    janus_secret: str = field(
        default="", repr=False, metadata=_meta(_text, "Janus API secret (required with HEARTH_JANUS_URLS)")
    )
    sfu_min_seats: int = field(
        default=5,
        metadata=_meta(
            _integer(PARTICIPANTS_MIN, PARTICIPANTS_MAX),
            "rooms set to media auto go through the media server from this many seats",
        ),
    )
    check_max: int = field(
        default=4,
        metadata=_meta(_integer(0, 100), "connection checks (echo peers) running at once; 0 turns it off"),
    )
    check_seconds: float = field(
        default=30.0, metadata=_meta(_positive_number, "longest a connection check may run (s)")
    )
    check_max_per_room: int = field(
        default=2,
        metadata=_meta(_integer(1, 100), "connection checks running at once for one room on one node"),
    )
    check_turn_ttl: int = field(
        default=120,
        metadata=_meta(_integer(30, 3600), "lifetime of a connection check's TURN credentials (s)"),
    )
    check_turn_per_link: int = field(
        default=20,
        metadata=_meta(_integer(1), "connection-check TURN credentials one invite link gets per minute"),
    )
    check_turn_per_node: int = field(
        default=200,
        metadata=_meta(_integer(1), "connection-check TURN credentials one node hands out per minute"),
    )
    check_allow_loopback: bool = field(
        default=False,
        metadata=_meta(_boolean, "test/dev only: let the connection check reach loopback candidates"),
    )
    link_ttl_days: int = field(default=180, metadata=_meta(_integer(1), "lifetime of invite links (days)"))
    grace_seconds: float = field(default=30.0, metadata=_meta(_positive_number, "reconnect grace (s)"))
    lobby_max: int = field(
        default=20, metadata=_meta(_integer(1), "people waiting in one room's lobby at once")
    )
    lobby_wait_seconds: float = field(
        default=3600.0,
        metadata=_meta(_positive_number, "longest anyone waits in a lobby before being turned away (s)"),
    )
    join_timeout: float = field(default=10.0, metadata=_meta(_positive_number, "time to send join (s)"))
    heartbeat_interval: float = field(
        default=20.0, metadata=_meta(_positive_number, "websocket ping interval (s)")
    )
    heartbeat_timeout: float = field(
        default=20.0, metadata=_meta(_positive_number, "websocket pong timeout (s)")
    )
    header_timeout: float = field(
        default=10.0,
        metadata=_meta(_positive_number, "time a connection gets to send complete request headers (s)"),
    )
    max_connections_per_address: int = field(
        default=64,
        metadata=_meta(_integer(0), "open connections (HTTP and websocket) per client address; 0: no cap"),
    )
    max_message_bytes: int = field(
        default=65536, metadata=_meta(_integer(1024), "largest client message (bytes)")
    )
    max_chat_chars: int = field(default=MAX_CHAT_CHARS, metadata=_meta(_integer(1), "longest chat message"))
    max_name_chars: int = field(default=MAX_NAME_CHARS, metadata=_meta(_integer(1), "longest display name"))
    outbox_size: int = field(default=256, metadata=_meta(_integer(1), "frames queued per connection"))
    outbox_bytes: int = field(
        default=2 * 1024 * 1024,
        metadata=_meta(_integer(64 * 1024), "bytes queued per connection before it counts as too slow"),
    )
    chat_max_messages: int = field(
        default=CHAT_MAX_MESSAGES,
        metadata=_meta(_integer(10), "chat messages a session keeps (the oldest leave)"),
    )
    chat_max_bytes: int = field(
        default=CHAT_MAX_BYTES,
        metadata=_meta(_integer(16 * 1024), "bytes of chat text a session keeps (the oldest leave)"),
    )
    chat_page: int = field(
        default=50, metadata=_meta(_integer(1, 500), "chat messages in welcome/snapshot and per chat_history")
    )
    rate_cost_bytes: int = field(
        default=16 * 1024,
        metadata=_meta(_integer(1024), "bytes of snapshot or history that cost one more rate token"),
    )
    rate_per_second: float = field(default=10.0, metadata=_meta(_positive_number, "ordinary messages/s"))
    rate_burst: int = field(default=40, metadata=_meta(_integer(1), "ordinary message burst"))
    signal_rate_per_second: float = field(
        default=200.0, metadata=_meta(_positive_number, "signal messages/s")
    )
    signal_burst: int = field(default=600, metadata=_meta(_integer(1), "signal message burst"))
    signal_bytes_per_second: int = field(
        default=65536,
        metadata=_meta(_integer(1024), "signal bytes one participant may send per second (sustained)"),
    )
    signal_bytes_burst: int = field(
        default=1048576,
        metadata=_meta(_integer(65536), "signal bytes one participant may send at once (burst)"),
    )
    max_sdp_chars: int = field(
        default=32768, metadata=_meta(_integer(1024, 60000), "longest SDP in a signal (characters)")
    )
    max_candidate_chars: int = field(
        default=1024, metadata=_meta(_integer(128, 60000), "longest ICE candidate in a signal (characters)")
    )
    rate_strikes: int = field(
        default=20, metadata=_meta(_integer(1), "rejected messages within 10 s before close 4008")
    )
    slow_close_seconds: float = field(
        default=5.0, metadata=_meta(_positive_number, "how long a client that stops reading is tolerated (s)")
    )
    upkeep_seconds: float = field(
        default=2.0,
        metadata=_meta(_positive_number, "node liveness, session TTL and orphan checks every this often (s)"),
    )
    log_level: str = field(default="info", metadata=_meta(_choice(LOG_LEVELS), "log level"))
    # The group's journey is health data: kept this long, then deleted (docs/journey.md).
    retention_days: int = field(
        default=365,
        metadata=_meta(_integer(1), "days the group's journey (plans, posts, check-ins) is kept; at least 1"),
    )
    retention_sweep_seconds: float = field(
        default=3600.0,
        metadata=_meta(_positive_number, "how often a node deletes journey data past retention (s)"),
    )

    def __post_init__(self) -> None:
        if not self.store:
            object.__setattr__(self, "store", f"sqlite:///{self.data_dir}/hearth.db")
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{_url_host(self.host)}:{self.port}")
        else:
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        if not self.secret:
            object.__setattr__(self, "secret", load_or_create_secret(self.data_dir))
        if self.ice_policy not in ICE_POLICIES:
            raise ConfigError(f"{_label('ice_policy')} must be one of {', '.join(ICE_POLICIES)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default ``os.environ``), then ``overrides`` (flags) on top.

        Overrides are field names; ``None`` means "not given". Empty environment values count as
        unset.
        """
        env = os.environ if env is None else env
        known = {f.name: f for f in fields(cls)}
        unknown = set(overrides) - set(known)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in known.items():
            raw: object = overrides.get(name)
            if raw is None:
                raw = env.get(env_name(name))
                if raw is not None and not raw.strip():
                    raw = None
            if raw is not None:
                values[name] = spec.metadata["parse"](name, raw)
        if "data_dir" not in values:
            values["data_dir"] = default_data_dir(env)
        return cls(**values)

    def is_loopback(self) -> bool:
        """Whether the server listens only on this machine (127.0.0.0/8, ::1 or localhost)."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def public_is_loopback(self) -> bool:
        """Whether the public URL names this machine only (a loopback address or localhost). When
        it does not, a proxy on this machine may be making the node reachable from anywhere even
        though it listens on 127.0.0.1."""
        name = (urlsplit(self.public_url).hostname or "").rstrip(".").lower()
        if name == "localhost" or name.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def check(self) -> None:
        """Refuse configurations that would be unsafe or could not work, before serving."""
        if not self.is_loopback() and not self.organizer_key:
            raise ConfigError(
                f"Hearth would listen on {self.host}, reachable from other machines, where anyone could "
                "create rooms: set HEARTH_ORGANIZER_KEY or --organizer-key (a long random string), "
                "or listen on 127.0.0.1"
            )
        if not self.public_is_loopback() and not self.organizer_key:
            raise ConfigError(
                f"HEARTH_PUBLIC_URL is {self.public_url}, so Hearth is reachable from other machines "
                "(through a proxy), where anyone could create rooms: set HEARTH_ORGANIZER_KEY or "
                "--organizer-key (a long random string)"
            )
        if self.turn_urls and not self.turn_secret:
            raise ConfigError("HEARTH_TURN_URLS is set but HEARTH_TURN_SECRET is not: set both or neither")
        if self.janus_urls and not self.janus_secret:
            raise ConfigError(
                "HEARTH_JANUS_URLS is set but HEARTH_JANUS_SECRET is not: Janus's API must be "
                "protected by a secret (set both, or neither for mesh-only rooms)"
            )
        if self.signal_bytes_burst < self.max_message_bytes:
            raise ConfigError(
                "HEARTH_SIGNAL_BYTES_BURST must be at least HEARTH_MAX_MESSAGE_BYTES, "
                "or the largest signal a client may send could never be relayed"
            )
        if self.ice_policy == "relay" and not self.turn_urls:
            raise ConfigError("HEARTH_ICE_POLICY=relay needs a TURN server: set HEARTH_TURN_URLS")
        if self.live_store and self.store_kind() != "redis":
            raise ConfigError(
                "HEARTH_LIVE_STORE is for many nodes sharing a Redis store: set HEARTH_STORE to "
                "redis://... as well (one node keeps live state in memory)"
            )

    def limits(self) -> Limits:
        """The limits of room rules on this server: one record for the engine, the room API,
        the CLI and the page (``welcome.limits``)."""
        return Limits(
            max_chat_chars=self.max_chat_chars,
            max_message_bytes=self.max_message_bytes,
            grace_seconds=self.grace_seconds,
            chat_page=self.chat_page,
            chat_max_messages=self.chat_max_messages,
            chat_max_bytes=self.chat_max_bytes,
            max_name_chars=self.max_name_chars,
        )

    def sfu_available(self) -> bool:
        """Whether a media server (Janus) is configured: without one every session is a mesh."""
        return bool(self.janus_urls)

    def media_path(self, room: RoomConfig) -> MediaPath:
        """The path a session of ``room`` starting now takes. ``auto`` uses the media server for
        rooms of at least ``sfu_min_seats`` seats (a mesh holds full rate up to 4 browsers and
        degrades from 5, TESTING.md); ``sfu`` without a media server falls back to the mesh
        (the page says so)."""
        if not self.sfu_available() or room.media is MediaMode.MESH:
            return MediaPath.MESH
        if room.media is MediaMode.SFU or room.max_participants >= self.sfu_min_seats:
            return MediaPath.SFU
        return MediaPath.MESH

    def store_kind(self) -> StoreKind:
        return "redis" if self.store.startswith(("redis://", "rediss://")) else "sqlite"

    def live_url(self) -> str:
        """The Redis of live state, chat, presence and pub/sub: ``live_store``, else the store."""
        return self.live_store or self.store

    def sqlite_path(self) -> Path:
        """The database file of a ``sqlite:///PATH`` store (``sqlite:////abs`` or ``sqlite:///rel``)."""
        if self.store_kind() != "sqlite":
            raise ConfigError(f"HEARTH_STORE is {self.store!r}, not a sqlite:/// store")
        return Path(self.store.removeprefix("sqlite:///")).expanduser()

    def local_url(self) -> str:
        """A URL that reaches the server from this machine (a wildcard host becomes loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://{_url_host(host)}:{self.port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def setting_help() -> list[tuple[str, str, str]]:
    """(field name, environment variable, help) for every setting: used to build CLI flags."""
    return [(f.name, env_name(f.name), str(f.metadata["help"])) for f in fields(Settings)]
