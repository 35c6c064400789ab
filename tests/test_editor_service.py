"""The article service's publishing rules, and the diff and merge helpers behind history and conflicts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kb.access import readable_clause
from kb.extensions import db
from kb.models import Article, AuditEvent
from kb.services import articles, diffs
from kb.services.articles import ArticleData, ArticleError, StaleVersionError
from tests.conftest import examples


def _data(**overrides) -> ArticleData:
    base = {"title": "Test capability", "summary": "A test.", "body": "Body", "area": "intelligence"}
    base.update(overrides)
    return ArticleData(**base)


def _public_body(slug: str) -> str | None:
    """What an anonymous reader gets for this article (None: they cannot see it)."""
    db.session.expire_all()
    return db.session.scalar(select(Article.body).where(Article.slug == slug, readable_clause(None)))


# --- Pending drafts -------------------------------------------------------------------------------


def test_a_draft_of_a_published_article_changes_nothing_readers_see_until_published(app):
    article = articles.create_article(_data(body="Published text", status="published"))
    version = article.version
    articles.save_edit(
        article, _data(body="Draft text", status="draft"), expected_version=version, author=None, note="wip"
    )
    assert _public_body(article.slug) == "Published text"
    assert article.status == "published"
    assert article.pending_revision is not None
    assert articles.working_data(article).body == "Draft text"
    assert article.version == version + 1

    # A second draft save replaces the pending draft; readers still see the published text.
    articles.save_edit(
        article, _data(body="Draft two", status="draft"), expected_version=version + 1, author=None
    )
    assert _public_body(article.slug) == "Published text"
    assert articles.working_data(article).body == "Draft two"

    articles.publish(article, author=None, expected_version=article.version)
    assert _public_body(article.slug) == "Draft two"
    assert article.pending_revision is None
    assert [r.action for r in article.revisions] == ["create", "draft", "draft", "publish"]


def test_saving_a_published_article_as_published_goes_live_at_once(app):
    article = articles.create_article(_data(body="One", status="published"))
    articles.save_edit(article, _data(body="Two", status="published"), expected_version=1, author=None)
    assert _public_body(article.slug) == "Two"
    assert article.revisions[-1].action == "edit"


def test_publishing_with_changes_over_a_pending_draft_clears_it(app):
    article = articles.create_article(_data(body="One", status="published"))
    articles.save_edit(article, _data(body="Draft", status="draft"), expected_version=1, author=None)
    articles.save_edit(article, _data(body="Final", status="published"), expected_version=2, author=None)
    assert _public_body(article.slug) == "Final"
    assert article.pending_revision is None
    assert article.revisions[-1].action == "publish"


def test_unpublish_and_archive_fold_a_pending_draft_into_the_article(app):
    article = articles.create_article(_data(body="Live", status="published"))
    articles.save_edit(article, _data(body="Unfinished", status="draft"), expected_version=1, author=None)
    articles.unpublish(article, author=None, expected_version=2)
    assert _public_body(article.slug) is None
    assert (article.status, article.body, article.pending_revision) == ("draft", "Unfinished", None)

    articles.publish(article, author=None)
    articles.save_edit(
        article, _data(body="Another", status="draft"), expected_version=article.version, author=None
    )
    articles.archive(article, author=None, expected_version=article.version)
    assert _public_body(article.slug) is None
    assert (article.status, article.body, article.pending_revision) == ("archived", "Another", None)

    articles.unarchive(article, author=None, expected_version=article.version)
    assert (article.status, article.body) == ("draft", "Another")


def test_discarding_a_draft_keeps_it_in_the_history(app):
    article = articles.create_article(_data(body="Live", status="published"))
    articles.save_edit(article, _data(body="Not wanted", status="draft"), expected_version=1, author=None)
    articles.discard_draft(article, author=None, expected_version=2)
    assert article.pending_revision is None
    assert articles.working_data(article).body == "Live"
    assert [r.snapshot["body"] for r in article.revisions] == ["Live", "Not wanted", "Live"]
    with pytest.raises(ArticleError, match="no unpublished draft"):
        articles.discard_draft(article, author=None)


def test_restoring_on_a_published_article_makes_a_draft(app):
    article = articles.create_article(_data(body="First", status="published"))
    articles.save_edit(article, _data(body="Second", status="published"), expected_version=1, author=None)
    articles.restore_revision(article, article.revisions[0], author=None, expected_version=2)
    assert _public_body(article.slug) == "Second"
    assert articles.working_data(article).body == "First"
    assert article.revisions[-1].action == "restore"
    assert article.revisions[-1].note == "Restored revision 1"


def test_restoring_keeps_the_current_status(app):
    article = articles.create_article(_data(body="First", status="published"))
    articles.archive(article, author=None)
    articles.restore_revision(article, article.revisions[0], author=None)
    assert (article.status, article.body) == ("archived", "First")


def test_every_status_action_checks_the_version(app):
    article = articles.create_article(_data(status="published"))
    for action in (articles.publish, articles.unpublish, articles.archive, articles.unarchive):
        with pytest.raises(StaleVersionError):
            action(article, author=None, expected_version=article.version - 1 or 99)
    with pytest.raises(StaleVersionError):
        articles.save_edit(article, _data(), expected_version=99, author=None)


def test_a_pending_draft_with_bad_data_is_refused_before_anything_is_written(app):
    article = articles.create_article(_data(status="published"))
    with pytest.raises(ArticleError, match="tag"):
        articles.save_edit(
            article, _data(tags=["no-such-tag"], status="draft"), expected_version=1, author=None
        )
    db.session.rollback()
    db.session.refresh(article)
    assert article.version == 1 and article.pending_revision is None


def test_deleting_an_article_with_a_pending_draft(app):
    article = articles.create_article(_data(status="published"))
    articles.save_edit(article, _data(body="draft", status="draft"), expected_version=1, author=None)
    articles.delete_article(article, author=None)
    assert articles.get_by_slug(article.slug) is None
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "article.delete")).target
        == article.slug
    )


def test_every_change_is_audited_with_its_action(app):
    article = articles.create_article(_data(status="published"))
    articles.save_edit(article, _data(body="draft", status="draft"), expected_version=1, author=None)
    articles.publish(article, author=None)
    articles.archive(article, author=None)
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == article.slug)))
    assert actions == ["article.create", "article.draft", "article.publish", "article.archive"]


def test_editor_listing_filters_and_keeps_a_search_order(app):
    all_rows = articles.editor_listing()
    assert len(all_rows.articles) == db.session.query(Article).count()
    assert set(all_rows.last_change) == {a.id for a in all_rows.articles}
    draft = articles.create_article(_data(title="Zebra draft"))
    drafts = articles.editor_listing(statuses=["draft"])
    assert [a.slug for a in drafts.articles] == [draft.slug]
    econ = articles.editor_listing(areas=["economic-crime"], visibilities=["public"])
    assert econ.articles and all(a.area.slug == "economic-crime" for a in econ.articles)
    ids = [a.id for a in all_rows.articles[:3]][::-1]
    assert [a.id for a in articles.editor_listing(ids=ids).articles] == ids
    assert [a.slug for a in articles.editor_listing(text="zebra").articles] == [draft.slug]


# --- Diffs ----------------------------------------------------------------------------------------


def test_compare_text_pairs_changed_lines_and_marks_words():
    rows = diffs.compare_text("alpha beta\nsame\ngone", "alpha gamma beta\nsame\nnew line\nmore")
    kinds = [row.kind for row in rows]
    assert kinds == ["changed", "equal", "changed", "added"]
    changed_words = [seg.text for seg in rows[0].right if seg.changed]
    assert "".join(changed_words).strip() == "gamma"
    assert not any(seg.changed for seg in rows[0].left)  # nothing was removed from that line
    assert rows[3].left is None and rows[3].right_number == 4


def test_compare_text_keeps_context_only_around_changes():
    old = "\n".join(f"line {n}" for n in range(50))
    new = old.replace("line 25", "line twenty-five")
    rows = diffs.compare_text(old, new, context=2)
    assert [row.left_number for row in rows] == [None, 24, 25, 26, 27, 28, None]
    assert [(rows[0].kind, rows[0].hidden), (rows[-1].kind, rows[-1].hidden)] == [("gap", 23), ("gap", 22)]


def test_compare_snapshots_names_changed_fields_in_form_order():
    old = _data(title="A", tags=["cyber"], body="x").snapshot()
    new = _data(title="B", tags=["cyber", "fraud"], body="x").snapshot()
    changes = diffs.compare_snapshots(old, new)
    assert [c.name for c in changes] == ["title", "tags"]
    assert changes[1].added == ["fraud"] and changes[1].removed == []


def test_crlf_from_browsers_is_not_a_difference():
    assert all(row.kind == "equal" for row in diffs.compare_text("a\nb", "a\r\nb"))


# --- Three-way merge ------------------------------------------------------------------------------


def test_changes_on_different_lines_merge_cleanly():
    base = "one\ntwo\nthree\nfour"
    merged = diffs.merge_text(base, "zero\none\ntwo\nthree\nfour", "one\ntwo\nthree\nfour\nfive")
    assert merged.conflicts == 0
    assert merged.text == "zero\none\ntwo\nthree\nfour\nfive"


def test_changes_to_the_same_lines_keep_both_between_markers():
    merged = diffs.merge_text("one\ntwo\nthree", "one\nmine\nthree", "one\ntheirs\nthree")
    assert merged.conflicts == 1
    assert merged.text.split("\n") == [
        "one",
        diffs.CONFLICT_START,
        "mine",
        diffs.CONFLICT_MIDDLE,
        "theirs",
        diffs.CONFLICT_END,
        "three",
    ]
    assert diffs.has_conflict_markers(merged.text)


def test_snapshot_merge_takes_each_side_where_only_it_changed():
    base = _data(title="Base", summary="Same", tags=["cyber"], body="a\nb\nc").snapshot()
    mine = _data(title="Base", summary="My summary", tags=["cyber", "fraud"], body="a\nb\nc\nmine").snapshot()
    theirs = _data(title="Their title", summary="Same", tags=[], body="theirs\na\nb\nc").snapshot()
    result = diffs.merge_snapshots(base, mine, theirs)
    assert result.conflicts == []
    assert result.data["title"] == "Their title"
    assert result.data["summary"] == "My summary"
    assert result.data["tags"] == ["fraud"]
    assert result.data["body"] == "theirs\na\nb\nc\nmine"
    assert result.theirs_changed == ["title"]


def test_snapshot_merge_without_a_base_keeps_the_editors_values_and_names_the_clashes():
    mine = _data(title="Mine").snapshot()
    theirs = _data(title="Theirs").snapshot()
    result = diffs.merge_snapshots(None, mine, theirs)
    assert result.data["title"] == "Mine" and result.conflicts == ["title"]


lines = st.lists(st.sampled_from(["a", "b", "c", "d", "e", ""]), max_size=8).map("\n".join)


@settings(max_examples=examples(300), deadline=None)
@given(base=lines, mine=lines, theirs=lines)
def test_a_merge_never_loses_a_line_either_side_added(base, mine, theirs):
    """Whatever the edits, every line the editor or their colleague wrote is in the merge."""
    merged = diffs.merge_text(base, mine, theirs)
    out = merged.text.split("\n") if merged.text else []
    for side in (mine, theirs):
        for line in side.split("\n") if side else []:
            if line not in (base.split("\n") if base else []):
                assert line in out
    if mine == theirs:
        assert merged.text == mine and merged.conflicts == 0
    if mine == base:
        assert merged.text == theirs
    if theirs == base:
        assert merged.text == mine


def test_the_form_shows_lists_one_per_line():
    from kb.forms import ArticleForm

    values = ArticleForm.form_data(_data(partners=["Thames Valley Police", "NCA"], parent=None))
    assert values["partners"] == "Thames Valley Police\nNCA" and values["parent"] == ""


@settings(max_examples=examples(300), deadline=None)
@given(base=lines, mine=lines, theirs=lines)
def test_edit_both_starts_with_every_line_either_side_wrote_and_no_marker(base, mine, theirs):
    """The "Edit both" box of a conflict holds both versions' new lines, and never a marker line."""
    choices = diffs.conflict_choices(
        _data(body=base).snapshot(), _data(body=mine).snapshot(), _data(body=theirs).snapshot()
    )
    both = {c.name: c for c in choices}.get("body")
    if (mine or None) == (theirs or None):
        assert both is None
        return
    out = both.both.split("\n") if both.both else []
    assert not diffs.has_conflict_markers(both.both)
    for side in (mine, theirs):
        for line in side.split("\n") if side else []:
            if line not in (base.split("\n") if base else []):
                assert line in out
    picked = diffs.resolve({"body": "edited"}, choices, {"body": diffs.KEEP_THEIRS})
    assert picked["body"] == theirs


def test_conflict_choices_suggest_the_side_that_changed_and_leave_clashes_open():
    base = _data(title="Base", summary="Same", body="a").snapshot()
    mine = _data(title="Base", summary="Mine", body="b").snapshot()
    theirs = _data(title="Theirs", summary="Same", body="c").snapshot()
    choices = {c.name: c for c in diffs.conflict_choices(base, mine, theirs)}
    assert {name: c.suggested for name, c in choices.items()} == {
        "title": diffs.KEEP_THEIRS,
        "summary": diffs.KEEP_MINE,
        "body": None,
    }
    assert choices["body"].clash and choices["body"].both == "b\nc"
