"""Static files and pages against a real server: compressed, versioned URLs cached for a year,
revalidation with ETags, and nothing served but the page's own files."""

from __future__ import annotations

import gzip
import re
from dataclasses import replace

from server.static_files import StaticFiles, accepts_gzip, load, version_of
from tests.server.conftest import StartServer


def page_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


async def test_pages_link_versioned_assets_cached_for_a_year(start_server: StartServer) -> None:
    server = await start_server()
    room = await server.create_room()
    async with server.http() as http:
        for path in ("/", f"/r/{room.id}"):
            assets = page_assets((await http.get(path)).text)
            assert assets and all(a.startswith("/static/v/") for a in assets), assets
            for asset in assets:
                answer = await http.get(asset)
                assert answer.status_code == 200, asset
                assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
                assert answer.headers["etag"].startswith('"')


async def test_modules_import_each_other_under_the_same_version(start_server: StartServer) -> None:
    """A module loaded from a versioned URL loads its imports (relative paths) from that version."""
    server = await start_server()
    room = await server.create_room()
    async with server.http() as http:
        main = next(a for a in page_assets((await http.get(f"/r/{room.id}")).text) if a.endswith("main.js"))
        base = main.rsplit("/", 1)[0]
        for name in re.findall(r'from "\./([\w/.-]+\.js)"', (await http.get(main)).text):
            answer = await http.get(f"{base}/{name}")
            assert answer.status_code == 200, name
            assert "immutable" in answer.headers["cache-control"]


async def test_text_is_sent_gzipped_to_those_who_accept_it(start_server: StartServer) -> None:
    server = await start_server()
    async with server.http() as http:
        plain = await http.get("/static/js/protocol.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        raw = b""
        async with http.stream(
            "GET", "/static/js/protocol.js", headers={"accept-encoding": "gzip"}
        ) as answer:
            assert answer.headers["content-encoding"] == "gzip"
            assert answer.headers["vary"] == "Accept-Encoding"
            async for chunk in answer.aiter_raw():
                raw += chunk
        assert len(raw) < len(plain.content) / 2
        assert gzip.decompress(raw) == plain.content
        page = await http.get("/", headers={"accept-encoding": "gzip"})
        assert page.headers.get("content-encoding") == "gzip"


async def test_the_api_is_never_compressed(start_server: StartServer) -> None:
    """API answers carry link tokens: no compression side channel (BREACH)."""
    server = await start_server()
    async with server.http() as http:
        request = {"title": "Tuesday group", "agreement": "We listen. " * 300}
        answer = await http.post("/api/rooms", json=request, headers={"accept-encoding": "gzip"})
        assert answer.status_code == 201 and len(answer.content) > 3000
        assert "content-encoding" not in answer.headers


async def test_unversioned_and_stale_urls_revalidate_with_the_etag(start_server: StartServer) -> None:
    server = await start_server()
    async with server.http() as http:
        for url in ("/static/css/hearth.css", "/static/v/000000000000/css/hearth.css"):
            first = await http.get(url)
            assert first.status_code == 200
            assert first.headers["cache-control"] == "no-cache", url
            again = await http.get(url, headers={"if-none-match": first.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            changed = await http.get(url, headers={"if-none-match": '"something-else"'})
            assert changed.status_code == 200 and changed.content == first.content


async def test_only_the_pages_files_are_served(start_server: StartServer) -> None:
    server = await start_server()
    async with server.http() as http:
        for url in ("/static/__init__.py", "/static/js/nothing.js", "/static/../server/config.py"):
            assert (await http.get(url)).status_code == 404, url
        head = await http.head("/static/js/protocol.js")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 1000


def test_the_version_changes_with_any_file() -> None:
    loaded = load()
    assert StaticFiles(loaded).url("js/main.js") == f"/static/v/{version_of(loaded)}/js/main.js"
    changed = {**loaded, "css/hearth.css": replace(loaded["css/hearth.css"], etag='"changed"')}
    assert version_of(changed) != version_of(loaded)


def test_accept_encoding() -> None:
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")
