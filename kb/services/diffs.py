"""Comparing and merging article revisions: side-by-side diffs and a three-way merge for conflicts.

Everything here returns plain strings in small data classes; templates escape them when they render
(``<del>``/``<ins>`` plus a text marker, so the meaning never rests on colour alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from kb import article_fields

# The fields an editor sees, in form order, with the label used on diff and conflict pages.
FIELD_LABELS: dict[str, str] = article_fields.FIELD_LABELS
LIST_FIELDS = article_fields.LIST_FIELDS

# Marker lines written into a merged text where both sides changed the same lines. They are distinctive
# enough that the editor form can refuse to save a text that still holds one.
CONFLICT_START = "<<<<<<< your version"
CONFLICT_MIDDLE = "======= current version"
CONFLICT_END = ">>>>>>> end of conflict"

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
# difflib's matcher takes time proportional to the product of the two lengths when lines (or words)
# repeat, so a body of 100,000 blank lines would hang a diff or a conflict page. What is left once the
# common beginning and end are set aside is matched only while that product stays under this budget (a
# fraction of a second); beyond it, the rest is shown as one changed block: still a correct diff.
MATCH_BUDGET = 1_000_000


@dataclass
class Segment:
    """A run of text within a line; ``changed`` marks what was removed (left) or added (right)."""

    text: str
    changed: bool = False


@dataclass
class DiffRow:
    """One row of a side-by-side diff. A side is None where that version has no line."""

    kind: str  # "equal", "changed", "removed", "added", or "gap" (unchanged lines left out)
    left_number: int | None
    left: list[Segment] | None
    right_number: int | None
    right: list[Segment] | None
    hidden: int = 0  # on a "gap" row: how many unchanged lines it stands for


@dataclass
class FieldDiff:
    name: str
    label: str
    rows: list[DiffRow] = field(default_factory=list)  # text fields
    removed: list[str] = field(default_factory=list)  # list fields
    added: list[str] = field(default_factory=list)

    @property
    def is_list(self) -> bool:
        return self.name in LIST_FIELDS


def normalise_newlines(text: str) -> str:
    """Browsers send CRLF from text areas; store and compare LF only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lines(text: str | None) -> list[str]:
    return normalise_newlines(text or "").split("\n") if text else []


