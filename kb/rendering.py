"""Markdown to safe HTML and to plain text: one parser for article bodies, contact blocks, previews, the
search index and snippets.

Nothing here applies a regular expression to what an editor typed: markdown-it-py parses in linear time
(its inline rules scan each character a bounded number of times), and the plain text is read from its
token stream, so no body can make a save, a preview or a page view stall the server.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
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


# Block tokens that end a line of the plain text (a paragraph, a heading, a table row, a list item's text).
_LINE_ENDS = frozenset({"paragraph_close", "heading_close", "tr_close"})
# Inline tokens whose text a reader sees: words, code spans, and what escapes and entities stand for.
_INLINE_TEXT = frozenset({"text", "code_inline", "text_special"})


def plain_text(source: str) -> str:
    """The words a reader sees in a Markdown text, one line per paragraph, heading, table row or code line.

    Read from markdown-it's tokens (the parser that renders the page), so the index holds exactly the text
    the page shows: link text but not addresses, no emphasis marks, no images (the sanitiser drops them),
    raw HTML as the page shows it (escaped, as text). Headings get a full stop, so that a snippet running
    across one still reads as sentences.
    """
    lines: list[str] = []
    current: list[str] = []
    heading = False

    def end_line() -> None:
        line = " ".join("".join(current).split())
        current.clear()
        if not line:
            return
        if heading and line[-1] not in ".?!:":
            line += "."
        lines.append(line)

    for token in _markdown.parse((source or "").replace("\r\n", "\n")):
        kind = token.type
        if kind == "inline":
            _inline_text(token.children or [], current)
        elif kind in {"fence", "code_block"}:
            end_line()
            lines.extend(" ".join(line.split()) for line in token.content.split("\n") if line.strip())
        elif kind == "heading_open":
            end_line()
            heading = True
        elif kind in _LINE_ENDS:
            end_line()
            heading = False
        elif kind in {"th_close", "td_close"}:
            current.append(" ")
    end_line()
    return "\n".join(lines)


def _inline_text(children: list[Token], out: list[str]) -> None:
    for child in children:
        kind = child.type
        if kind in _INLINE_TEXT:
            out.append(child.content)
        elif kind in {"softbreak", "hardbreak"}:
            out.append(" ")
        # Images are left out: the sanitiser drops <img>, so a page shows neither them nor their alt text.
