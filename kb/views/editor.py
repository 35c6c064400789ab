"""The HR editor: the article list, create and edit with preview and conflict protection, publishing,
history with diffs and restore, and the search index's health at ``/editor/...``."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.access import access
from kb.database import DatabaseBusy
from kb.forms import (
    STATUS_HINTS,
    VISIBILITY_HINTS,
    ActionForm,
    ArticleForm,
    DeleteArticleForm,
    EditorFilterForm,
    StewardshipForm,
    as_choices,
    parse_number,
)
from kb.models import Article, Kind, Revision, Status, User, UserRole, Visibility
from kb.services import articles, audit, conflicts, diffs, insights, reviews, search
from kb.services.articles import ArticleData, ArticleError, StaleVersionError
from kb.services.search import (
    IndexBusy,
    IndexNotWritable,
    IndexUnavailable,
    RebuildInProgress,
    SearchQuery,
)

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
        review_counts=reviews.counts(),
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
            if form.within_limits():
                preview = _preview(form.article_data(Kind.CAPABILITY.value), audience, None)
        elif form.validate():
            status = form.status_for(request.form.get("action", ""), None)
            try:
                article = articles.create_article(
                    form.article_data(Kind.CAPABILITY.value, status),
                    author=_user(),
                    note=form.note.data or "",
                )
            except ArticleError as exc:
                form.parent.errors = [*form.parent.errors, str(exc).rstrip(".")]
            except DatabaseBusy:
                return _busy(form, None)
            else:
                flash(_saved_message(article, created=True), "success")
                return redirect(url_for("editor.edit", slug=article.slug), 303)
    return _form_page(form, None, preview=preview)


def _form_page(
    form: ArticleForm, article: Article | None, stewardship: StewardshipForm | None = None, **extra
):
    """The article form page, with the owner and review form of an existing article."""
    if article is not None and stewardship is None:
        stewardship = _stewardship_form(article, formdata=None)
    return render_template(
        "editor/form.html", form=form, article=article, stewardship=stewardship, **_hints(), **extra
    )


def _stewardship_form(article: Article, **kwargs) -> StewardshipForm:
    owner = article.owner
    data = {"owner": owner.email if owner else "", "next_review_on": article.next_review_on}
    form = StewardshipForm(data=data, **kwargs)
    form.set_owners([(user.email, user.email) for user in reviews.owners()])
    return form


def _busy(form: ArticleForm, article: Article | None) -> tuple[str, int]:
    """Answer 503 with the editor's text still in the form: the database was locked or unreachable."""
    page = render_template("editor/form.html", form=form, article=article, busy=True, **_hints())
    return page, 503


def _hints() -> dict:
    return {"status_hints": STATUS_HINTS, "visibility_hints": VISIBILITY_HINTS}


