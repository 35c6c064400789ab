"""Markdown to safe HTML: one renderer for article bodies, contact blocks, previews and snippets."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is escaped by markdown-it ("html": False) and nh3 then removes anything
# that is not on this list, so neither an editor's typo nor an attacker's payload reaches the page.
ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "mark",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def sanitise(html: str) -> Markup:
    """Strip ``html`` down to the allowed tags, attributes and URL schemes."""
    return Markup(  # noqa: S704 (nh3 has just sanitised it)
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer",
        )
    )


def render_markdown(source: str) -> Markup:
    """Render Markdown to sanitised HTML. Headings start at h2: the page title is the only h1."""
    html = _markdown.render(source or "")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return sanitise(html)
