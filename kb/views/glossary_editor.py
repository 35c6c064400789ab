"""The search vocabulary editors maintain, at ``/editor/glossary``: acronyms, slang and plain-language
terms, and best bets. Routes of the editor blueprint (``editor.glossary_*``); every change is audited and
searchable at once."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.access import access
from kb.extensions import db
from kb.forms import GLOSSARY_KIND_HINTS, ActionForm, GlossaryFilterForm, GlossaryForm
from kb.models import GlossaryTerm, UserRole
from kb.services import glossary
from kb.services.glossary import GlossaryError
from kb.views.editor import bp

EDITOR = UserRole.EDITOR.value


def _entry_or_404(entry_id: int) -> GlossaryTerm:
    return db.get_or_404(GlossaryTerm, entry_id)


@bp.get("/glossary")
@access(EDITOR)
def glossary_index() -> str:
    """List the glossary's entries; search them and filter by kind."""
    filters = GlossaryFilterForm(formdata=request.args)
    filters.validate()
    kind = filters.kind.data if filters.kind.data in glossary.KINDS else None
    text = (filters.q.data or "")[:200]
    entries = glossary.all_terms(kind=kind, text=text)
    return render_template(
        "editor/glossary/index.html",
        filters=filters,
        entries=entries,
        text=text,
        kind_labels=glossary.KIND_LABELS,
        delete_form=ActionForm(),
    )


def _save(entry: GlossaryTerm | None, form: GlossaryForm) -> GlossaryTerm | None:
    try:
        return glossary.save(
            entry,
            user=current_user._get_current_object(),
            term=form.term.data or "",
            kind=form.kind.data or "",
            expansion=form.expansion.data or "",
            aliases=form.alias_list,
            definition=form.definition.data or "",
            targets=form.target_list,
        )
    except GlossaryError as error:
        getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error)]
        return None


def _form_page(form: GlossaryForm, entry: GlossaryTerm | None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "editor/glossary/form.html", form=form, entry=entry, kind_hints=GLOSSARY_KIND_HINTS
    ), status


@bp.route("/glossary/new", methods=["GET", "POST"])
@access(EDITOR)
def glossary_new() -> Response | tuple[str, int]:
    """Add an entry; ``term`` and ``kind`` in the URL fill the form in (from search insights)."""
    form = GlossaryForm()
    if request.method == "GET":
        form.term.data = request.args.get("term", "")[:80].strip()
        kind = request.args.get("kind", "")
        form.kind.data = kind if kind in glossary.KINDS else None
    if form.validate_on_submit():
        entry = _save(None, form)
        if entry is not None:
            flash(f"Added {entry.term} to the glossary. Search uses it now.", "success")
            return redirect(url_for("editor.glossary_index"), 303)
    return _form_page(form, None, 400 if form.errors else 200)


@bp.route("/glossary/<int(max=2147483647):entry_id>/edit", methods=["GET", "POST"])
@access(EDITOR)
def glossary_edit(entry_id: int) -> Response | tuple[str, int]:
    """Change an entry."""
    entry = _entry_or_404(entry_id)
    form = GlossaryForm()
    if request.method == "GET":
        form.term.data = entry.term
        form.kind.data = entry.kind
        form.expansion.data = entry.expansion
        form.aliases.data = "\n".join(entry.aliases or [])
        form.targets.data = ", ".join(entry.targets or [])
        form.definition.data = entry.definition
    if form.validate_on_submit():
        saved = _save(entry, form)
        if saved is not None:
            flash(f"Saved {saved.term}. Search uses the change now.", "success")
            return redirect(url_for("editor.glossary_index"), 303)
        entry = _entry_or_404(entry_id)
    return _form_page(form, entry, 400 if form.errors else 200)


@bp.post("/glossary/<int(max=2147483647):entry_id>/delete")
@access(EDITOR)
def glossary_delete(entry_id: int) -> Response:
    """Remove an entry (the audit log keeps a record of it)."""
    entry = _entry_or_404(entry_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    term = entry.term
    glossary.delete(entry, user=current_user._get_current_object())
    flash(f"Removed {term} from the glossary.", "success")
    return redirect(url_for("editor.glossary_index"), 303)
