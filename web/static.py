"""Static files cached for a year, under URLs that change whenever the file does.

url_for("static", filename=...) gets `?v=<content hash>`, so a phone keeps the stylesheet
between scans without asking again, and a deployment with a new stylesheet is seen at once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, request, url_for

from web.templating import kept

ONE_YEAR = 365 * 24 * 3600
FIXED_URLS = "trace_fixed_urls"


@lru_cache(maxsize=64)
def _content_hash(path: Path, modified_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_version(folder: Path, filename: str) -> str:
    """A short hash of the file's content ("" when there is no such file)."""
    path = folder / filename
    try:
        modified_ns = path.stat().st_mtime_ns  # an edited file gets a new version at once
    except OSError:
        return ""
    return _content_hash(path, modified_ns)


def init_static_versions(app: Flask) -> None:
    folder = Path(app.static_folder)

    @app.url_defaults
    def _add_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            values["v"] = static_version(folder, values.get("filename", ""))

    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = ONE_YEAR
    app.jinja_env.globals["fixed_url"] = fixed_url


def fixed_url(endpoint: str, **values) -> str:
    """url_for for a URL that is the same on every page (a static file, the start page):
    built once per app and mount point, where url_for costs a page some 10 µs each time
    (and a static file's version a stat). Built anew while templates reload (debug)."""
    key = (request.script_root, endpoint, *sorted(values.items()))
    return kept(FIXED_URLS, key, lambda: url_for(endpoint, **values))
