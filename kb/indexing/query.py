"""Turning what a reader typed into a Whoosh query that cannot fail, hang or reach beyond what it should.

- The input is cleaned (Unicode normalised, control characters dropped) and capped in length.
- Whoosh's parser keeps phrases, groups and AND/OR/NOT, but loses the plugins a member of the public
  should not drive: ``field:value`` (it could name ``status`` or ``visibility``), wildcards and ranges
  (a lone ``*`` or ``[a TO z]`` walks the whole lexicon), single quotes and ``*:*``. A bounded prefix
  plugin takes the place of wildcards: ``laund*`` expands to at most ``MAX_PREFIX_TERMS`` terms.
- Glossary synonyms and acronyms are added at query time ("bitcoin" also finds "cryptocurrency"),
  at a lower weight than the words typed, and reported back so the page can say so.
- The last word typed also matches as a prefix when it is not a word of the index by itself.
- Should the parser ever fail, the words are searched as plain terms instead.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from whoosh import qparser, query
from whoosh.qparser import syntax

from kb.indexing.schema import FIELD_BOOSTS, SEARCH_FIELDS, STOP_LIST, normalise_name, text_analyzer

MAX_QUERY_LENGTH = 200
MAX_PREFIX_TERMS = 64
MIN_PREFIX_LENGTH = 3
# The last word typed also matches as a prefix only from this many letters ("car" must not find "career").
IMPLICIT_PREFIX_LENGTH = 4
SYNONYM_WEIGHT = 0.5
EXACT_NAME_BOOST = 20.0
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
# Words that say what kind of answer is wanted rather than what it is about ("analyst jobs", "cash team"):
# they raise the documents that have them but do not exclude those that do not, unless nothing else
# was typed.
SOFT_WORDS = frozenset(
    {
        "job",
        "jobs",
        "role",
        "roles",
        "career",
        "careers",
        "vacancy",
        "vacancies",
        "opportunities",
        "team",
        "teams",
    }
)

# Conversation, not content: "I'm", "I was", "looking for", "what could I do", "interested in". Dropped
# when other words remain (many more such words are stop words already: kb.indexing.schema.STOP_LIST).
_FILLER = """
    i'm i've i'd i'll ive am was were been being about want wants wanted wanting
    looking look looked interested interest interesting anything something everything really like
    would could should might get got getting years year ten five few many lot lots currently former
    ex used previously recently now also just thing things kind sort type good great fancy love
    experience experienced background know knowing think tell please thanks hello hi hey
    """
FILLER_WORDS = frozenset(_FILLER.split())

_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"|(?P<lparen>\()|(?P<rparen>\))|(?P<word>[^\s()"]+)')
# Characters with a meaning to Whoosh's parser that a reader's word must not carry into it.
_SYNTAX_CHARS = re.compile(r"[\^*\\]")
_FORM_CHARS = re.compile(r"[^\w&'\u2019 -]")


class BoundedPrefix(query.Prefix):
    """A prefix query that expands to a bounded number of terms (``a*`` cannot walk the whole lexicon)."""

    def _btexts(self, ixreader):
        if len(self.text) < MIN_PREFIX_LENGTH - 1:
            return iter(())
        return itertools.islice(ixreader.expand_prefix(self.fieldname, self.text), MAX_PREFIX_TERMS)

    def matcher(self, searcher, context=None):
        # Whoosh turns an empty prefix into "every document"; here it matches nothing.
        return query.PatternQuery.matcher(self, searcher, context)


class BoundedPrefixPlugin(qparser.TaggingPlugin):
    """``word*`` becomes a bounded prefix query."""

    class PrefixNode(syntax.TextNode):
        qclass = BoundedPrefix
        tokenize = False
        removestops = False

        def r(self):
            return f"{self.text!r}*"

    expr = r"(?P<text>[^ \t\r\n*()\"]+)[*](?= |$|\))"
    nodetype = PrefixNode


@dataclass(frozen=True)
class SynonymGroup:
    """Forms that mean the same thing; ``display`` is what the page names when it adds them."""

    forms: tuple[str, ...]
    display: tuple[str, ...]


@dataclass
class Token:
    kind: str  # word, phrase, operator, lparen, rparen
    text: str
    start: int
    end: int
    prefix: bool = False
    expanded: bool = False  # part of a glossary form, so searched with its synonyms
    # For the first word of a glossary form: the stems of the form typed and of each alternative searched
    # (one "concept"); () for the form's other words, None for a word searched as itself.
    concept: tuple[tuple[str, ...], ...] | None = None


@dataclass
class ParsedQuery:
    text: str  # the cleaned, possibly truncated, input
    truncated: bool
    query: query.Query | None  # None: nothing typed (browse)
    # The same words ORed together, for when no document has them all; parsed only when asked for.
    make_any_words: Callable[[], query.Query] | None = None
    expanded: list[str] = field(default_factory=list)
    words: list[Token] = field(default_factory=list)  # the plain words typed, for "did you mean"
    term_count: int = 0
    # What the required words stand for, one entry per typed word or glossary form: each the stems of
    # the forms that would satisfy it (for ranking partial matches by the information they carry).
    concepts: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    # The reader used search syntax (quotes, AND/OR/NOT, brackets, ``word*``): they asked for exactly
    # that, so nothing is added by meaning alone.
    exact: bool = False

    @property
    def is_browse(self) -> bool:
        return self.query is None

    @property
    def any_words_query(self) -> query.Query | None:
        return self.make_any_words() if self.make_any_words is not None else None


def clean_input(text: str | None, max_length: int = MAX_QUERY_LENGTH) -> tuple[str, bool]:
    """Normalise what was typed and cap its length; returns (text, truncated)."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    # Control, format, surrogate and private-use characters carry no words and can upset parsers.
    text = "".join(" " if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} else c for c in text)
    text = " ".join(text.split())
    if len(text) <= max_length:
        return text, False
    cut = text[:max_length]
    if " " in cut[max_length // 2 :]:  # end on a whole word when one is near
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(), True


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        if match.group("phrase") is not None:
            inner = " ".join(_SYNTAX_CHARS.sub(" ", match.group("phrase")).split())
            if inner:
                tokens.append(Token("phrase", inner, match.start(), match.end()))
        elif match.group("lparen"):
            tokens.append(Token("lparen", "(", match.start(), match.end()))
        elif match.group("rparen"):
            tokens.append(Token("rparen", ")", match.start(), match.end()))
        else:
            raw = match.group("word")
            if raw in OPERATORS:
                tokens.append(Token("operator", raw, match.start(), match.end()))
                continue
            prefix = raw.endswith("*")
            word = _SYNTAX_CHARS.sub("", raw)
            if word:
                tokens.append(Token("word", word, match.start(), match.end(), prefix=prefix))
    return tokens


class SynonymMatcher:
    """Finds glossary forms in a run of typed words, comparing stems ("SARs" matches "sar")."""

    def __init__(self, groups: Sequence[SynonymGroup], analyzer=None):
        """:param analyzer: how forms and typed words are compared (stems by default)."""
        self.groups = list(groups)
        self._analyzer = analyzer or text_analyzer()
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for index, group in enumerate(self.groups):
            for form in group.forms:
                stems = self.stems(form)
                if stems:
                    self._by_first.setdefault(stems[0], []).append((stems, index))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))  # longest form first

    def stems(self, text: str) -> tuple[str, ...]:
        return tuple(t.text for t in self._analyzer(text, mode="query"))

    def find(self, words: Sequence[str]) -> list[tuple[int, int, int]]:
        """Spans ``(first word, last word, group)`` of glossary forms in ``words``, longest first, no overlap.

        A form must cover whole words: "money-laundering-team" does not match "money laundering".
        """
        flat: list[tuple[str, int, bool, bool]] = []  # stem, word position, first and last stem of its word
        for position, word in enumerate(words):
            stems = self.stems(word)
            flat.extend((stem, position, k == 0, k == len(stems) - 1) for k, stem in enumerate(stems))
        spans = []
        i = 0
        while i < len(flat):
            match = None
            if flat[i][2]:
                for stems, group in self._by_first.get(flat[i][0], ()):
                    window = flat[i : i + len(stems)]
                    if len(window) == len(stems) and window[-1][3] and tuple(w[0] for w in window) == stems:
                        match = (flat[i][1], window[-1][1], group, len(stems))
                        break
            if match is None:
                i += 1
                continue
            spans.append(match[:3])
            i += match[3]
        return spans

    def exact(self, text: str) -> int | None:
        """The group one of whose forms is exactly ``text`` (stem for stem), if any."""
        stems = self.stems(text)
        for candidate, group in self._by_first.get(stems[0] if stems else "", ()):
            if candidate == stems:
                return group
        return None


