"""Jinja set-up: filters and values every template can use."""

from __future__ import annotations

from flask import Flask, url_for

from kb.access import reader_is_staff
from kb.rendering import render_markdown
from kb.services.jargon import explain_acronyms
from kb.text import slugify


def search_url(**args: str | list[str]) -> str:
    """The URL of the search page with ``args`` as its query (``tag=[...]`` repeats the parameter)."""
    return url_for(
        "search.results", **{key: value for key, value in args.items() if value not in (None, "", [])}
    )


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
