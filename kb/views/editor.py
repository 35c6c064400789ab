"""The HR editor: the article list, create and edit with preview and conflict protection, publishing,
history with diffs and restore, and the search index's health at ``/editor/...``."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.access import access
from kb.forms import (
    STATUS_HINTS,
    VISIBILITY_HINTS,
    ActionForm,
    ArticleForm,
    DeleteArticleForm,
    EditorFilterForm,
    as_choices,
    parse_number,
)
from kb.models import Article, Kind, Revision, Status, User, UserRole, Visibility
from kb.services import articles, audit, diffs, search
from kb.services.articles import ArticleData, ArticleError, StaleVersionError
from kb.services.search import IndexUnavailable, RebuildInProgress, SearchQuery

bp = Blueprint("editor", __name__, url_prefix="/editor")

EDITOR = UserRole.EDITOR.value
ADMIN = UserRole.ADMIN.value
PREVIEW_AUDIENCES = {"candidate": "a candidate", "staff": "signed-in staff"}
# The editor list shows every match on one page; the unit has tens of articles, not thousands.
EDITOR_SEARCH_LIMIT = 1000


def _user() -> User:
    return current_user._get_current_object()


def _article_or_404(slug: str) -> Article:
    return articles.get_by_slug(slug) or abort(404)


def _article_form(article: Article | None, **kwargs) -> ArticleForm:
    form = ArticleForm(**kwargs)
    vocab = articles.vocabulary(exclude=article)
    form.set_vocabulary(vocab.areas, vocab.tags, vocab.roles, vocab.parents)
    return form


@dataclass
class Preview:
    """An article as one audience would see it on the public page, built from unsaved or saved data."""

    audience: str  # "candidate" or "staff"
    data: ArticleData
    names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def audience_label(self) -> str:
        return PREVIEW_AUDIENCES[self.audience]

    @property
    def hidden_from_audience(self) -> bool:
        return self.audience == "candidate" and self.data.visibility == Visibility.INTERNAL

    def name(self, kind: str, slug: str | None) -> str:
        return self.names.get(kind, {}).get(slug or "", slug or "")


def _preview(data: ArticleData, audience: str, article: Article | None) -> Preview:
    return Preview(audience, data, articles.vocabulary(exclude=article).names())


# --- The list -------------------------------------------------------------------------------------


@bp.get("/")
@access(EDITOR)
def index() -> str:
    """List every article with status, visibility, last change and author; filter and search."""
    filters = EditorFilterForm(formdata=request.args)
    vocab = articles.vocabulary()
    filters.area.choices = as_choices([("", "All areas"), *vocab.areas])
    filters.validate()
    text = (filters.q.data or "")[:200]
    statuses, areas = filters.selected("status"), filters.selected("area")
    ids, search_unavailable = _search_ids(text, statuses, areas)
    listing = articles.editor_listing(
        statuses=statuses,
        visibilities=filters.selected("visibility"),
        areas=areas,
        text=text,
        ids=ids,
    )
    return render_template(
        "editor/index.html",
        filters=filters,
        listing=listing,
        text=text,
        ranked=ids is not None,
        search_unavailable=search_unavailable,
    )


def _search_ids(text: str, statuses: list[str], areas: list[str]) -> tuple[list[int] | None, bool]:
    """Ids of the articles matching ``text`` in relevance order, through the search service with the
    editor's visibility (every status), and whether the index was unavailable.

    No words: None (the list is filtered in SQL alone). Index unavailable: None and True, and the list
    falls back to a plain substring match so the editor can still find their article.
    """
    if not text:
        return None, False
    query = SearchQuery(
        text=text,
        statuses=tuple(statuses),
        areas=tuple(areas),
        per_page=EDITOR_SEARCH_LIMIT,
        sort="relevance",
    )
    try:
        results = search.search(query, _user(), scope="editor")
    except IndexUnavailable:
        return None, True
    return [hit.article.id for hit in results.hits], False


# --- Create and edit ------------------------------------------------------------------------------


def _wanted_preview() -> str | None:
    action = request.form.get("action", "")
    audience = action.removeprefix("preview-")
    return audience if action.startswith("preview-") and audience in PREVIEW_AUDIENCES else None


@bp.route("/articles/new", methods=["GET", "POST"])
@access(EDITOR)
def new() -> Response | str | tuple[str, int]:
    """Create an article."""
    form = _article_form(None, data={"visibility": Visibility.PUBLIC.value, "status": Status.DRAFT.value})
    preview = None
    if request.method == "POST":
        audience = _wanted_preview()
        if audience:
            preview = _preview(form.article_data(Kind.CAPABILITY.value), audience, None)
        elif form.validate():
            try:
                article = articles.create_article(
                    form.article_data(Kind.CAPABILITY.value), author=_user(), note=form.note.data or ""
                )
            except ArticleError as exc:
                form.parent.errors = [*form.parent.errors, str(exc).rstrip(".")]
            else:
                flash(_saved_message(article, created=True), "success")
                return redirect(url_for("editor.edit", slug=article.slug), 303)
    return render_template("editor/form.html", form=form, article=None, preview=preview, **_hints())


def _hints() -> dict:
    return {"status_hints": STATUS_HINTS, "visibility_hints": VISIBILITY_HINTS}


def _saved_message(article: Article, *, created: bool = False) -> str:
    verb = "created" if created else "saved"
    if article.pending_revision is not None:
        return (
            f"Draft {verb}. Readers still see the published version of “{article.title}” "
            "until you publish it."
        )
    if article.status == Status.PUBLISHED:
        return f"“{article.title}” {verb} and published: readers and search see it now."
    if article.status == Status.ARCHIVED:
        return f"“{article.title}” {verb}. It is archived: hidden from readers and search."
    return f"“{article.title}” {verb} as a draft. Readers do not see it until it is published."


def _edit_form_for(article: Article) -> ArticleForm:
    data = ArticleForm.form_data(articles.working_data(article))
    latest = articles.latest_revision(article)
    data.update(version=str(article.version), base_revision=str(latest.number if latest else ""), note="")
    return _article_form(article, formdata=None, data=data)


@bp.route("/articles/<slug>/edit", methods=["GET", "POST"])
@access(EDITOR)
def edit(slug: str) -> Response | str | tuple[str, int]:
    """Edit an article; a save over a newer version answers 409 with both texts and a merge."""
    article = articles.get_by_slug(slug)
    if article is None:
        if request.method == "POST":
            return _deleted_while_editing()
        abort(404)
    if request.method == "GET":
        return render_template("editor/form.html", form=_edit_form_for(article), article=article, **_hints())
    form = _article_form(article)
    audience = _wanted_preview()
    if audience:
        preview = _preview(form.article_data(article.kind), audience, article)
        return render_template("editor/form.html", form=form, article=article, preview=preview, **_hints())
    if form.started_from_version is None or form.started_from_version != article.version:
        return _conflict(article, form)
    if not form.validate():
        return render_template("editor/form.html", form=form, article=article, **_hints())
    try:
        articles.save_edit(
            article,
            form.article_data(article.kind),
            expected_version=form.started_from_version,
            author=_user(),
            note=form.note.data or "",
        )
    except StaleVersionError as exc:
        return _conflict(exc.article, form)
    except ArticleError as exc:
        form.parent.errors = [*form.parent.errors, str(exc).rstrip(".")]
        return render_template("editor/form.html", form=form, article=article, **_hints())
    flash(_saved_message(article), "success")
    return redirect(url_for("editor.edit", slug=article.slug), 303)


def _conflict(article: Article, form: ArticleForm) -> tuple[str, int]:
    """Answer 409: the editor's text beside the current one, and a merged form to check and save again."""
    mine = form.article_data(article.kind).snapshot()
    theirs = articles.working_data(article).snapshot()
    base_number = form.started_from_revision
    base = articles.get_revision(article, base_number) if base_number else None
    merge = diffs.merge_snapshots(base.snapshot if base else None, mine, theirs)
    latest = articles.latest_revision(article)
    merged = ArticleForm.form_data(merge.data)
    merged.update(
        version=str(article.version),
        base_revision=str(latest.number if latest else ""),
        note=form.note.data or "",
    )
    merged_form = _article_form(article, formdata=None, data=merged)
    return (
        render_template(
            "editor/conflict.html",
            article=article,
            form=merged_form,
            merge=merge,
            changes=diffs.compare_snapshots(theirs, mine, context=None),
            labels=diffs.FIELD_LABELS,
            latest=latest,
            mine=mine,
            theirs=theirs,
            **_hints(),
        ),
        409,
    )


