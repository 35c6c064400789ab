"""Jinja set-up: filters and values every template can use."""

from __future__ import annotations

from typing import Any

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


WORKFORCE_LABELS = {
    "officer": "Police officers",
    "staff": "Police staff",
    "both": "Police officers or police staff",
}


def workforce_label(role: Any) -> str:
    """Who can hold a role type, in words: "Police officers", "Police staff" or both."""
    return WORKFORCE_LABELS.get(role.workforce, WORKFORCE_LABELS["both"])


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["jargon"] = explain_acronyms
    app.jinja_env.filters["slugify"] = slugify
    app.jinja_env.globals["search_url"] = search_url
    app.jinja_env.globals["workforce_label"] = workforce_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def reader_context() -> dict:
        return {"reader_is_staff": reader_is_staff()}