def _saved_message(article: Article, *, created: bool = False) -> str:
    verb = "created" if created else "saved"
    if article.pending_revision is not None:
        return (
            f"Draft {verb}. Readers still see the published version of “{article.title}” "
            "until you publish it."
        )
    if article.status == Status.PUBLISHED and not search.caught_up():
        return (
            f"“{article.title}” {verb} and published; search will catch up "
            "(the search index could not be updated just now)."
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
        return _form_page(_edit_form_for(article), article)
    form = _article_form(article)
    audience = _wanted_preview()
    if audience:
        preview = (
            _preview(form.article_data(article.kind), audience, article) if form.within_limits() else None
        )
        return _form_page(form, article, preview=preview)
    expected = form.started_from_version
    if expected is None or expected != article.version:
        if expected is None or conflicts.differing_fields(
            article, form.article_data(article.kind).snapshot()
        ):
            return _conflict(article, form)
        expected = article.version  # the newer version changed nothing the form holds (a review, say)
    mine = conflicts.decode_mine(form.conflict_mine.data)
    if mine is not None:  # a save from the conflict page: apply the editor's choice for each field
        conflict = conflicts.open_conflict(article, mine, parse_number(form.conflict_base.data))
        picks = conflict.picks(request.form)
        form = _article_form(
            article, formdata=ArticleForm.formdata_with(request.form, conflict.chosen_values(picks))
        )
        valid = form.validate()
        if not valid or conflict.unresolved(picks):
            return _conflict_page(conflict, form, picks, 200)
    elif not form.validate():
        return _form_page(form, article)
    status = form.status_for(request.form.get("action", ""), article.status)
    try:
        articles.save_edit(
            article,
            form.article_data(article.kind, status),
            expected_version=expected,
            author=_user(),
            note=form.note.data or "",
        )
    except StaleVersionError as exc:
        return _conflict(exc.article, form)
    except DatabaseBusy:
        return _busy(form, article)
    except ArticleError as exc:
        form.parent.errors = [*form.parent.errors, str(exc).rstrip(".")]
        return _form_page(form, article)
    flash(_saved_message(article), "success")
    return redirect(url_for("editor.edit", slug=article.slug), 303)


def _conflict(article: Article, form: ArticleForm) -> tuple[str, int]:
    """Answer 409: each field that differs, with "Keep mine / Keep theirs / Edit both", nothing lost."""
    action = request.form.get("action", "")
    mine = form.article_data(article.kind, form.status_for(action, article.status)).snapshot()
    conflict = conflicts.open_conflict(article, mine, form.started_from_revision)
    merged = ArticleForm.form_data({**mine, **{c.name: c.both for c in conflict.choices}})
    merged["note"] = form.note.data or ""
    merged_form = _article_form(article, formdata=None, data=merged)
    return _conflict_page(conflict, merged_form, conflict.picks(None), 409)


def _conflict_page(conflict, form: ArticleForm, picks: dict[str, str], status: int) -> tuple[str, int]:
    latest = conflict.latest
    form.version.data = str(conflict.article.version)
    form.base_revision.data = str(latest.number if latest else "")
    form.conflict_mine.data = conflict.encoded_mine()
    form.conflict_base.data = str(conflict.base_number or "")
    missing = conflict.unresolved(picks) if status == 200 else []
    return (
        render_template(
            "editor/conflict.html",
            article=conflict.article,
            form=form,
            conflict=conflict,
            picks=picks,
            missing=missing,
            labels=diffs.FIELD_LABELS,
            latest=latest,
            mine=conflict.mine,
            **_hints(),
        ),
        status,
    )


def _deleted_while_editing() -> tuple[str, int]:
    """The article was deleted while someone edited it: offer their text as a new article, nothing lost."""
    form = _article_form(None)
    form.version.data = ""
    form.base_revision.data = ""
    return _form_page(form, None, deleted=True), 409


@bp.post("/preview")
@access(EDITOR)
def live_preview() -> str | tuple[str, int]:
    """Render the form's unsaved text with the real article page, as a candidate or staff would see it
    (``?as=candidate|staff``; ``slug`` names the article being edited). For the live preview frame."""
    audience = request.args.get("as", "candidate")
    audience = audience if audience in PREVIEW_AUDIENCES else "candidate"
    editing = articles.get_by_slug(request.args.get("slug", ""))
    form = _article_form(editing)
    data = form.article_data(editing.kind if editing else Kind.CAPABILITY.value)
    if not data.area:
        return render_template("editor/live_preview_hidden.html", problem="choose an area first."), 422
    if audience == "candidate" and data.visibility == Visibility.INTERNAL:
        return render_template("editor/live_preview_hidden.html")
    try:
        article, parent = articles.preview_article(data, exclude=editing)
    except ArticleError as exc:
        return render_template("editor/live_preview_hidden.html", problem=str(exc)), 422
    if parent is not None and audience == "candidate" and parent.visibility == Visibility.INTERNAL:
        parent = None
    return render_template(
        "public/article.html",
        article=article,
        parent=parent,
        children=[],
        related=[],
        feedback=None,
        reader_is_staff=audience == "staff",
        live_preview=True,
    )


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


# Pages an action may send the editor back to, besides the article (``return_to`` in the form).
RETURN_TO = {"editor.reviews_due"}


def _status_change(slug: str, change, done: str) -> Response | tuple[str, int]:
    article = _article_or_404(slug)
    form = ActionForm()
    back = request.form.get("return_to", "")
    after = url_for(back) if back in RETURN_TO else url_for("editor.edit", slug=slug)
    if form.started_from_version is None:  # no version seen: the page cannot vouch for what it showed
        return render_template("editor/stale_action.html", article=article), 409
    try:
        change(article, author=_user(), expected_version=form.started_from_version)
    except StaleVersionError:
        return render_template("editor/stale_action.html", article=article), 409
    except ArticleError as exc:
        flash(str(exc), "error")
        return redirect(after, 303)
    flash(done.format(title=article.title, next_review=article.next_review_on), "success")
    return redirect(after, 303)


@bp.post("/articles/<slug>/publish")
@access(EDITOR)
def publish(slug: str) -> Response | tuple[str, int]:
    """Publish the article (its pending draft, if any): readers and search see it at once."""
    return _status_change(slug, articles.publish, "“{title}” is published: readers and search see it now.")


# What each action that hides an article asks before it is done (GET shows it, POST does it).
CONFIRMATIONS = {
    "editor.unpublish": {
        "heading": "Unpublish “{title}”?",
        "effect": "Readers and search stop showing it at once. It stays here as a draft, with its history, "
        "and you can publish it again at any time.",
        "button": "Yes, unpublish it",
    },
    "editor.archive": {
        "heading": "Archive “{title}”?",
        "effect": "It is retired: hidden from readers and search at once, kept with its history. You can "
        "restore it from the archive later.",
        "button": "Yes, archive it",
    },
}


def _confirm(slug: str, endpoint: str) -> str:
    article = _article_or_404(slug)
    text = {key: value.format(title=article.title) for key, value in CONFIRMATIONS[endpoint].items()}
    return render_template("editor/confirm_action.html", article=article, endpoint=endpoint, text=text)


@bp.route("/articles/<slug>/unpublish", methods=["GET", "POST"])
@access(EDITOR)
def unpublish(slug: str) -> Response | str | tuple[str, int]:
    """Take the article off the public site and search, after confirmation; it stays as a draft."""
    if request.method == "GET":
        return _confirm(slug, "editor.unpublish")
    return _status_change(slug, articles.unpublish, "“{title}” is unpublished: it is a draft again.")


@bp.route("/articles/<slug>/archive", methods=["GET", "POST"])
@access(EDITOR)
def archive(slug: str) -> Response | str | tuple[str, int]:
    """Retire the article after confirmation: hidden from readers and search at once, restorable."""
    if request.method == "GET":
        return _confirm(slug, "editor.archive")
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


# --- Owners and reviews ---------------------------------------------------------------------------


@bp.post("/articles/<slug>/review")
@access(EDITOR)
def mark_reviewed(slug: str) -> Response | tuple[str, int]:
    """Record in one click that the article was checked and is still right (adds a revision note)."""
    return _status_change(
        slug,
        articles.mark_reviewed,
        "“{title}” is marked as reviewed. The next review is due {next_review:%-d %B %Y}.",
    )


@bp.post("/articles/<slug>/stewardship")
@access(EDITOR)
def stewardship(slug: str) -> Response | str:
    """Change the article's owner and next review date."""
    article = _article_or_404(slug)
    form = _stewardship_form(article)
    if not form.validate():
        return _form_page(_edit_form_for(article), article, stewardship=form)
    owner = next((u for u in reviews.owners() if u.email == form.owner.data), None)
    reviews.set_stewardship(article, owner=owner, next_review_on=form.next_review_on.data, by=_user())
    flash(f"Owner and review date of “{article.title}” saved.", "success")
    return redirect(url_for("editor.edit", slug=slug) + "#stewardship-heading", 303)


@bp.get("/reviews")
@access(EDITOR)
def reviews_due() -> str:
    """List the published articles overdue or due for review within 30 days, the viewer's own first."""
    return render_template(
        "editor/reviews.html",
        due=reviews.due_for_review(_user()),
        action_form=ActionForm(),
        feedback=insights.feedback_for_owners(viewer=_user()),
    )


# --- What readers look for -----------------------------------------------------------------------


@bp.get("/insights")
@access(EDITOR)
def insights_page() -> str:
    """Show what readers search for and read over 7, 30 or 90 days (queries only from k searches up)."""
    days = parse_number(request.args.get("days")) or 30
    glossary_link = "editor.glossary_new" in current_app.view_functions
    return render_template(
        "editor/insights.html",
        report=insights.insights(days),
        windows=insights.WINDOWS,
        glossary_link=glossary_link,
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
    except IndexNotWritable as exc:
        return _reindex_refused(f"The index was not rebuilt: {exc}. Nothing in the database changed.", 503)
    except IndexBusy:
        return _reindex_refused(
            "The index was not rebuilt: its writer stayed busy. Try again in a minute.", 503
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
    except IndexUnavailable:
        return _reindex_refused("There is no usable index to repair. Rebuild it instead.")
    except IndexBusy:
        return _reindex_refused(
            "Nothing was repaired: the index is busy being written (a save or a rebuild). "
            "Try again in a minute.",
            503,
        )
    except IndexNotWritable as exc:
        return _reindex_refused(f"Nothing was repaired: {exc}.", 503)
    audit.record_now("index.repair", user=_user(), articles=len(repaired))
    if repaired:
        flash(f"Index repaired: {len(repaired)} re-indexed ({', '.join(repaired[:10])}).", "success")
    else:
        flash("Nothing to repair: the index already matches the database.", "success")
    return redirect(url_for("editor.reindex"), 303)


def _reindex_refused(message: str, status: int = 409) -> tuple[str, int]:
    return (
        render_template(
            "editor/reindex.html", health=search.index_health(), form=ActionForm(), refused=message
        ),
        status,
    )


# The glossary's pages are routes of this blueprint, in their own module.
from kb.views import glossary_editor  # noqa: E402, F401
