"""Jinja set-up: filters and values every template can use."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, url_for

from kb.access import reader_is_staff
from kb.rendering import render_markdown
from kb.services.jargon import explain_acronyms
from kb.text import slugify

# The public contract fixes the search page's path; whichever blueprint serves it, links follow it.
SEARCH_PATH = "/search"


def search_url(**args: str | list[str]) -> str:
    """The URL of the search page with ``args`` as its query (``tag=[...]`` repeats the parameter)."""
    endpoint = _endpoint_for_path(SEARCH_PATH)
    cleaned = {key: value for key, value in args.items() if value not in (None, "", [])}
    if endpoint is not None:
        return url_for(endpoint, **cleaned)
    # Before the search blueprint is registered (or in an app built without it) the form still points
    # at the contract's path, so no page breaks.
    query = urlencode(cleaned, doseq=True)
    return SEARCH_PATH + (f"?{query}" if query else "")


def _endpoint_for_path(path: str) -> str | None:
    for rule in current_app.url_map.iter_rules():
        if rule.rule == path and "GET" in (rule.methods or ()):
            return rule.endpoint
    return None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["jargon"] = explain_acronyms
    app.jinja_env.filters["slugify"] = slugify
    app.jinja_env.globals["search_url"] = search_url
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def reader_context() -> dict:
        return {"reader_is_staff": reader_is_staff()}