def _deleted_while_editing() -> tuple[str, int]:
    """The article was deleted while someone edited it: offer their text as a new article, nothing lost."""
    form = _article_form(None)
    form.version.data = ""
    form.base_revision.data = ""
    return render_template("editor/form.html", form=form, article=None, deleted=True, **_hints()), 409


@bp.get("/articles/<slug>/preview")
@access(EDITOR)
def preview(slug: str) -> str:
    """Show the article as a candidate or as staff would see it, pending draft included."""
    article = _article_or_404(slug)
    audience = request.args.get("as", "candidate")
    if audience not in PREVIEW_AUDIENCES:
        audience = "candidate"
    return render_template(
        "editor/preview.html",
        article=article,
        preview=_preview(articles.working_data(article), audience, article),
    )


# --- Publishing and retiring ----------------------------------------------------------------------


def _status_change(slug: str, change, done: str) -> Response | tuple[str, int]:
    article = _article_or_404(slug)
    form = ActionForm()
    if form.started_from_version is None:  # no version seen: the page cannot vouch for what it showed
        return render_template("editor/stale_action.html", article=article), 409
    try:
        change(article, author=_user(), expected_version=form.started_from_version)
    except StaleVersionError:
        return render_template("editor/stale_action.html", article=article), 409
    except ArticleError as exc:
        flash(str(exc), "error")
        return redirect(url_for("editor.edit", slug=slug), 303)
    flash(done.format(title=article.title), "success")
    return redirect(url_for("editor.edit", slug=slug), 303)


