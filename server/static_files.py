"""The page's static files (``static/``), served from memory: compressed once, cached for a year.

The folder is small (≈ 280 KiB in 35 files) and changes only with a release, so every file is
read once at start, with its digest and, for text, its gzip form (level 9, kept where it saves at
least a tenth). A request then costs a dict lookup and no disk or CPU.

- **Versioned URLs, cached for good.** Pages link to ``/static/v/<version>/<path>``
  (``static_url`` in the templates), where ``version`` is a digest of every file: a release that
  changes any file changes every URL. Those answers carry ``Cache-Control: public,
  max-age=31536000, immutable``. The browser modules import each other by relative paths, so a
  module loaded from a versioned URL loads the others from the same version.
- **Unversioned (and stale-version) URLs revalidate.** ``/static/<path>``, and a version that is
  not the current one (a page loaded before an upgrade), answer the current file with
  ``Cache-Control: no-cache``: a browser asks again each time and gets ``304 Not Modified``
  while its copy's ``ETag`` still matches. A stale version is never marked immutable, so no cache
  keeps new content under an old name.
- **gzip** when the request accepts it (``Accept-Encoding``, ``q=0`` refuses), with ``Vary:
  Accept-Encoding``. Brotli would save a little more but needs a compiled dependency; gzip is in
  the standard library.

Only files a page loads are served (``.js``, ``.css``, ``.svg``, ``.png``, ``.ico``, ``.json``,
``.txt``, ``.woff2``): the package's own ``__init__.py`` and caches are not.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

SERVED = {".js", ".css", ".svg", ".png", ".ico", ".json", ".txt", ".woff2"}
COMPRESSIBLE = {".js", ".css", ".svg", ".json", ".txt"}
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None  # None: not worth compressing
    media_type: str
    etag: str  # strong: the digest of the body


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield f"{prefix}{entry.name}", entry


def _suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:].lower() if dot > path.rfind("/") else ""


def load(folder: Traversable | None = None) -> dict[str, StaticFile]:
    """Every served file under ``folder`` (the ``static`` package), by its path below it."""
    loaded: dict[str, StaticFile] = {}
    for path, entry in _walk(folder if folder is not None else files("static")):
        suffix = _suffix(path)
        if suffix not in SERVED:
            continue
        body = entry.read_bytes()
        gzipped = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE else None
        if gzipped is not None and len(gzipped) > len(body) * 0.9:
            gzipped = None
        media_type = TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        loaded[path] = StaticFile(body, gzipped, media_type, etag)
    return loaded


def version_of(loaded: dict[str, StaticFile]) -> str:
    """A digest of every file and its path: changes whenever any served file does."""
    digest = hashlib.sha256()
    for path in sorted(loaded):
        digest.update(path.encode() + b"\0" + loaded[path].etag.encode() + b"\0")
    return digest.hexdigest()[:12]


def accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=")
        if quality != params.strip().lower():  # a q= parameter was given
            try:
                return float(quality) > 0
            except ValueError:
                return False
        return True
    return False


def _etag_matches(if_none_match: str, etag: str) -> bool:
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


class StaticFiles:
    """The ``/static`` routes: ``/static/v/<version>/<path>`` and ``/static/<path>``."""

    def __init__(self, loaded: dict[str, StaticFile] | None = None) -> None:
        self.files = loaded if loaded is not None else load()
        self.version = version_of(self.files)

    def url(self, path: str) -> str:
        """The versioned URL of a static file (templates: ``static_url('css/hearth.css')``)."""
        return f"/static/v/{self.version}/{path}"

    async def versioned(self, request: Request) -> Response:
        current = request.path_params["version"] == self.version
        return self._answer(request, request.path_params["path"], FOREVER if current else REVALIDATE)

    async def plain(self, request: Request) -> Response:
        return self._answer(request, request.path_params["path"], REVALIDATE)

    def _answer(self, request: Request, path: str, cache: str) -> Response:
        found = self.files.get(path)
        if found is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        headers = {"cache-control": cache, "etag": found.etag}
        if found.gzipped is not None:
            headers["vary"] = "Accept-Encoding"
        if _etag_matches(request.headers.get("if-none-match", ""), found.etag):
            return Response(status_code=304, headers=headers)
        body = found.body
        if found.gzipped is not None and accepts_gzip(request.headers.get("accept-encoding", "")):
            body = found.gzipped
            headers["content-encoding"] = "gzip"
        if request.method == "HEAD":
            headers["content-length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=found.media_type)
        return Response(body, headers=headers, media_type=found.media_type)


class CompressPages:
    """gzip for the HTML pages (≈ 15-20 KiB each, a third of that compressed), through
    Starlette's ``GZipMiddleware``. Only pages: the JSON API's answers carry link tokens and
    are not compressed, so no compression side channel (BREACH) can read a token; static files
    come compressed already (above) and websockets never pass here."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.compressed = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/" or path.startswith("/r/"):
            await self.compressed(scope, receive, send)
        else:
            await self.app(scope, receive, send)
