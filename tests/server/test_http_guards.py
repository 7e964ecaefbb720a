"""What the HTTP side refuses and always adds, against a real server: forged ``Host`` headers,
cross-site or non-JSON state changes, who may read ``/metrics``, and the security headers (HSTS,
a ``connect-src`` limited to this server's websockets) on every response, 500s included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from server.config import ConfigError, Settings
from server.health import metrics_refusal
from tests.server.conftest import SECRET, TIMEOUT, Running, StartServer

PUBLIC = "https://groups.example.org"
ALLOWED = "https://app.example.net"
KEY = "organizer-key-for-guard-tests"


async def room_count(server: Running) -> int:
    return len(await server.node.service.directory.all())


# Page asset URLs and the Host header


async def test_page_asset_urls_are_relative_whatever_the_host(start_server: StartServer) -> None:
    server = await start_server(public_url=PUBLIC, organizer_key=KEY)
    room = await server.create_room()
    async with server.http() as http:
        for path in ("/", f"/r/{room.id}", "/r/no-such-room"):
            for host in (PUBLIC.removeprefix("https://"), f"127.0.0.1:{server.port}"):
                page = await http.get(path, headers={"host": host})
                assets = re.findall(r'(?:src|href)="([^"#]*)"', page.text)
                assert assets and any(url.startswith("/static/") for url in assets), assets
                assert not [url for url in assets if "//" in url], (path, host, assets)


@pytest.mark.parametrize("path", ["/", "/r/anything", "/static/css/hearth.css", "/api/rooms"])
async def test_a_forged_host_gets_400(start_server: StartServer, path: str) -> None:
    server = await start_server(public_url=PUBLIC, organizer_key=KEY)
    async with server.http() as http:
        for host in (
            "evil.example",
            "evil.example:80",
            f"{PUBLIC.removeprefix('https://')}.evil.example",
            "",
            "groups.example.org:bad",
        ):
            response = await http.get(path, headers={"host": host})
            assert response.status_code == 400, (host, response.status_code)
            assert response.json()["error"]["code"] == "bad_host"
            assert "content-security-policy" in response.headers


async def test_the_public_loopback_and_allowed_hosts_are_answered(start_server: StartServer) -> None:
    server = await start_server(public_url=PUBLIC, organizer_key=KEY, allowed_origins=ALLOWED)
    port = server.port
    async with server.http() as http:
        for host in (
            "groups.example.org",
            "GROUPS.example.org.",
            "groups.example.org:443",
            "app.example.net",
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"[::1]:{port}",
            "127.0.0.2",
        ):
            response = await http.get("/", headers={"host": host})
            assert response.status_code == 200, (host, response.status_code)
        assert (await http.get("/", headers={"host": "other.example.org"})).status_code == 400


async def test_health_and_metrics_answer_any_host(server: Running) -> None:
    """Proxies' health checks and Prometheus ask by the node's internal name (hearth1:8080)."""
    async with server.http() as http:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await http.get(path, headers={"host": "hearth1:8080"})).status_code == 200, path
        assert (await http.get("/", headers={"host": "hearth1:8080"})).status_code == 400  # pages do check


async def test_a_websocket_with_a_forged_host_is_refused(start_server: StartServer) -> None:
    server = await start_server(public_url=PUBLIC, organizer_key=KEY)
    options: dict[str, Any] = {
        "proxy": None,
        "compression": None,
        "open_timeout": TIMEOUT,
        "host": "127.0.0.1",
        "port": server.port,
    }
    with pytest.raises(InvalidStatus) as refused:
        # DNS rebinding: the attacker's name resolves to this machine, and its page is "same-origin".
        await connect("ws://rebind.evil.example/ws", origin=Origin("http://rebind.evil.example"), **options)
    assert refused.value.response.status_code == 403
    ws = await connect("ws://groups.example.org/ws", origin=Origin(PUBLIC), **options)
    await ws.close()


# State-changing requests: JSON only, from this server's own pages only


async def test_a_cross_origin_text_plain_post_creates_nothing(server: Running) -> None:
    before = await room_count(server)
    async with server.http() as http:
        # What a form or a no-cors fetch on any web page can send to a loopback server.
        plain = await http.post(
            "/api/rooms",
            content='{"title": "Planted"}',
            headers={"content-type": "text/plain", "origin": "https://evil.example"},
        )
        form = await http.post(
            "/api/rooms",
            content="title=Planted",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        untyped = await http.post("/api/rooms", content='{"title": "Planted"}')
        evil_json = await http.post(
            "/api/rooms", json={"title": "Planted"}, headers={"origin": "https://evil.example"}
        )
        null_origin = await http.post("/api/rooms", json={"title": "Planted"}, headers={"origin": "null"})
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "forbidden_origin"
    for response in (form, untyped):
        assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    for response in (evil_json, null_origin):
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden_origin"
    assert await room_count(server) == before


async def test_own_public_and_allowed_origins_may_post_json(start_server: StartServer) -> None:
    server = await start_server(public_url=PUBLIC, organizer_key=KEY, allowed_origins=ALLOWED)
    key = {"authorization": f"Bearer {KEY}"}
    async with server.http() as http:
        for origin in (f"http://127.0.0.1:{server.port}", PUBLIC, ALLOWED, None):
            headers = key if origin is None else {**key, "origin": origin}
            response = await http.post("/api/rooms", json={"title": "Fine"}, headers=headers)
            assert response.status_code == 201, (origin, response.text)
        typed = {**key, "content-type": "application/json; charset=utf-8"}
        assert (await http.post("/api/rooms", content='{"title": "Fine"}', headers=typed)).status_code == 201
        other = {**key, "origin": "https://app.example.net.evil.example"}
        assert (await http.post("/api/rooms", json={"title": "No"}, headers=other)).status_code == 403


async def test_patch_rotate_and_check_routes_are_guarded_too(server: Running) -> None:
    room = await server.create_room()
    facilitator = {"authorization": f"Bearer {room.facilitator}"}
    evil = {"origin": "https://evil.example"}
    async with server.http() as http:
        url = f"/api/rooms/{room.id}"
        plain = {**facilitator, "content-type": "text/plain"}
        assert (await http.patch(url, content='{"title": "Hijacked"}', headers=plain)).status_code == 415
        cross_site = await http.patch(url, json={"title": "Hijacked"}, headers={**facilitator, **evil})
        assert cross_site.status_code == 403
        rotate = f"/api/rooms/{room.id}/invite"
        assert (await http.post(rotate, headers={**facilitator, **evil})).status_code == 403
        check = await http.post("/api/check/config", json={"token": room.member}, headers=evil)
        assert check.status_code == 403
        check = await http.post("/api/check/config", content=f'{{"token": "{room.member}"}}')
        assert check.status_code == 415
        ended = await http.request("DELETE", "/api/check/nope", json={"token": room.member}, headers=evil)
        assert ended.status_code == 403
        page = await http.get(f"/r/{room.id}")
        # A body-less POST needs no content type (the page's own rotate button sends none).
        assert (await http.post(rotate, headers=facilitator)).status_code == 200
    assert "Hijacked" not in page.text


def test_a_public_url_off_loopback_needs_an_organizer_key(tmp_path: Path) -> None:
    def settings(**values: object) -> Settings:
        return Settings.from_env({}, data_dir=tmp_path, secret=SECRET, **values)

    # Listening on loopback behind a proxy on the same machine: reachable from anywhere.
    with pytest.raises(ConfigError, match="HEARTH_ORGANIZER_KEY"):
        settings(host="127.0.0.1", public_url=PUBLIC).check()
    with pytest.raises(ConfigError, match="HEARTH_ORGANIZER_KEY"):
        settings(host="127.0.0.1", public_url="http://192.168.1.20:8080").check()
    settings(host="127.0.0.1", public_url=PUBLIC, organizer_key=KEY).check()
    for local in (
        "http://localhost:8080",
        "http://127.0.0.1:9000",
        "http://[::1]:8080",
        "http://hearth.localhost",
    ):
        settings(host="127.0.0.1", public_url=local).check()
    settings(host="127.0.0.1").check()


# /metrics


async def test_metrics_need_the_key_when_one_is_set(start_server: StartServer) -> None:
    server = await start_server(metrics_key="metrics-key-for-tests")
    async with server.http() as http:
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"authorization": "Bearer metrics-key-for-tests"})
    assert missing.status_code == 401 and wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200 and "hearth_connections" in right.text


async def test_metrics_without_a_key_are_for_this_machine_only(server: Running) -> None:
    async with server.http() as http:
        assert (await http.get("/metrics")).status_code == 200
        # Through a proxy on this machine the client is loopback, but the proxy says for whom.
        for header in ("x-forwarded-for", "forwarded", "x-real-ip"):
            proxied = await http.get("/metrics", headers={header: "203.0.113.9"})
            assert proxied.status_code == 403, header
            assert "hearth_connections" not in proxied.text


def test_metrics_refuse_a_remote_client_without_a_key(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path, secret=SECRET)
    no_headers = Headers(headers={})
    for remote in ("10.0.0.5", "203.0.113.9", "2001:db8::1", None):
        refusal = metrics_refusal(settings, remote, no_headers)
        assert refusal is not None and refusal.status_code == 403, remote
    for local in ("127.0.0.1", "::1"):
        assert metrics_refusal(settings, local, no_headers) is None, local


# Security headers


async def test_hsts_and_connect_src_follow_the_public_url(start_server: StartServer) -> None:
    public = await start_server(public_url=PUBLIC, organizer_key=KEY, allowed_origins=ALLOWED)
    local = await start_server()
    async with public.http() as http:
        secure = await http.get("/", headers={"host": "groups.example.org"})
    async with local.http() as http:
        plain = await http.get("/")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in plain.headers  # no HSTS for a plain-http node
    for response, sockets in (
        (secure, {"wss://groups.example.org", "wss://app.example.net"}),
        (plain, {"ws://" + local.settings.public_url.removeprefix("http://")}),
    ):
        csp = response.headers["content-security-policy"]
        connect_src = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
        assert set(connect_src) == {"'self'", *sockets}, connect_src  # no bare ws: / wss: (any host)


async def test_a_500_carries_the_security_headers(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(room_id: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(server.node.service, "config", broken)
    monkeypatch.setattr(server.node.service, "current_config", broken)  # what the room page reads
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=TIMEOUT) as http:
        response = await http.get("/r/some-room")
    assert response.status_code == 500
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"):
        assert header in response.headers, header


async def test_room_bodies_are_bounded_in_size(start_server: StartServer) -> None:
    """The rooms API read any body whole into memory before parsing it."""
    server = await start_server(max_message_bytes=4096)
    before = await room_count(server)
    room = await server.create_room()
    huge = b'{"title": "Big", "topic": "' + b"x" * 100_000 + b'"}'
    facilitator = {"authorization": f"Bearer {room.facilitator}", "content-type": "application/json"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: streamed, cut off at the limit
        for start in range(0, len(huge), 8192):
            yield huge[start : start + 8192]

    json_type = {"content-type": "application/json"}
    async with server.http() as http:
        declared = await http.post("/api/rooms", content=huge, headers=json_type)
        streamed = await http.post("/api/rooms", content=chunks(), headers=json_type)
        patched = await http.patch(f"/api/rooms/{room.id}", content=huge, headers=facilitator)
    for response in (declared, streamed, patched):
        assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert await room_count(server) == before + 1