def _quote(form: str) -> str:
    form = " ".join(_FORM_CHARS.sub(" ", form.lower()).split())
    return f'"{form}"' if " " in form else form


class QueryBuilder:
    """Builds queries against one schema; ``known(word)`` says whether a word is in the index as it is."""

    def __init__(
        self,
        schema,
        synonyms: SynonymMatcher,
        *,
        max_length: int = MAX_QUERY_LENGTH,
        capital_acronyms: dict[str, str] | None = None,
    ):
        """:param capital_acronyms: glossary acronyms that are also stop words ("IT"), with their
        expansions: typed in capitals they mean the acronym, typed in lower case they are the word."""
        self.schema = schema
        self.synonyms = synonyms
        self.capital_acronyms = dict(capital_acronyms or {})
        self.max_length = max_length
        self._and_parser = self._parser(qparser.AndGroup)
        self._or_parser = self._parser(qparser.OrGroup.factory(0.9))
        self._analyzer = text_analyzer()

    def _parser(self, group):
        parser = qparser.MultifieldParser(SEARCH_FIELDS, self.schema, fieldboosts=FIELD_BOOSTS, group=group)
        for plugin in (
            qparser.FieldsPlugin,
            qparser.WildcardPlugin,
            qparser.RangePlugin,
            qparser.SingleQuotePlugin,
            qparser.EveryPlugin,
        ):
            parser.remove_plugin_class(plugin)
        parser.add_plugin(BoundedPrefixPlugin())
        return parser

    def build(self, raw: str | None, known: Callable[[str], bool] = lambda word: True) -> ParsedQuery:
        text, truncated = clean_input(raw, self.max_length)
        typed = tokenize(text)
        exact = any(t.kind in {"operator", "lparen", "rparen", "phrase"} or t.prefix for t in typed)
        tokens = self._without_filler(self._capital_acronyms(typed))
        if not any(t.kind in {"word", "phrase"} for t in tokens):
            return ParsedQuery(text=text, truncated=truncated, query=None)
        ends_in_word = bool(text) and not text[-1].isspace()
        required, optional = self._split_soft_words(tokens)
        source, expanded = self._rewrite(required, ends_in_word=ends_in_word, known=known)
        soft = self.plain_terms(optional, any_words=True) if optional else None
        main = self._finish(self._parse(self._and_parser, source, required), soft, tokens)

        def make_any_words() -> query.Query:
            return self._finish(self._parse(self._or_parser, source, required), soft, tokens)

        words = [t for t in tokens if t.kind == "word"]
        return ParsedQuery(
            text=text,
            truncated=truncated,
            query=main,
            make_any_words=make_any_words,
            expanded=expanded,
            words=words,
            concepts=self._concepts(required),
            exact=exact,
            term_count=sum(len(self._stems(t.text)) for t in tokens if t.kind in {"word", "phrase"}),
        )

    def _finish(self, parsed: query.Query, soft: query.Query | None, tokens: list[Token]) -> query.Query:
        """Add the optional parts: the soft words, and a boost for a document named exactly as typed."""
        if parsed is query.NullQuery:
            return parsed
        if soft is not None:
            parsed = query.AndMaybe(parsed, soft)
        name = normalise_name(" ".join(t.text for t in tokens if t.kind in {"word", "phrase"}))
        if name and not any(t.kind == "operator" for t in tokens):
            parsed = query.AndMaybe(parsed, query.Term("name", name, boost=EXACT_NAME_BOOST))
        return parsed

    def _concepts(self, tokens: list[Token]) -> list[tuple[tuple[str, ...], ...]]:
        concepts = []
        for token in tokens:
            if token.kind not in {"word", "phrase"} or token.prefix:
                continue
            if token.concept is not None:
                if token.concept:
                    concepts.append(token.concept)
                continue
            # Each stem its own concept: "title:gateway" is two words to the analyser.
            concepts.extend(((stem,),) for stem in self._stems(token.text))
        return concepts

    def _capital_acronyms(self, tokens: list[Token]) -> list[Token]:
        """ "IT" in capitals is the acronym, searched as its expansion (and its glossary forms)."""
        if not self.capital_acronyms:
            return tokens
        return [
            Token("phrase", self.capital_acronyms[t.text], t.start, t.end)
            if t.kind == "word" and not t.prefix and t.text in self.capital_acronyms
            else t
            for t in tokens
        ]

    @staticmethod
    def _without_filler(tokens: list[Token]) -> list[Token]:
        """Drop conversation words (``FILLER_WORDS``) when other words remain and no operator is used."""
        if any(t.kind in {"operator", "lparen", "rparen"} for t in tokens):
            return tokens
        kept = [t for t in tokens if not (t.kind == "word" and not t.prefix and _is_filler(t.text))]
        if not any(t.kind in {"word", "phrase"} and t.text.lower() not in STOP_LIST for t in kept):
            return tokens
        return kept

    def _split_soft_words(self, tokens: list[Token]) -> tuple[list[Token], list[Token]]:
        """Separate the soft words (see ``SOFT_WORDS``) when other words remain and no operator is used."""
        if any(t.kind in {"operator", "lparen", "rparen"} for t in tokens):
            return tokens, []
        soft = [t for t in tokens if t.kind == "word" and not t.prefix and t.text.lower() in SOFT_WORDS]
        required = [t for t in tokens if t not in soft]
        if not soft or not any(t.kind in {"word", "phrase"} for t in required):
            return tokens, []
        return required, soft

    def _stems(self, text: str) -> list[str]:
        return [t.text for t in self._analyzer(text, mode="query")]

    def _rewrite(self, tokens: list[Token], *, ends_in_word: bool, known: Callable[[str], bool]):
        """The parser's input: the reader's tokens, glossary groups spliced in, the last word as a prefix."""
        out: list[str] = []
        expanded: list[str] = []
        seen_display: set[str] = set()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind in {"word", "phrase"}:
                run_end = i
                while (
                    run_end + 1 < len(tokens) and tokens[run_end + 1].kind == "word" and token.kind == "word"
                ):
                    run_end += 1
                run = tokens[i : run_end + 1]
                out.extend(
                    self._rewrite_run(
                        run,
                        expanded,
                        seen_display,
                        last=run_end == len(tokens) - 1 and ends_in_word,
                        known=known,
                    )
                )
                i = run_end + 1
                continue
            out.append(token.text)
            i += 1
        return " ".join(out), expanded

    def _rewrite_run(self, run, expanded, seen_display, *, last: bool, known) -> list[str]:
        if run[0].kind == "phrase":
            group = self.synonyms.exact(run[0].text)
            spans = [] if group is None else [(0, 0, group)]
        elif any(t.prefix for t in run):
            spans = []  # "laund*" is a prefix search, not the word "laund"
        else:
            spans = self.synonyms.find([t.text for t in run])
        by_start = {start: (end, group) for start, end, group in spans}
        out: list[str] = []
        position = 0
        while position < len(run):
            token = run[position]
            if position in by_start:
                end, group_index = by_start[position]
                group = self.synonyms.groups[group_index]
                typed_tokens = run[position : end + 1]
                for typed_token in typed_tokens:
                    typed_token.expanded = True
                    typed_token.concept = ()
                typed = " ".join(_typed(t) for t in typed_tokens)
                typed_stems = self.synonyms.stems(" ".join(t.text for t in typed_tokens))
                # Each other form once (forms with the same stems are the same search), named forms first.
                # Forms with the same stems are one search, named by the first listed ("laundering",
                # not "launder"); shorter ones go first so that a form containing one already searched
                # ("undercover officer" after "undercover") is left out: it would find nothing more.
                by_stems: dict[tuple[str, ...], str] = {}
                for form in group.forms:
                    by_stems.setdefault(self.synonyms.stems(form), form)
                seen = {typed_stems}
                alternatives = []
                for stems, form in sorted(
                    by_stems.items(), key=lambda i: (i[1] not in group.display, len(i[0]))
                ):
                    if stems and not any(_contains(stems, other) for other in seen) and _quote(form):
                        seen.add(stems)
                        alternatives.append(form)
                        if form.lower() not in seen_display:
                            seen_display.add(form.lower())
                            expanded.append(form)
                typed_tokens[0].concept = (
                    typed_stems,
                    *(self.synonyms.stems(form) for form in alternatives),
                )
                if alternatives:
                    ored = " OR ".join(f"{_quote(form)}^{SYNONYM_WEIGHT}" for form in alternatives)
                    out.append(f"(({typed}) OR {ored})")
                else:
                    out.append(typed)
                position = end + 1
                continue
            is_last = last and position == len(run) - 1
            if (
                token.kind == "word"
                and not token.prefix
                and is_last
                and len(token.text) >= IMPLICIT_PREFIX_LENGTH
            ):
                stems = self._stems(token.text)
                if len(stems) == 1 and not known(stems[0]):
                    out.append(f"({token.text} OR {token.text}*)")
                    position += 1
                    continue
            out.append(_typed(token))
            position += 1
        return out

    def _parse(self, parser, source: str, tokens: list[Token]) -> query.Query:
        try:
            parsed = parser.parse(source)
            if parsed is None:
                raise ValueError("no query")
            # normalize() walks the whole tree: a malformed one fails here rather than mid-search.
            return parsed.normalize()
        except Exception:  # the parser failing on odd input must never fail the search
            return self.plain_terms(tokens, any_words=parser is self._or_parser)

    def plain_terms(self, tokens: list[Token], *, any_words: bool = False) -> query.Query:
        """The typed words as plain terms in every searched field, no syntax at all."""
        clauses = []
        for token in tokens:
            if token.kind not in {"word", "phrase"}:
                continue
            for stem in self._stems(token.text):
                clauses.append(query.Or([query.Term(f, stem, boost=FIELD_BOOSTS[f]) for f in SEARCH_FIELDS]))
        if not clauses:
            return query.NullQuery
        return query.Or(clauses) if any_words else query.And(clauses)


def _is_filler(word: str) -> bool:
    return word.lower().replace("\u2019", "'") in FILLER_WORDS


def _contains(stems: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """True when ``part`` occurs in ``stems`` as a run of consecutive stems (or equals it)."""
    return any(stems[i : i + len(part)] == part for i in range(len(stems) - len(part) + 1))


def _typed(token: Token) -> str:
    if token.kind == "phrase":
        return f'"{token.text}"'
    return f"{token.text}*" if token.prefix else token.text
