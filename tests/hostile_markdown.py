"""Body shapes that stress Markdown handling: each is a short unit repeated to any size.

Shared by ``tests/test_hostile_markdown.py`` (linear-time checks) and ``bench/markdown_bench.py``.
Unclosed brackets, autolinks, emphasis runs, backticks, raw HTML, entities, tables, nesting, long words
and many matches of one word: the shapes that make regular expressions or naive loops backtrack or
rescan.
"""

from __future__ import annotations

SHAPES: dict[str, str] = {
    "[": "[",
    "![": "![",
    "[(": "[(",
    "[a](": "[a](",
    "[a]: ": "[a]: ",
    "[a][": "[a][",
    "<http://": "<http://",
    "<": "<",
    "<div": "<div",
    "<!--": "<!--",
    "*a": "*a",
    "**a": "**a",
    "_a": "_a",
    "`": "`",
    "`a": "`a",
    "```": "```a\n",
    "\\": "\\",
    "&#": "&#",
    "|a\\n": "|a|\n",
    "# a\\n": "# a\n",
    "> ": "> ",  # one line of 50,000 nested quotes
    ">\\n": "> a\n>",
    "- ": "- ",  # one line of 50,000 nested lists
    "  - a\\n": "- a\n  ",
    "=\\n": "a\n=\n",
    "word": "x",  # one 100,000-letter word
    "fraud ": "fraud ",  # 16,666 matches of one word
    "CPS ": "CPS ",  # an acronym the jargon buster explains, 25,000 times
}


def body_of(unit: str, size: int) -> str:
    """``unit`` repeated to exactly ``size`` characters."""
    return (unit * (size // len(unit) + 1))[:size]