@bp.post("/articles/<slug>/publish")
@access(EDITOR)
def publish(slug: str) -> Response | tuple[str, int]:
    """Publish the article (its pending draft, if any): readers and search see it at once."""
    return _status_change(slug, articles.publish, "“{title}” is published: readers and search see it now.")


@bp.post("/articles/<slug>/unpublish")
@access(EDITOR)
def unpublish(slug: str) -> Response | tuple[str, int]:
    """Take the article off the public site and search; it stays as a draft."""
    return _status_change(slug, articles.unpublish, "“{title}” is unpublished: it is a draft again.")


@bp.post("/articles/<slug>/archive")
@access(EDITOR)
def archive(slug: str) -> Response | tuple[str, int]:
    """Retire the article: hidden from readers and search at once, restorable."""
    return _status_change(slug, articles.archive, "“{title}” is archived: hidden from readers and search.")


@bp.post("/articles/<slug>/unarchive")
@access(EDITOR)
def unarchive(slug: str) -> Response | tuple[str, int]:
    """Bring an archived article back as a draft."""
    return _status_change(
        slug, articles.unarchive, "“{title}” is back as a draft. Publish it when it is ready."
    )


@bp.post("/articles/<slug>/discard-draft")
@access(EDITOR)
def discard_draft(slug: str) -> Response | tuple[str, int]:
    """Drop the unpublished draft of a published article (it stays in the history)."""
    return _status_change(
        slug, articles.discard_draft, "The draft of “{title}” was discarded; it is still in the history."
    )


@bp.route("/articles/<slug>/delete", methods=["GET", "POST"])
@access(ADMIN)
def delete(slug: str) -> Response | str:
    """Delete an article and its history for good, after confirmation (admins only)."""
    article = _article_or_404(slug)
    form = DeleteArticleForm(article.slug)
    if form.validate_on_submit():
        title = article.title
        articles.delete_article(article, author=_user())
        flash(f"“{title}” was deleted for good. The audit log records it.", "success")
        return redirect(url_for("editor.index"), 303)
    return render_template("editor/delete.html", article=article, form=form)


# --- History --------------------------------------------------------------------------------------


def _revision_or_404(article: Article, number: int) -> Revision:
    return articles.get_revision(article, number) or abort(404)


@bp.get("/articles/<slug>/history")
@access(EDITOR)
def history(slug: str) -> str:
    """List the article's revisions, newest first, with view, compare and restore."""
    article = _article_or_404(slug)
    revisions = sorted(article.revisions, key=lambda r: r.number, reverse=True)
    return render_template(
        "editor/history.html",
        article=article,
        revisions=revisions,
        action_form=ActionForm(),
        live=_live_number(article),
    )


def _live_number(article: Article) -> int | None:
    """The newest revision whose text readers see now (None if the article is not published)."""
    if article.status != Status.PUBLISHED:
        return None
    shown = ArticleData.from_article(article).snapshot()
    for revision in sorted(article.revisions, key=lambda r: r.number, reverse=True):
        if ArticleData.from_snapshot(revision.snapshot).snapshot() == shown:
            return revision.number
    return None