def _matching_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    """``(i, j, n)`` for each run where ``a[i:i+n] == b[j:j+n]``, in order, ending with
    ``(len(a), len(b), 0)`` (as difflib's), in time linear in the lengths beyond ``MATCH_BUDGET``."""
    limit = min(len(a), len(b))
    prefix = 0
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[len(a) - 1 - suffix] == b[len(b) - 1 - suffix]:
        suffix += 1
    a_rest, b_rest = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    blocks = [(0, 0, prefix)] if prefix else []
    if a_rest and b_rest and len(a_rest) * len(b_rest) <= MATCH_BUDGET:
        matcher = SequenceMatcher(None, a_rest, b_rest, autojunk=False)
        blocks.extend((m.a + prefix, m.b + prefix, m.size) for m in matcher.get_matching_blocks() if m.size)
    if suffix:
        blocks.append((len(a) - suffix, len(b) - suffix, suffix))
    blocks.append((len(a), len(b), 0))
    return blocks


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes (``equal``, ``replace``, ``delete``, ``insert``) from ``_matching_blocks``."""
    ops: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for ai, bj, size in _matching_blocks(a, b):
        if i < ai or j < bj:
            ops.append(("replace" if i < ai and j < bj else "delete" if i < ai else "insert", i, ai, j, bj))
        if size:
            ops.append(("equal", ai, ai + size, bj, bj + size))
        i, j = ai + size, bj + size
    return ops


def _intraline(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """Mark the words that differ between two versions of one line."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_tokens, new_tokens):
        if i2 > i1:
            left.append(Segment("".join(old_tokens[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Segment("".join(new_tokens[j1:j2]), tag != "equal"))
    return left, right


def compare_text(old: str | None, new: str | None, *, context: int | None = None) -> list[DiffRow]:
    """Side-by-side rows comparing two texts line by line, changed lines paired and marked word by word.

    :param context: keep only this many unchanged lines around each change (None keeps every line);
        each run of lines left out becomes one "gap" row that says how many there are.
    """
    old_lines, new_lines = _lines(old), _lines(new)
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_lines, new_lines):
        if tag == "equal":
            rows.extend(
                DiffRow("equal", i + 1, [Segment(old_lines[i])], j + 1, [Segment(new_lines[j])])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        pairs = max(i2 - i1, j2 - j1)
        for offset in range(pairs):
            i, j = i1 + offset, j1 + offset
            has_old, has_new = i < i2, j < j2
            if has_old and has_new:
                left, right = _intraline(old_lines[i], new_lines[j])
                rows.append(DiffRow("changed", i + 1, left, j + 1, right))
            elif has_old:
                rows.append(DiffRow("removed", i + 1, [Segment(old_lines[i], True)], None, None))
            else:
                rows.append(DiffRow("added", None, None, j + 1, [Segment(new_lines[j], True)]))
    if context is None:
        return rows
    return collapse_unchanged(rows, context)


def collapse_unchanged(rows: list[DiffRow], context: int) -> list[DiffRow]:
    """Keep ``context`` unchanged rows around each change; each run left out becomes one "gap" row."""
    changed = [n for n, row in enumerate(rows) if row.kind != "equal"]
    keep = {n for c in changed for n in range(c - context, c + context + 1)}
    out: list[DiffRow] = []
    hidden = 0
    for n, row in enumerate(rows):
        if n in keep:
            if hidden:
                out.append(DiffRow("gap", None, None, None, None, hidden))
                hidden = 0
            out.append(row)
        else:
            hidden += 1
    if hidden:
        out.append(DiffRow("gap", None, None, None, None, hidden))
    return out


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def compare_snapshots(
    old: dict[str, Any], new: dict[str, Any], *, context: int | None = 3
) -> list[FieldDiff]:
    """The fields that differ between two article snapshots, in form order."""
    diffs = []
    for name, label in FIELD_LABELS.items():
        before, after = old.get(name), new.get(name)
        if (before or None) == (after or None):
            continue
        diff = FieldDiff(name, label)
        if name in LIST_FIELDS:
            before_list, after_list = list(before or []), list(after or [])
            diff.removed = [v for v in before_list if v not in after_list]
            diff.added = [v for v in after_list if v not in before_list]
            if not diff.removed and not diff.added:  # same values, new order
                diff.rows = compare_text(_as_text(before_list), _as_text(after_list))
        else:
            diff.rows = compare_text(_as_text(before), _as_text(after), context=context)
        diffs.append(diff)
    return diffs


# --- Three-way merge ------------------------------------------------------------------------------


def _matches(base: list[str], other: list[str]) -> dict[int, int]:
    return {i + n: j + n for i, j, size in _matching_blocks(base, other) for n in range(size)}


@dataclass
class TextMerge:
    text: str
    conflicts: int


def merge_text(base: str, mine: str, theirs: str, *, markers: bool = True) -> TextMerge:
    """Merge two edits of ``base`` line by line (diff3): changes on different lines combine; where both
    changed the same lines, both versions are kept, so neither is lost: between conflict markers, or
    (``markers=False``, for the "Edit both" box of the conflict page) the editor's lines then theirs.
    """
    base_lines, my_lines, their_lines = (_lines(t) for t in (base, mine, theirs))
    mine_at, theirs_at = _matches(base_lines, my_lines), _matches(base_lines, their_lines)
    out: list[str] = []
    conflicts = 0
    o = a = b = 0

    def resolve(o_part: list[str], a_part: list[str], b_part: list[str]) -> None:
        nonlocal conflicts
        if a_part == b_part or b_part == o_part:
            out.extend(a_part)
        elif a_part == o_part:
            out.extend(b_part)
        else:
            conflicts += 1
            if markers:
                out.extend([CONFLICT_START, *a_part, CONFLICT_MIDDLE, *b_part, CONFLICT_END])
            else:
                out.extend([*a_part, *b_part])

    while True:
        stable = 0
        while o + stable < len(base_lines) and (
            mine_at.get(o + stable) == a + stable and theirs_at.get(o + stable) == b + stable
        ):
            stable += 1
        if stable:
            out.extend(base_lines[o : o + stable])
            o, a, b = o + stable, a + stable, b + stable
            continue
        following = next(
            (
                x
                for x in range(o, len(base_lines))
                if x in mine_at and x in theirs_at and mine_at[x] >= a and theirs_at[x] >= b
            ),
            None,
        )
        if following is None:
            resolve(base_lines[o:], my_lines[a:], their_lines[b:])
            break
        resolve(
            base_lines[o:following], my_lines[a : mine_at[following]], their_lines[b : theirs_at[following]]
        )
        o, a, b = following, mine_at[following], theirs_at[following]
    return TextMerge("\n".join(out), conflicts)


@dataclass
class SnapshotMerge:
    """An editor's save merged with a colleague's: the result to put back in the form, and what clashed."""

    data: dict[str, Any]
    conflicts: list[str]  # fields both changed differently; the text holds both, or the editor's value
    theirs_changed: list[str]  # fields only the colleague changed, taken from the current version


def merge_snapshots(
    base: dict[str, Any] | None, mine: dict[str, Any], theirs: dict[str, Any]
) -> SnapshotMerge:
    """Merge the editor's snapshot (``mine``) with the current one (``theirs``), both made from ``base``.

    Without a base (history unreadable), every difference counts as a conflict and the editor's value wins.
    """
    merged = dict(mine)
    conflicts: list[str] = []
    theirs_changed: list[str] = []
    for name in FIELD_LABELS:
        my_value, their_value = mine.get(name), theirs.get(name)
        if my_value == their_value:
            continue
        base_value = base.get(name) if base is not None else None
        if base is not None and my_value == base_value:
            merged[name] = their_value
            theirs_changed.append(name)
        elif base is not None and their_value == base_value:
            continue
        elif name in LIST_FIELDS and base is not None:
            # Apply my additions and removals to theirs.
            base_list, my_list = list(base_value or []), list(my_value or [])
            result = [v for v in their_value or [] if v in my_list or v not in base_list]
            result += [v for v in my_list if v not in base_list and v not in result]
            merged[name] = result
        elif name in MERGEABLE_TEXT and base is not None:
            text = merge_text(_as_text(base_value), _as_text(my_value), _as_text(their_value))
            merged[name] = text.text
            if text.conflicts:
                conflicts.append(name)
        else:
            conflicts.append(name)
    return SnapshotMerge(merged, conflicts, theirs_changed)


# --- Resolving a conflict field by field ----------------------------------------------------------

KEEP_MINE, KEEP_THEIRS, EDIT_BOTH = "mine", "theirs", "both"
MERGEABLE_TEXT = frozenset(article_fields.PROSE_FIELDS)


@dataclass
class FieldChoice:
    """One field that differs between the editor's save and the current version, and how to settle it.

    ``both`` is what the "Edit both" box starts with: the two versions combined without markers (text),
    or the union (lists), or the editor's value (single choices). ``suggested`` is the choice made for
    the editor when only one side changed the field, or None when both did and the editor must choose.
    """

    name: str
    label: str
    mine: Any
    theirs: Any
    both: Any
    suggested: str | None
    rows: list[DiffRow] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # list fields: only in theirs
    added: list[str] = field(default_factory=list)  # list fields: only in mine

    @property
    def is_list(self) -> bool:
        return self.name in LIST_FIELDS

    @property
    def clash(self) -> bool:
        return self.suggested is None


def conflict_choices(
    base: dict[str, Any] | None,
    mine: dict[str, Any],
    theirs: dict[str, Any],
    *,
    context: int = 3,
    fields: tuple[str, ...] | None = None,
) -> list[FieldChoice]:
    """Every field (of ``fields``, default all) where ``mine`` and ``theirs`` differ, in form order, with
    a comparison whose unchanged lines are collapsed to ``context`` around each change."""
    wanted = fields if fields is not None else tuple(FIELD_LABELS)
    merged = merge_snapshots(base, mine, theirs)
    choices = []
    for name in wanted:
        my_value, their_value = mine.get(name), theirs.get(name)
        if (my_value or None) == (their_value or None):
            continue
        base_value = base.get(name) if base is not None else None
        if base is not None and (my_value or None) == (base_value or None):
            suggested: str | None = KEEP_THEIRS
        elif base is not None and (their_value or None) == (base_value or None):
            suggested = KEEP_MINE
        elif name in LIST_FIELDS and base is not None:
            suggested = EDIT_BOTH  # additions and removals from both sides applied together
        elif name in MERGEABLE_TEXT and base is not None and name not in merged.conflicts:
            suggested = EDIT_BOTH  # both changed different lines: the merge holds both
        else:
            suggested = None
        choice = FieldChoice(
            name,
            FIELD_LABELS[name],
            my_value,
            their_value,
            _both(name, base_value, my_value, their_value, base is not None),
            suggested,
        )
        if name in LIST_FIELDS:
            mine_list, their_list = list(my_value or []), list(their_value or [])
            choice.removed = [v for v in their_list if v not in mine_list]
            choice.added = [v for v in mine_list if v not in their_list]
            if not choice.removed and not choice.added:
                choice.rows = compare_text(_as_text(their_list), _as_text(mine_list))
        else:
            choice.rows = compare_text(_as_text(their_value), _as_text(my_value), context=context)
        choices.append(choice)
    return choices


def _both(name: str, base: Any, mine: Any, theirs: Any, have_base: bool) -> Any:
    if name in LIST_FIELDS:
        if have_base:
            base_list, my_list = list(base or []), list(mine or [])
            result = [v for v in theirs or [] if v in my_list or v not in base_list]
            return result + [v for v in my_list if v not in base_list and v not in result]
        return list(dict.fromkeys([*(mine or []), *(theirs or [])]))
    if name in MERGEABLE_TEXT:
        if have_base:
            return merge_text(_as_text(base), _as_text(mine), _as_text(theirs), markers=False).text
        return "\n".join(part for part in (_as_text(mine), _as_text(theirs)) if part)
    return mine


def resolve(edited: dict[str, Any], choices: list[FieldChoice], picked: dict[str, str]) -> dict[str, Any]:
    """The snapshot to save: ``edited`` (the conflict form as sent, where "Edit both" boxes are the
    fields themselves) with each field set to the side the editor picked.

    A field with no pick keeps its suggestion; the caller refuses to save while a clash has neither.
    """
    result = dict(edited)
    for choice in choices:
        pick = picked.get(choice.name) or choice.suggested
        if pick == KEEP_MINE:
            result[choice.name] = choice.mine
        elif pick == KEEP_THEIRS:
            result[choice.name] = choice.theirs
    return result


def has_conflict_markers(text: str) -> bool:
    return any(line.strip() in {CONFLICT_START, CONFLICT_MIDDLE, CONFLICT_END} for line in _lines(text))
