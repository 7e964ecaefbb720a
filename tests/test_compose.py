"""The deployment files (docker-compose.yml, Dockerfile, deploy/) are wired together correctly.

Docker has no engine on the development machines, so the stack itself cannot start here. These
tests read the files and check what ties them together: the services, the shared secrets, the
Redis store, the TURN URLs and secret, the proxy's upstreams and health checks, the coturn
peer restrictions, the Janus media server's private API and its secret. The coturn
configuration is also run by the real ``turnserver``, which must accept it and refuse relaying
to private and loopback peers; the Caddyfile is adapted by a real ``caddy`` when one is
installed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from server.config import Settings
from tests.conftest import stop_process

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
TURN_CONF = ROOT / "deploy" / "turnserver.conf"
JANUS_DOCKERFILE = ROOT / "deploy" / "janus.Dockerfile"
JANUS_START = ROOT / "deploy" / "janus-start.sh"
JANUS_API_PORT = 8188

APP_NODES = ("hearth1", "hearth2")
APP_PORT = 8080

DENIED_RANGES = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255",
    "192.0.2.0-192.0.2.255",
    "192.88.99.0-192.88.99.255",
    "192.168.0.0-192.168.255.255",
    "198.18.0.0-198.19.255.255",
    "198.51.100.0-198.51.100.255",
    "203.0.113.0-203.0.113.255",
    "240.0.0.0-255.255.255.255",
    "::1",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "::ffff:0.0.0.0-::ffff:255.255.255.255",
)

# Example values an operator would set (compose refuses to start without the required ones).
OPERATOR_ENV = {
    "HEARTH_SECRET": "s" * 48,
    "HEARTH_ORGANIZER_KEY": "organizer-key-for-the-compose-test",
    "TURN_SECRET": "0123456789abcdef0123456789abcdef",
    "HEARTH_DOMAIN": "hearth.example.org",
    "HEARTH_PUBLIC_URL": "https://hearth.example.org",
    "TURN_HOST": "turn.example.org",
    "HEARTH_JANUS_SECRET": "janus-secret-for-the-compose-test",
    "JANUS_PUBLIC_IP": "203.0.113.20",
}


# Reading the files


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    spec = services[name]
    assert isinstance(spec, dict)
    return spec


def environment(spec: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment, written as a mapping or as a list of KEY=VALUE."""
    env = spec.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def command(spec: Mapping[str, Any]) -> list[str]:
    cmd = spec.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, ${X?error}, $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        missing = value is None or (op is not None and op.startswith(":") and value == "")
        if missing and op in (":-", "-"):
            return arg
        if missing and op in (":?", "?"):
            raise KeyError(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    result = []
    for text in logical:
        keyword, _, rest = text.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for pair in rest.split():
                key, _, value = pair.partition("=")
                env[key] = value.strip('"')
    return env


def caddyfile_text() -> str:
    """The Caddyfile without comments."""
    return "\n".join(line.split("#", 1)[0].rstrip() for line in CADDYFILE.read_text().splitlines())


def turn_options() -> list[tuple[str, str]]:
    """The active (key, value) lines of turnserver.conf, in order."""
    options = []
    for line in TURN_CONF.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        options.append((key.strip(), value.strip()))
    return options


def expression_of(option: str, args: list[str]) -> str:
    values = [arg.split("=", 1)[1] for arg in args if arg.startswith(f"{option}=")]
    assert len(values) == 1, f"{option} must be given exactly once: {args}"
    return values[0]


# docker-compose.yml


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert {"redis", "redis-live", "hearth1", "hearth2", "proxy", "turn", "janus"} <= set(compose["services"])


def test_live_redis_keeps_nothing_on_disk(compose: dict[str, Any]) -> None:
    """Sessions (state, chat, names, presence, pub/sub) go to a Redis without persistence."""
    live = service(compose, "redis-live")
    assert str(live["image"]).startswith("redis:7")
    args = command(live)
    assert args[0] == "redis-server"
    assert args[args.index("--save") + 1] == "", "no RDB snapshots"
    assert args[args.index("--appendonly") + 1] == "no", "no append-only file"
    assert "volumes" not in live, "nothing of a session may be kept on a volume"
    assert "redis-cli" in live["healthcheck"]["test"] and "ping" in live["healthcheck"]["test"]
    assert "ports" not in live, "Redis must not be published outside the stack"
    assert set(live["networks"]) == {"backend"}
    for name in APP_NODES:
        node = service(compose, name)
        env = environment(node)
        store, sessions = urlsplit(env["HEARTH_STORE"]), urlsplit(env["HEARTH_LIVE_STORE"])
        assert (store.hostname, sessions.hostname) == ("redis", "redis-live")
        assert (sessions.scheme, sessions.port) == ("redis", 6379)
        assert node["depends_on"]["redis-live"]["condition"] == "service_healthy"
        # The node's own check stays on: it would refuse a live store that writes to disk.
        assert env.get("HEARTH_LIVE_STORE_PERSISTENCE", "refuse") == "refuse"


def test_redis_keeps_an_append_only_file_on_a_named_volume(compose: dict[str, Any]) -> None:
    redis = service(compose, "redis")
    assert str(redis["image"]).startswith("redis:7")
    args = " ".join(command(redis))
    assert "--appendonly yes" in args
    assert "--appendfsync everysec" in args
    mounts = [str(volume).split(":") for volume in redis.get("volumes", [])]
    data = [source for source, target, *_ in mounts if target == "/data"]
    assert data and data[0] in compose["volumes"], "redis /data must be a named volume"
    assert "redis-cli" in redis["healthcheck"]["test"] and "ping" in redis["healthcheck"]["test"]
    assert "ports" not in redis, "Redis must not be published outside the stack"


def test_app_nodes_share_secret_store_and_turn(compose: dict[str, Any]) -> None:
    envs = [environment(service(compose, name)) for name in APP_NODES]
    first = envs[0]
    for key in (
        "HEARTH_SECRET",
        "HEARTH_ORGANIZER_KEY",
        "HEARTH_STORE",
        "HEARTH_LIVE_STORE",
        "HEARTH_PUBLIC_URL",
        "HEARTH_TURN_URLS",
        "HEARTH_TURN_SECRET",
        "HEARTH_ICE_POLICY",
        "HEARTH_JANUS_URLS",
        "HEARTH_JANUS_SECRET",
    ):
        assert first.get(key), f"hearth1 lacks {key}"
        assert all(env.get(key) == first[key] for env in envs), f"the app nodes differ in {key}"

    # Secrets come from the operator, and compose refuses to start without them.
    assert first["HEARTH_SECRET"].startswith("${HEARTH_SECRET:?")
    assert first["HEARTH_ORGANIZER_KEY"].startswith("${HEARTH_ORGANIZER_KEY:?")
    assert first["HEARTH_TURN_SECRET"].startswith("${TURN_SECRET:?")
    assert first["HEARTH_JANUS_SECRET"].startswith("${HEARTH_JANUS_SECRET:?")
    for required in ("HEARTH_SECRET", "HEARTH_ORGANIZER_KEY", "TURN_SECRET", "HEARTH_JANUS_SECRET"):
        env = {k: v for k, v in OPERATOR_ENV.items() if k != required}
        key = "HEARTH_TURN_SECRET" if required == "TURN_SECRET" else required
        with pytest.raises(KeyError, match=required):
            interpolate(first[key], env)

    store = urlsplit(first["HEARTH_STORE"])
    assert (store.scheme, store.hostname, store.port) == ("redis", "redis", 6379)
    assert store.hostname in compose["services"]

    urls = [url.strip() for url in interpolate(first["HEARTH_TURN_URLS"], OPERATOR_ENV).split(",")]
    assert urls == [
        "turn:turn.example.org:3478?transport=udp",
        "turn:turn.example.org:3478?transport=tcp",
    ]
    assert interpolate(first["HEARTH_ICE_POLICY"], {}) == "relay"
    assert interpolate(first["HEARTH_PUBLIC_URL"], {}) == "https://localhost"


def test_app_nodes_are_built_here_wait_for_redis_and_stay_inside(compose: dict[str, Any]) -> None:
    for name in APP_NODES:
        node = service(compose, name)
        build = node["build"]
        assert (build if isinstance(build, str) else build.get("context")) == "."
        assert node["depends_on"]["redis"]["condition"] == "service_healthy"
        health = " ".join(node["healthcheck"]["test"])
        assert f"127.0.0.1:{APP_PORT}/readyz" in health and "urllib" in health
        # Only the proxy reaches the nodes: that is what makes trusting its X-Forwarded-* safe.
        assert "ports" not in node, f"{name} must not publish ports: the proxy is the way in"
        networks = set(node["networks"])
        assert networks & set(service(compose, "proxy")["networks"]), f"the proxy cannot reach {name}"
        assert networks & set(service(compose, "redis")["networks"]), f"{name} cannot reach Redis"


def test_compose_settings_are_accepted_by_hearth(compose: dict[str, Any]) -> None:
    """The image's ENV plus a node's compose environment, as the operator's values fill it in,
    pass Hearth's own configuration checks for a server listening off loopback."""
    cmd = next(json.loads(rest) for keyword, rest in dockerfile_instructions() if keyword == "CMD")
    flags = dict(zip(cmd[2::2], cmd[3::2], strict=True))
    env = dockerfile_env()
    env.update({k: interpolate(v, OPERATOR_ENV) for k, v in environment(service(compose, "hearth1")).items()})
    settings = Settings.from_env(env, host=flags["--host"], port=flags["--port"])
    settings.check()
    assert (settings.host, settings.port) == ("0.0.0.0", APP_PORT)
    assert settings.store_kind() == "redis"
    assert settings.ice_policy == "relay"
    assert settings.public_url == "https://hearth.example.org"
    assert settings.turn_secret == OPERATOR_ENV["TURN_SECRET"]
    assert settings.secret == OPERATOR_ENV["HEARTH_SECRET"]
    assert str(settings.data_dir) == "/data"


class _Readiness(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/readyz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def readiness_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Readiness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_app_healthcheck_passes_only_when_ready(
    compose: dict[str, Any], readiness_server: ThreadingHTTPServer
) -> None:
    test = service(compose, "hearth1")["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    port = readiness_server.server_address[1]
    code = test[3].replace(f"127.0.0.1:{APP_PORT}", f"127.0.0.1:{port}")
    for status, expected in ((200, 0), (503, 1)):
        readiness_server.RequestHandlerClass.status = status  # type: ignore[attr-defined]
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
        assert (result.returncode != 0) == bool(expected), (status, result.stderr)


def test_proxy_publishes_the_web_ports_and_mounts_the_caddyfile(compose: dict[str, Any]) -> None:
    proxy = service(compose, "proxy")
    assert str(proxy["image"]).startswith("caddy:2")
    published = {str(port).split(":")[0] for port in proxy["ports"]}
    assert {"80", "443"} <= published
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert any(str(volume).endswith(":/data") for volume in proxy["volumes"]), "keep Caddy's certificates"
    assert "HEARTH_DOMAIN" in environment(proxy)


def test_coturn_gets_the_config_and_the_same_secret_as_hearth(compose: dict[str, Any]) -> None:
    turn = service(compose, "turn")
    assert str(turn["image"]).startswith("coturn/coturn")
    assert turn["network_mode"] == "host"
    assert "./deploy/turnserver.conf:/etc/coturn/turnserver.conf:ro" in turn["volumes"]
    args = command(turn)
    assert args[args.index("-c") + 1] == "/etc/coturn/turnserver.conf"
    secret = expression_of("--static-auth-secret", args)
    for name in APP_NODES:
        assert environment(service(compose, name))["HEARTH_TURN_SECRET"] == secret
    assert interpolate(secret, OPERATOR_ENV) == OPERATOR_ENV["TURN_SECRET"]
    # The entrypoint of the coturn image passes its arguments through the shell.
    assert re.fullmatch(r"\w+", interpolate(secret, OPERATOR_ENV))


def janus_start_args() -> list[str]:
    """The arguments deploy/janus-start.sh gives `hearth janus-config` (its continued line)."""
    text = JANUS_START.read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.strip().startswith("hearth janus-config"))
    return shlex.split(line)[2:]


def test_janus_api_stays_on_the_internal_network(compose: dict[str, Any]) -> None:
    janus = service(compose, "janus")
    env = environment(janus)
    published = [str(port) for port in janus.get("ports", [])]
    assert published, "Janus's media ports must be published"
    for port in published:
        assert port.endswith("/udp"), f"only media (UDP) is published, not {port}"
        assert str(JANUS_API_PORT) not in port.split("/")[0].split("-")
    assert "network_mode" not in janus
    networks = janus["networks"]
    backend = compose["networks"]["backend"]
    assert backend["internal"] is True
    # The API listens on Janus's fixed address on the internal network, and nowhere else.
    api_ip = networks["backend"]["ipv4_address"]
    assert env["JANUS_API_IP"] == api_ip
    subnet = ipaddress.ip_network(backend["ipam"]["config"][0]["subnet"])
    assert ipaddress.ip_address(api_ip) in subnet
    args = janus_start_args()
    assert args[args.index("--ws-host") + 1] == "$JANUS_API_IP"
    assert args[args.index("--ws-port") + 1] == str(JANUS_API_PORT)
    for name in APP_NODES:
        node = service(compose, name)
        assert "backend" in node["networks"], f"{name} cannot reach Janus's API"
        urls = environment(node)["HEARTH_JANUS_URLS"].split(",")
        assert [urlsplit(url) for url in urls] == [urlsplit(f"ws://janus:{JANUS_API_PORT}")]
    # The media network (ICE gathers only there) holds Janus alone, and is not the internal one.
    media = networks["media"]["ipv4_address"]
    assert media.startswith(env["JANUS_MEDIA_NET"])
    assert args[args.index("--ice-enforce-list") + 1] == "$JANUS_MEDIA_NET"
    assert not compose["networks"]["media"].get("internal")
    others = [name for name, spec in compose["services"].items() if name != "janus"]
    assert not any("media" in (service(compose, name).get("networks") or []) for name in others)


def test_janus_publishes_its_rtp_range_one_to_one(compose: dict[str, Any]) -> None:
    janus = service(compose, "janus")
    rtp = environment(janus)["JANUS_RTP_PORTS"]
    assert [str(port) for port in janus["ports"]] == [f"{rtp}:{rtp}/udp"]
    low, high = (int(part) for part in rtp.split("-"))
    assert 1024 <= low < high <= 65535
    args = janus_start_args()
    assert args[args.index("--rtp-ports") + 1] == "$JANUS_RTP_PORTS"
    assert args[args.index("--public-ip") + 1] == "$JANUS_PUBLIC_IP"


def test_janus_secret_comes_from_the_environment(compose: dict[str, Any]) -> None:
    janus = environment(service(compose, "janus"))
    secret = janus["HEARTH_JANUS_SECRET"]
    assert secret.startswith("${HEARTH_JANUS_SECRET:?"), "the secret is never written in the file"
    for name in APP_NODES:
        assert environment(service(compose, name))["HEARTH_JANUS_SECRET"] == secret
    assert interpolate(secret, OPERATOR_ENV) == OPERATOR_ENV["HEARTH_JANUS_SECRET"]
    with pytest.raises(KeyError, match="HEARTH_JANUS_SECRET"):
        interpolate(secret, {k: v for k, v in OPERATOR_ENV.items() if k != "HEARTH_JANUS_SECRET"})
    with pytest.raises(KeyError, match="JANUS_PUBLIC_IP"):
        interpolate(janus["JANUS_PUBLIC_IP"], {})
    # Not on a command line either (visible in `ps`): janus-config reads it from the environment.
    assert "secret" not in " ".join(janus_start_args()).lower()
    assert "SECRET" not in json.dumps(service(compose, "janus").get("command", ""))


def test_janus_start_script_generates_the_config_janus_runs(
    compose: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start script's `hearth janus-config` line, with the compose values, writes a config
    with the API on the internal address, the admin API off and the operator's secret; Janus is
    then started with that folder (never /etc/janus)."""
    from server.cli import main

    env = {k: interpolate(v, OPERATOR_ENV) for k, v in environment(service(compose, "janus")).items()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = [os.path.expandvars(arg) for arg in janus_start_args()]
    folder = tmp_path / "config"
    assert args[0] == "/run/janus/config"
    assert main(["janus-config", str(folder), *args[1:]]) == 0
    core = (folder / "janus.jcfg").read_text()
    ws = (folder / "janus.transport.websockets.jcfg").read_text()
    assert f'api_secret = "{OPERATOR_ENV["HEARTH_JANUS_SECRET"]}"' in core
    assert f'nat_1_1_mapping = "{OPERATOR_ENV["JANUS_PUBLIC_IP"]}"' in core
    assert f'ws_ip = "{env["JANUS_API_IP"]}"' in ws and "admin_ws = false" in ws
    assert "exec janus -F /run/janus/config" in JANUS_START.read_text()
    dockerfile = JANUS_DOCKERFILE.read_text()
    assert "apt-get install -y --no-install-recommends janus" in dockerfile
    assert "/etc/janus" in dockerfile.split("rm -rf", 1)[1].split("\n", 1)[0], "the stock config is removed"
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for marker in ("index-url", "PIP_INDEX", "PIP_EXTRA_INDEX", "--find-links", "--trusted-host"):
        assert marker.lower() not in dockerfile.lower()
    assert service(compose, "janus")["build"]["dockerfile"] == "deploy/janus.Dockerfile"


# Dockerfile


def test_dockerfile_builds_a_non_root_image_of_the_package() -> None:
    instructions = dockerfile_instructions()
    text = DOCKERFILE.read_text()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert re.search(r"pip install -c constraints\.txt \.(\s|$)", runs), "pip install . (pinned, no extras)"
    assert "[test]" not in text
    for marker in ("index-url", "PIP_INDEX", "PIP_EXTRA_INDEX", "--find-links", "--trusted-host"):
        assert marker.lower() not in text.lower()
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert ("EXPOSE", str(APP_PORT)) in instructions
    cmd = [json.loads(rest) for keyword, rest in instructions if keyword == "CMD"]
    assert cmd == [["hearth", "serve", "--host", "0.0.0.0", "--port", str(APP_PORT)]]
    assert dockerfile_env()["HEARTH_DATA_DIR"] == "/data"
    assert any(keyword == "VOLUME" and "/data" in rest for keyword, rest in instructions)
    # Every top-level package of pyproject.toml is copied into the build.
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = setuptools["packages"]["find"]["include"]
    copied = {word for keyword, rest in instructions if keyword == "COPY" for word in rest.split()[:-1]}
    assert {package.split(".")[0] for package in packages} | {"pyproject.toml", "constraints.txt"} <= copied


# deploy/Caddyfile


def test_caddyfile_balances_both_nodes_with_health_checks(compose: dict[str, Any]) -> None:
    text = caddyfile_text()
    assert re.search(r"^\{\$HEARTH_DOMAIN:localhost\} \{", text, re.M)
    upstreams = re.findall(r"^\s*reverse_proxy\s+(.+?)\s*\{", text, re.M)
    assert len(upstreams) == 1
    assert set(upstreams[0].split()) == {f"{name}:{APP_PORT}" for name in APP_NODES}
    assert set(APP_NODES) <= set(compose["services"])
    directives = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2:
            directives.setdefault(words[0], " ".join(words[1:]))
    assert directives["health_uri"] == "/readyz"
    assert directives["health_interval"] == "5s"
    assert directives["lb_policy"] in ("least_conn", "round_robin")
    assert directives["fail_duration"]
    assert directives["flush_interval"] == "-1"
    assert directives["stream_timeout"] and directives["stream_close_delay"]


def test_caddyfile_hides_metrics() -> None:
    text = caddyfile_text()
    matcher = re.search(r"^\s*@(\w+)\s+path\s+(.+)$", text, re.M)
    assert matcher and "/metrics" in matcher[2].split()
    block = re.search(rf"handle @{matcher[1]}\s*\{{\s*respond 404\s*\}}", text)
    assert block, "/metrics must be answered 404 by the proxy, before reverse_proxy"
    assert text.index(block[0]) < text.index("reverse_proxy")


def _caddy() -> str | None:
    return shutil.which("caddy")


def test_caddyfile_is_accepted_by_caddy(tmp_path: Path) -> None:
    """Adapted by a real caddy when one is installed (the image runs Caddy 2's latest release)."""
    caddy = _caddy()
    if caddy is None:
        pytest.fail("no caddy to check deploy/Caddyfile with: scripts/test installs it (apt caddy)")
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    env = {**os.environ, **home, "HEARTH_DOMAIN": "hearth.example.org"}
    version = subprocess.run([caddy, "version"], capture_output=True, text=True, timeout=30, check=True)
    found = re.match(r"v?(\d+)\.(\d+)", version.stdout.strip())
    assert found, version.stdout
    config = CADDYFILE.read_text()
    old = (int(found[1]), int(found[2])) < (2, 7)
    if old:  # stream_timeout and stream_close_delay arrived in Caddy 2.7 (Debian 12 ships 2.6)
        config = re.sub(r"^\s*stream_(timeout|close_delay) .*$", "", config, flags=re.M)
    path = tmp_path / "Caddyfile"
    path.write_text(config)
    result = subprocess.run(
        [caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    adapted = json.loads(result.stdout)
    server = next(iter(adapted["apps"]["http"]["servers"].values()))
    assert server["routes"][0]["match"][0]["host"] == ["hearth.example.org"]
    handlers = json.dumps(server["routes"])
    assert '"uri": "/readyz"' in handlers
    assert f'"dial": "hearth1:{APP_PORT}"' in handlers and f'"dial": "hearth2:{APP_PORT}"' in handlers
    assert '"status_code": 404' in handlers
    if not old:
        assert '"stream_close_delay"' in handlers and '"stream_timeout"' in handlers


# deploy/turnserver.conf


def test_turnserver_conf_is_production_safe() -> None:
    options = turn_options()
    keys = [key for key, _ in options]
    values = dict(options)
    assert "allow-loopback-peers" not in TURN_CONF.read_text()
    assert "static-auth-secret" not in keys, "the secret comes from TURN_SECRET on the command line"
    for flag in (
        "use-auth-secret",
        "fingerprint",
        "no-cli",
        "no-multicast-peers",
        "no-tlsv1",
        "no-tlsv1_1",
    ):
        assert flag in keys, flag
    assert values["realm"]
    assert values["listening-port"] == "3478"
    assert values["tls-listening-port"] == "5349"
    assert (values["min-port"], values["max-port"]) == ("49152", "65535")
    assert int(values["total-quota"]) > 0
    assert int(values["stale-nonce"]) > 0
    assert "allowed-peer-ip" not in keys, "an allowed-peer-ip would punch through the denied ranges"


def _denied() -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]]:
    ranges = []
    for key, value in turn_options():
        if key == "denied-peer-ip":
            ends = [ipaddress.ip_address(part) for part in value.split("-")]
            ranges.append((ends[0], ends[-1]))
    return ranges


def _is_denied(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(type(low) is type(ip) and low <= ip <= high for low, high in _denied())  # type: ignore[operator]


@pytest.mark.parametrize("denied", DENIED_RANGES)
def test_turnserver_conf_denies_each_special_range(denied: str) -> None:
    values = [value for key, value in turn_options() if key == "denied-peer-ip"]
    assert denied in values


@pytest.mark.parametrize(
    ("address", "denied"),
    [
        ("10.1.2.3", True),
        ("127.0.0.1", True),
        ("169.254.169.254", True),  # cloud metadata services
        ("172.20.0.2", True),  # Docker's bridge networks
        ("192.168.1.1", True),
        ("100.100.100.100", True),
        ("0.0.0.0", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("fe80::1", True),
        ("fd12:3456::1", True),
        ("::ffff:10.0.0.1", True),
        ("::ffff:8.8.8.8", True),
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_turnserver_conf_denies_private_peers_only(address: str, denied: bool) -> None:
    assert _is_denied(address) is denied


# The real turnserver with deploy/turnserver.conf


def _free_port(host: str = "127.0.0.1") -> int:
    """A port free for both TCP and UDP on ``host`` (coturn listens on both)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def _turnserver() -> str:
    path = shutil.which("turnserver")
    if path is None:
        pytest.fail("turnserver is missing: scripts/test installs it (apt-get install coturn)")
    return path


def _log_text(directory: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in sorted(directory.glob("*.log*")))


@contextlib.contextmanager
def running_coturn(directory: Path, host: str, *extra: str) -> Iterator[tuple[int, str]]:
    """turnserver with deploy/turnserver.conf, narrowed to one loopback address: (port, secret).

    Only the addresses, the port and the files are overridden; every other setting is the file's.
    """
    binary = _turnserver()
    port = _free_port(host)
    secret = "compose-test-secret"
    args = [
        binary,
        "-c",
        str(TURN_CONF),
        f"--static-auth-secret={secret}",
        f"--listening-ip={host}",
        f"--relay-ip={host}",
        f"--listening-port={port}",
        "--no-stdout-log",
        f"--log-file={directory / 'turn.log'}",
        f"--pidfile={directory / 'turn.pid'}",
        f"--userdb={directory / 'turndb'}",
        *extra,
    ]
    with (directory / "stdout").open("w") as out, (directory / "stderr").open("w") as err:
        process = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "Total General servers" not in _log_text(directory) and process.poll() is None:
            assert time.monotonic() < deadline, "turnserver did not finish starting within 10 s"
            time.sleep(0.05)
        time.sleep(1.0)
        assert process.poll() is None, f"turnserver exited: {_log_text(directory)[-2000:]}"
        yield port, secret
    finally:
        stop_process(process, 5)


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """turnserver with deploy/turnserver.conf on 127.0.0.1: (port, secret, log directory)."""
    with running_coturn(tmp_path, "127.0.0.1") as (port, secret):
        yield port, secret, tmp_path


def test_turnserver_accepts_the_config(coturn: tuple[int, str, Path]) -> None:
    _, _, directory = coturn
    log = _log_text(directory)
    assert "ERROR" not in log, log
    assert "CONFIG ERROR" not in log
    assert "Default realm: " in log
    # coturn lists each denied range it understood.
    for denied in DENIED_RANGES:
        assert f"Black listing: {denied}\n" in log, denied
    # coturn ignores unknown options in its config file silently: each one must be a real option.
    help_text = subprocess.run([_turnserver(), "-h"], capture_output=True, text=True, timeout=30, check=False)
    known = set(re.findall(r"--([a-z0-9_-]+)", help_text.stdout + help_text.stderr))
    unknown = {key for key, _ in turn_options()} - known
    assert not unknown, f"turnserver does not know {sorted(unknown)}"


def _credentials(secret: str) -> tuple[str, str]:
    """TURN REST credentials, as Hearth hands them out."""
    username = f"{int(time.time()) + 600}:compose-test"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


async def _permission_errors(host: str, port: int, secret: str, peers: list[str]) -> dict[str, int | None]:
    """Allocate a relay, then ask for a permission to each peer: its error code, or None."""
    from aioice import stun, turn

    username, password = _credentials(secret)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: turn.TurnClientUdpProtocol(
            (host, port), username=username, password=password, lifetime=60, channel_refresh_time=60
        ),
        remote_addr=(host, port),
    )
    results: dict[str, int | None] = {}
    try:
        await protocol.connect()
        for peer in peers:
            request = stun.Message(
                message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST
            )
            request.attributes["XOR-PEER-ADDRESS"] = (peer, 9)
            try:
                await protocol.request_with_retry(request)
                results[peer] = None
            except stun.TransactionFailed as exc:
                results[peer] = exc.response.error_code
        with contextlib.suppress(Exception):
            await protocol.delete()
    finally:
        transport.close()
    return results


async def test_turnserver_refuses_private_and_loopback_peers(coturn: tuple[int, str, Path]) -> None:
    port, secret, _ = coturn
    denied = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "172.17.0.1", "192.168.1.1", "100.64.0.1"]
    denied += [part for item in DENIED_RANGES if ":" not in item for part in item.split("-")]
    public = ["8.8.8.8", "93.184.216.34"]
    peers = [*denied, *public]
    results = await asyncio.wait_for(_permission_errors("127.0.0.1", port, secret, peers), timeout=20)
    assert {peer: results[peer] for peer in denied} == dict.fromkeys(denied, 403)
    assert {peer: results[peer] for peer in public} == dict.fromkeys(public, None)


async def test_turnserver_refuses_private_and_loopback_ipv6_peers(tmp_path: Path) -> None:
    # An IPv6 relay (allocations follow the client's address family) to check the IPv6 ranges.
    try:
        _free_port("::1")
    except OSError:
        pytest.fail("this machine has no IPv6 loopback (::1), needed to check coturn's IPv6 peer rules")
    with running_coturn(tmp_path, "::1", "--allocation-default-address-family=keep") as (port, secret):
        denied = ["::1", "fe80::1", "fd00::1", "fc00::1", "::ffff:10.0.0.1", "::ffff:8.8.8.8"]
        denied += [part for item in DENIED_RANGES if ":" in item for part in item.split("-")]
        public = ["2606:4700:4700::1111", "2a00:1450:4001::1"]
        peers = [*denied, *public]
        results = await asyncio.wait_for(_permission_errors("::1", port, secret, peers), timeout=20)
    assert {peer: results[peer] for peer in denied} == dict.fromkeys(denied, 403)
    assert {peer: results[peer] for peer in public} == dict.fromkeys(public, None)
