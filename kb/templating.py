"""Jinja set-up: filters and values every template can use."""

from __future__ import annotations

from flask import Flask

from kb.access import reader_is_staff
from kb.rendering import render_markdown


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def reader_context() -> dict:
        return {"reader_is_staff": reader_is_staff()}
