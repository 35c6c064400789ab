"""The jargon buster: explain the glossary's acronyms where they appear in an article's rendered body.

Every whole-word use of a known acronym becomes ``<abbr title="expansion">``. A title alone helps only mouse
users, so the first use also shows the expansion in the text, unless the writer already spelt it out next
to the acronym ("Crown Prosecution Service (CPS)").

It works on HTML that ``kb.rendering`` has already sanitised, walking it tag by tag so that acronyms inside
links, code and existing ``<abbr>`` are left alone, and sanitises the result again: whatever the glossary
holds, the page stays as safe as the sanitiser makes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from markupsafe import Markup
from markupsafe import escape as escape_markup

from kb.rendering import sanitise

# Text inside these is left as written: a link's words are its name, code is literal, an abbr is explained.
LEFT_ALONE = frozenset({"a", "abbr", "code", "pre"})
# An expansion in a heading would make it long and odd to scan; headings get the title only.
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# How much earlier text is kept to see whether the writer spelt an acronym out just before it.
CONTEXT_CHARS = 200
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Acronym:
    term: str
    expansion: str
    # Lower-case spellings that count as the writer having already explained the acronym.
    spelt_out: tuple[str, ...]


def acronyms_from(terms: Iterable) -> list[Acronym]:
    """Turn glossary entries (anything with ``term``, ``expansion`` and ``aliases``) into acronyms."""
    found = []
    for entry in terms:
        if not entry.term or not entry.expansion:
            continue
        forms = {entry.expansion.lower(), *(alias.lower() for alias in entry.aliases or ())}
        found.append(Acronym(entry.term, entry.expansion, tuple(sorted(forms, key=len, reverse=True))))
    return found


def explain_acronyms(html: str, terms: Iterable | None = None) -> Markup:
    """Mark up the known acronyms in sanitised ``html``; ``terms`` defaults to the glossary's acronyms."""
    if terms is None:
        from kb.services import glossary

        terms = glossary.acronyms()
    acronyms = acronyms_from(terms)
    source = str(escape_markup(html))  # plain text is escaped first; Markup passes through unchanged
    if not acronyms:
        return Markup(source)  # noqa: S704 (escaped or already sanitised above)
    marker = _AcronymMarker(acronyms)
    marker.feed(source)
    marker.close()
    return sanitise(marker.result())


class _AcronymMarker(HTMLParser):
    def __init__(self, acronyms: list[Acronym]):
        super().__init__(convert_charrefs=True)
        self.by_term = {a.term: a for a in acronyms}
        # Longest first, so "SEROCU" wins over a shorter term inside it; case matters ("GAIN", not "gain").
        alternatives = "|".join(re.escape(a.term) for a in sorted(acronyms, key=lambda a: -len(a.term)))
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        self.out: list[str] = []
        self.open_counts: dict[str, int] = {}
        self.explained: set[str] = set()
        self.recent_text = ""

    def result(self) -> str:
        return "".join(self.out)

    def _inside(self, names: frozenset[str]) -> bool:
        return any(self.open_counts.get(name, 0) > 0 for name in names)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.open_counts[tag] = self.open_counts.get(tag, 0) + 1
        self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.open_counts.get(tag, 0) > 0:
            self.open_counts[tag] -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._inside(LEFT_ALONE):
            self.out.append(escape(data, quote=False))
        else:
            self.out.append(self._mark(data))
        self.recent_text = (self.recent_text + data)[-CONTEXT_CHARS:]

    def _mark(self, data: str) -> str:
        in_heading = self._inside(HEADINGS)
        pieces: list[str] = []
        position = 0
        for match in self.pattern.finditer(data):
            acronym = self.by_term[match.group(0)]
            pieces.append(escape(data[position : match.start()], quote=False))
            pieces.append(f'<abbr title="{escape(acronym.expansion)}">{escape(acronym.term)}</abbr>')
            if not in_heading and acronym.term not in self.explained:
                self.explained.add(acronym.term)
                # Only the text near the acronym can spell it out: slicing the whole rest of the text
                # for each use would make a long body with many acronyms quadratic.
                reach = CONTEXT_CHARS + max(map(len, acronym.spelt_out), default=0)
                before = data[max(0, match.start() - reach) : match.start()]
                after = data[match.end() : match.end() + reach]
                if not self._spelt_out(acronym, self.recent_text + before, after):
                    in_brackets = before.rstrip().endswith("(") and after.lstrip().startswith(")")
                    expansion = escape(acronym.expansion, quote=False)
                    pieces.append(f", {expansion}" if in_brackets else f" ({expansion})")
            position = match.end()
        pieces.append(escape(data[position:], quote=False))
        return "".join(pieces)

    @staticmethod
    def _spelt_out(acronym: Acronym, before: str, after: str) -> bool:
        """True if the text reads "Expansion (ACRONYM" or "ACRONYM (Expansion" around this use."""
        before = _SPACES.sub(" ", before).rstrip().lower()
        after = _SPACES.sub(" ", after).lstrip().lower()
        if before.endswith("("):
            preceding = before[:-1].rstrip()
            if any(preceding.endswith(form) for form in acronym.spelt_out):
                return True
        if after.startswith("("):
            following = after[1:].lstrip()
            if any(following.startswith(form) for form in acronym.spelt_out):
                return True
        return False
