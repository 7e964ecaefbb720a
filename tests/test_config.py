"""Settings: environment, flags, derived defaults, validation and the generated secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.config import ConfigError, Settings, load_or_create_secret

SECRET = "s" * 40


def settings(tmp_path: Path, env: dict[str, str] | None = None, **overrides: object) -> Settings:
    return Settings.from_env({"HEARTH_DATA_DIR": str(tmp_path), **(env or {})}, **overrides)


def test_defaults(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.data_dir == tmp_path
    assert s.store == f"sqlite:///{tmp_path}/hearth.db"
    assert s.store_kind() == "sqlite"
    assert s.sqlite_path() == tmp_path / "hearth.db"
    assert s.public_url == "http://127.0.0.1:8080"
    assert s.organizer_key is None
    assert s.allowed_origins == ()
    assert s.turn_urls == ()
    assert s.turn_secret is None
    assert s.ice_policy == "all"
    assert (s.turn_ttl, s.link_ttl_days) == (3600, 180)
    assert (s.grace_seconds, s.join_timeout) == (30.0, 10.0)
    assert (s.heartbeat_interval, s.heartbeat_timeout) == (20.0, 20.0)
    assert (s.max_message_bytes, s.max_chat_chars, s.max_name_chars, s.outbox_size) == (65536, 2000, 40, 256)
    assert (s.rate_per_second, s.rate_burst) == (10.0, 40)
    assert (s.signal_rate_per_second, s.signal_burst) == (200.0, 600)
    assert (s.rate_strikes, s.slow_close_seconds, s.log_level) == (20, 5.0, "info")


def test_data_dir_defaults_to_xdg_then_home(tmp_path: Path) -> None:
    xdg = Settings.from_env({"XDG_DATA_HOME": str(tmp_path / "xdg")}, secret=SECRET)
    assert xdg.data_dir == tmp_path / "xdg" / "hearth"
    home = Settings.from_env({"HOME": str(tmp_path / "home")}, secret=SECRET)
    assert home.data_dir == tmp_path / "home" / ".local" / "share" / "hearth"


def test_every_setting_reads_its_environment_variable(tmp_path: Path) -> None:
    env = {
        "HEARTH_HOST": "::1",
        "HEARTH_PORT": "9000",
        "HEARTH_STORE": "redis://127.0.0.1:6390/2",
        "HEARTH_SECRET": SECRET,
        "HEARTH_ORGANIZER_KEY": "organizer",
        "HEARTH_PUBLIC_URL": "https://hearth.example.org/",
        "HEARTH_ALLOWED_ORIGINS": " http://127.0.0.1:5000/ , https://a.example ,",
        "HEARTH_TURN_URLS": "turn:127.0.0.1:3478,turn:127.0.0.1:3478?transport=tcp",
        "HEARTH_TURN_SECRET": "turn-secret",
        "HEARTH_TURN_TTL": "600",
        "HEARTH_ICE_POLICY": "RELAY",
        "HEARTH_LINK_TTL_DAYS": "7",
        "HEARTH_GRACE_SECONDS": "2.5",
        "HEARTH_JOIN_TIMEOUT": "3",
        "HEARTH_HEARTBEAT_INTERVAL": "5",
        "HEARTH_HEARTBEAT_TIMEOUT": "6",
        "HEARTH_MAX_MESSAGE_BYTES": "4096",
        "HEARTH_MAX_CHAT_CHARS": "100",
        "HEARTH_MAX_NAME_CHARS": "20",
        "HEARTH_OUTBOX_SIZE": "8",
        "HEARTH_RATE_PER_SECOND": "1.5",
        "HEARTH_RATE_BURST": "3",
        "HEARTH_SIGNAL_RATE_PER_SECOND": "50",
        "HEARTH_SIGNAL_BURST": "100",
        "HEARTH_RATE_STRIKES": "4",
        "HEARTH_SLOW_CLOSE_SECONDS": "0.5",
        "HEARTH_LOG_LEVEL": "debug",
        "HEARTH_CHECK_MAX": "2",
        "HEARTH_CHECK_SECONDS": "12.5",
    }
    s = settings(tmp_path, env)
    assert (s.host, s.port, s.store, s.secret) == ("::1", 9000, "redis://127.0.0.1:6390/2", SECRET)
    assert s.store_kind() == "redis"
    assert s.organizer_key == "organizer"
    assert s.public_url == "https://hearth.example.org"
    assert s.allowed_origins == ("http://127.0.0.1:5000", "https://a.example")
    assert s.turn_urls == ("turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp")
    assert (s.turn_secret, s.turn_ttl, s.ice_policy, s.link_ttl_days) == ("turn-secret", 600, "relay", 7)
    assert (s.grace_seconds, s.join_timeout, s.heartbeat_interval, s.heartbeat_timeout) == (2.5, 3, 5, 6)
    assert (s.max_message_bytes, s.max_chat_chars, s.max_name_chars, s.outbox_size) == (4096, 100, 20, 8)
    assert (s.rate_per_second, s.rate_burst, s.signal_rate_per_second, s.signal_burst) == (1.5, 3, 50, 100)
    assert (s.rate_strikes, s.slow_close_seconds, s.log_level) == (4, 0.5, "debug")
    assert (s.check_max, s.check_seconds) == (2, 12.5)
    assert not (tmp_path / "secret").exists()  # a configured secret is not written anywhere


def test_flags_override_environment_and_none_means_not_given(tmp_path: Path) -> None:
    env = {"HEARTH_PORT": "9000", "HEARTH_HOST": "127.0.0.2"}
    s = settings(tmp_path, env, port="9100", host=None, grace_seconds=1.5)
    assert (s.host, s.port, s.grace_seconds) == ("127.0.0.2", 9100, 1.5)
    assert s.public_url == "http://127.0.0.2:9100"


def test_typed_overrides(tmp_path: Path) -> None:
    s = Settings.from_env({}, data_dir=tmp_path, port=0, allowed_origins=["http://x.test"], secret=SECRET)
    assert (s.data_dir, s.port, s.allowed_origins) == (tmp_path, 0, ("http://x.test",))


def test_empty_environment_values_count_as_unset(tmp_path: Path) -> None:
    s = settings(tmp_path, {"HEARTH_PORT": "", "HEARTH_ORGANIZER_KEY": "  ", "HEARTH_TURN_URLS": ""})
    assert (s.port, s.organizer_key, s.turn_urls) == (8080, None, ())


def test_unknown_override_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="colour"):
        settings(tmp_path, colour="blue")


def test_public_url_of_an_ipv6_host(tmp_path: Path) -> None:
    s = settings(tmp_path, {"HEARTH_HOST": "::1", "HEARTH_PORT": "8081"})
    assert s.public_url == "http://[::1]:8081"
    assert settings(tmp_path, host="[::1]").host == "::1"


def test_local_url_replaces_a_wildcard_host(tmp_path: Path) -> None:
    assert settings(tmp_path, host="0.0.0.0", port=80).local_url() == "http://127.0.0.1:80"
    assert settings(tmp_path, host="::").local_url() == "http://[::1]:8080"
    assert settings(tmp_path, host="10.1.2.3").local_url() == "http://10.1.2.3:8080"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HEARTH_PORT", "http"),
        ("HEARTH_PORT", "70000"),
        ("HEARTH_PORT", "-1"),
        ("HEARTH_ICE_POLICY", "sometimes"),
        ("HEARTH_GRACE_SECONDS", "-1"),
        ("HEARTH_GRACE_SECONDS", "0"),
        ("HEARTH_GRACE_SECONDS", "nan"),
        ("HEARTH_JOIN_TIMEOUT", "soon"),
        ("HEARTH_RATE_BURST", "0"),
        ("HEARTH_RATE_BURST", "1.5"),
        ("HEARTH_MAX_MESSAGE_BYTES", "10"),
        ("HEARTH_SECRET", "too-short"),
        ("HEARTH_STORE", "mysql://localhost/hearth"),
        ("HEARTH_STORE", "sqlite:///"),
        ("HEARTH_PUBLIC_URL", "hearth.example.org"),
        ("HEARTH_ALLOWED_ORIGINS", "hearth.example.org"),
        ("HEARTH_TURN_URLS", "http://turn.example.org"),
        ("HEARTH_LOG_LEVEL", "loud"),
        ("HEARTH_CHECK_MAX", "-1"),
        ("HEARTH_CHECK_MAX", "many"),
        ("HEARTH_CHECK_SECONDS", "0"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(tmp_path, {variable: value})


def test_bad_flag_value_names_the_flag_too(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--port"):
        settings(tmp_path, port="eighty")
    with pytest.raises(ConfigError, match="HEARTH_PORT"):
        settings(tmp_path, port=True)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("hearth.example.org", False),
    ],
)
def test_is_loopback(tmp_path: Path, host: str, loopback: bool) -> None:
    assert settings(tmp_path, host=host).is_loopback() is loopback


def test_check_requires_an_organizer_key_off_loopback(tmp_path: Path) -> None:
    settings(tmp_path).check()
    with pytest.raises(ConfigError, match="HEARTH_ORGANIZER_KEY or --organizer-key"):
        settings(tmp_path, host="0.0.0.0").check()
    settings(tmp_path, host="0.0.0.0", organizer_key="a-long-organizer-key").check()


def test_check_refuses_turn_settings_that_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HEARTH_TURN_SECRET"):
        settings(tmp_path, turn_urls="turn:127.0.0.1:3478").check()
    with pytest.raises(ConfigError, match="HEARTH_TURN_URLS"):
        settings(tmp_path, ice_policy="relay").check()
    settings(tmp_path, ice_policy="relay", turn_urls="turn:127.0.0.1:3478", turn_secret="t").check()


def test_sqlite_paths(tmp_path: Path) -> None:
    assert settings(tmp_path, store="sqlite:///rooms.db").sqlite_path() == Path("rooms.db")
    assert settings(tmp_path, store=f"sqlite:///{tmp_path}/x/r.db").sqlite_path() == tmp_path / "x" / "r.db"
    with pytest.raises(ConfigError):
        settings(tmp_path, store="redis://127.0.0.1:6379/0").sqlite_path()


def test_generated_secret_is_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    first = Settings.from_env({"HEARTH_DATA_DIR": str(data_dir)})
    secret_file = data_dir / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(first.secret) >= 43
    assert Settings.from_env({"HEARTH_DATA_DIR": str(data_dir)}).secret == first.secret
    assert load_or_create_secret(data_dir) == first.secret
    assert Settings.from_env({"HEARTH_DATA_DIR": str(data_dir), "HEARTH_SECRET": SECRET}).secret == SECRET


def test_secrets_differ_between_data_directories(tmp_path: Path) -> None:
    assert load_or_create_secret(tmp_path / "a") != load_or_create_secret(tmp_path / "b")


def test_an_unusable_secret_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("\n")
    with pytest.raises(ConfigError, match="secret"):
        load_or_create_secret(tmp_path)


def test_direct_construction_derives_the_rest(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, secret=SECRET, port=9001)
    assert s.store == f"sqlite:///{tmp_path}/hearth.db"
    assert s.public_url == "http://127.0.0.1:9001"
    assert SECRET not in repr(s)


def test_connection_check_limits_and_the_loopback_switch(tmp_path: Path) -> None:
    defaults = settings(tmp_path, {})
    assert (defaults.check_max_per_room, defaults.check_turn_ttl) == (2, 120)
    assert (defaults.check_turn_per_link, defaults.check_turn_per_node) == (20, 200)
    assert defaults.check_allow_loopback is False  # test/dev only
    env = {
        "HEARTH_CHECK_MAX_PER_ROOM": "3",
        "HEARTH_CHECK_TURN_TTL": "60",
        "HEARTH_CHECK_TURN_PER_LINK": "4",
        "HEARTH_CHECK_TURN_PER_NODE": "50",
        "HEARTH_CHECK_ALLOW_LOOPBACK": "true",
    }
    s = settings(tmp_path, env)
    assert (s.check_max_per_room, s.check_turn_ttl) == (3, 60)
    assert (s.check_turn_per_link, s.check_turn_per_node) == (4, 50)
    assert s.check_allow_loopback is True
    assert settings(tmp_path, env, check_allow_loopback="off").check_allow_loopback is False
    for variable, value in [
        ("HEARTH_CHECK_MAX_PER_ROOM", "0"),
        ("HEARTH_CHECK_TURN_TTL", "5"),
        ("HEARTH_CHECK_TURN_PER_LINK", "0"),
        ("HEARTH_CHECK_ALLOW_LOOPBACK", "maybe"),
    ]:
        with pytest.raises(ConfigError, match=variable):
            settings(tmp_path, {variable: value})


def test_signal_limits_have_defaults_env_and_flags(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.signal_bytes_per_second, s.signal_bytes_burst) == (65536, 1048576)
    assert (s.max_sdp_chars, s.max_candidate_chars) == (32768, 1024)
    env = {"HEARTH_SIGNAL_BYTES_BURST": "200000", "HEARTH_MAX_SDP_CHARS": "4096"}
    s = settings(tmp_path, env, max_candidate_chars="300", signal_bytes_per_second="2048")
    assert (s.signal_bytes_burst, s.max_sdp_chars, s.max_candidate_chars) == (200000, 4096, 300)
    assert s.signal_bytes_per_second == 2048
    with pytest.raises(ConfigError, match="HEARTH_MAX_SDP_CHARS"):
        settings(tmp_path, {"HEARTH_MAX_SDP_CHARS": "100"})


def test_check_refuses_a_signal_budget_smaller_than_one_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HEARTH_SIGNAL_BYTES_BURST"):
        settings(tmp_path, signal_bytes_burst="65536", max_message_bytes="100000").check()
    settings(tmp_path, signal_bytes_burst="100000", max_message_bytes="100000").check()


def test_the_live_store_defaults_to_the_store_and_needs_redis(tmp_path: Path) -> None:
    durable, live = "redis://durable:6379/0", "redis://live:6379/0"
    same = settings(tmp_path, {"HEARTH_STORE": durable})
    assert (same.live_store, same.live_url(), same.live_store_persistence) == ("", durable, "refuse")
    apart = settings(tmp_path, {"HEARTH_STORE": durable, "HEARTH_LIVE_STORE": live})
    assert apart.live_url() == "redis://live:6379/0"
    apart.check()
    assert settings(tmp_path, live_store_persistence="WARN").live_store_persistence == "warn"
    with pytest.raises(ConfigError, match="HEARTH_LIVE_STORE_PERSISTENCE"):
        settings(tmp_path, live_store_persistence="ignore")
    with pytest.raises(ConfigError, match="HEARTH_LIVE_STORE"):
        settings(tmp_path, live_store="sqlite:///elsewhere.db")
    # One node keeps live state in memory: a live store beside SQLite is a mistake, said at once.
    with pytest.raises(ConfigError, match="HEARTH_STORE to redis"):
        settings(tmp_path, live_store="redis://live:6379/0").check()


def test_retention_has_a_default_env_and_flag_and_refuses_nothing_kept(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.retention_days, s.retention_sweep_seconds) == (365, 3600.0)
    s = settings(tmp_path, {"HEARTH_RETENTION_DAYS": "30"}, retention_sweep_seconds="0.5")
    assert (s.retention_days, s.retention_sweep_seconds) == (30, 0.5)
    assert settings(tmp_path, {"HEARTH_RETENTION_DAYS": "30"}, retention_days="7").retention_days == 7
    for value in ("0", "-5", "a year"):
        with pytest.raises(ConfigError, match=r"HEARTH_RETENTION_DAYS \(--retention-days\)"):
            settings(tmp_path, {"HEARTH_RETENTION_DAYS": value})
    with pytest.raises(ConfigError, match="HEARTH_RETENTION_SWEEP_SECONDS"):
        settings(tmp_path, retention_sweep_seconds="0")