@bp.get("/articles/<slug>/revisions/<int(max=2147483647):number>")
@access(EDITOR)
def revision(slug: str, number: int) -> str:
    """Show one revision as it was saved."""
    article = _article_or_404(slug)
    item = _revision_or_404(article, number)
    data = ArticleData.from_snapshot(item.snapshot)
    return render_template(
        "editor/revision.html",
        article=article,
        revision=item,
        data=data,
        names=articles.vocabulary().names(),
        labels=diffs.FIELD_LABELS,
        action_form=ActionForm(),
    )


@bp.get("/articles/<slug>/diff")
@access(EDITOR)
def diff(slug: str) -> str:
    """Compare any two revisions side by side (``?from=&to=`` revision numbers)."""
    article = _article_or_404(slug)
    numbers = [r.number for r in article.revisions]
    latest = max(numbers) if numbers else 0
    to_number = parse_number(request.args.get("to")) or latest
    from_number = parse_number(request.args.get("from")) or max(to_number - 1, 1)
    older, newer = _revision_or_404(article, from_number), _revision_or_404(article, to_number)
    return render_template(
        "editor/diff.html",
        article=article,
        older=older,
        newer=newer,
        numbers=sorted(numbers, reverse=True),
        changes=diffs.compare_snapshots(older.snapshot, newer.snapshot),
    )


@bp.post("/articles/<slug>/revisions/<int(max=2147483647):number>/restore")
@access(EDITOR)
def restore(slug: str, number: int) -> Response | tuple[str, int]:
    """Make an old revision's text current again (adds a revision; on a published article, as a draft)."""
    article = _article_or_404(slug)
    item = _revision_or_404(article, number)
    form = ActionForm()
    if form.started_from_version is None:
        return render_template("editor/stale_action.html", article=article), 409
    try:
        articles.restore_revision(article, item, author=_user(), expected_version=form.started_from_version)
    except StaleVersionError:
        return render_template("editor/stale_action.html", article=article), 409
    except ArticleError as exc:
        flash(f"Revision {number} cannot be restored: {exc}", "error")
        return redirect(url_for("editor.history", slug=slug), 303)
    if article.pending_revision is not None:
        flash(
            f"Revision {number} restored as a draft. Readers see the published version until you publish it.",
            "success",
        )
    else:
        flash(f"Revision {number} restored.", "success")
    return redirect(url_for("editor.history", slug=slug), 303)


# --- Search index ---------------------------------------------------------------------------------


@bp.get("/reindex")
@access(EDITOR)
def reindex() -> str:
    """Show the search index's health: documents in the database and the index, differences, last build."""
    return render_template("editor/reindex.html", health=search.index_health(), form=ActionForm())


@bp.post("/reindex")
@access(EDITOR)
def rebuild() -> Response | tuple[str, int]:
    """Rebuild the search index from the database, atomically; a rebuild already running is not restarted."""
    try:
        report = search.rebuild_index()
    except RebuildInProgress:
        return _reindex_refused(
            "A rebuild is already running, so another was not started. Reload this page to see when it ends."
        )
    audit.record_now("index.rebuild", user=_user(), documents=report.documents, seconds=report.seconds)
    flash(f"Index rebuilt: {report.documents} documents in {report.seconds:.2f} seconds.", "success")
    return redirect(url_for("editor.reindex"), 303)


@bp.post("/reindex/repair")
@access(EDITOR)
def repair() -> Response | tuple[str, int]:
    """Re-index only the articles whose indexed version differs from the database."""
    try:
        repaired = search.repair_index()
    except RebuildInProgress:
        return _reindex_refused("A rebuild is running; it will bring the index up to date. Reload this page.")
    except IndexUnavailable:
        return _reindex_refused("There is no usable index to repair. Rebuild it instead.")
    audit.record_now("index.repair", user=_user(), articles=len(repaired))
    if repaired:
        flash(f"Index repaired: {len(repaired)} re-indexed ({', '.join(repaired[:10])}).", "success")
    else:
        flash("Nothing to repair: the index already matches the database.", "success")
    return redirect(url_for("editor.reindex"), 303)


def _reindex_refused(message: str) -> tuple[str, int]:
    return (
        render_template(
            "editor/reindex.html", health=search.index_health(), form=ActionForm(), refused=message
        ),
        409,
    )


# The glossary's pages are routes of this blueprint, in their own module.
from kb.views import glossary_editor  # noqa: E402, F401
