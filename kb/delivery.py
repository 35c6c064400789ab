"""How responses travel: fingerprinted static URLs with long cache lifetimes, and compressed text.

Every ``url_for('static', ...)`` carries ``?v=<hash of the file>``, so a browser may keep a static file for a
year: when the file changes, so does its URL. A static request without the current hash is answered with
``no-cache`` (revalidate each time) so that a stale or hand-typed URL never pins an old file.

Text responses (HTML, CSS, JavaScript, JSON, SVG, XML) are compressed with Flask-Compress, except responses
that carry a CSRF token: compressing a secret next to text an attacker can reflect (a search query) is what
the BREACH attack exploits, and those pages are small and few (sign-in, editor forms).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_compress import Compress

ONE_YEAR = 365 * 24 * 60 * 60
FINGERPRINT_ARG = "v"

compress = Compress()


@lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def static_fingerprint(filename: str) -> str | None:
    """The short content hash of a static file, or None if there is no such file."""
    folder = current_app.static_folder
    if folder is None:
        return None
    path = os.path.join(folder, filename)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    # Keyed on modification time and size, so an edited file gets a new hash without a restart.
    return _file_hash(path, stat.st_mtime_ns, stat.st_size)


def _add_fingerprint(endpoint: str | None, values: dict) -> None:
    if endpoint == "static" and "filename" in values and FINGERPRINT_ARG not in values:
        fingerprint = static_fingerprint(values["filename"])
        if fingerprint is not None:
            values[FINGERPRINT_ARG] = fingerprint


def _set_cache_headers(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    current = static_fingerprint(filename)
    if current is not None and request.args.get(FINGERPRINT_ARG) == current:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.expires = None
    else:
        response.cache_control.no_cache = True
        response.cache_control.max_age = None
    return response


def _compress(response: Response) -> Response:
    if g.get("csrf_token"):
        # Still say the answer depends on Accept-Encoding, as every other response does.
        response.vary.add("Accept-Encoding")
        return response
    return compress.after_request(response)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_REGISTER", False)  # registered below, behind the CSRF check
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    # Static files are sent as streams; gzip too, for clients that offer nothing newer.
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["zstd", "br", "gzip", "deflate"])
    compress.init_app(app)
    app.url_defaults(_add_fingerprint)
    # after_request functions run in reverse order: cache headers are set first, then compression.
    app.after_request(_compress)
    app.after_request(_set_cache_headers)
