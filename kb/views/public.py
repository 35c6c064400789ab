"""The public site: home, capability pages, browsing by tag or area, the glossary, sitemap and robots."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from kb.access import PUBLIC, access, can_read
from kb.extensions import limiter
from kb.forms import FeedbackForm
from kb.models import Article, GlossaryTerm
from kb.services import capability_map, catalogue, insights, search
from kb.services.glossary import all_terms

bp = Blueprint("public", __name__)


@bp.get("/")
@access(PUBLIC)
def home() -> str:
    """Show the search box, the routes for candidates and for staff, roles, the directory and about pages."""
    return render_template(
        "public/home.html",
        directory=catalogue.directory(),
        pages=catalogue.pages(),
        roles=catalogue.role_types_with_articles(),
        apply_page=catalogue.readable_article(catalogue.HOW_TO_APPLY_SLUG),
        working_page=catalogue.readable_article(catalogue.WORKING_HERE_SLUG),
        gateway=catalogue.readable_article(catalogue.GATEWAY_SLUG),
        tasking_guide=catalogue.readable_article(catalogue.TASKING_GUIDE_SLUG),
    )


@bp.get("/map")
@access(PUBLIC)
def capability_map_page() -> str:
    """Show the capability map, with the directory as its text alternative."""
    directory = catalogue.directory()
    about = catalogue.readable_article(catalogue.ABOUT_UNIT_SLUG)
    maps = capability_map.capability_maps(
        directory,
        unit_url=url_for(".article", slug=about.slug) if about else url_for(".directory"),
        article_url=lambda item: url_for(".article", slug=item.slug),
        area_url=lambda area: url_for(".area", slug=area.slug),
    )
    return render_template("public/map.html", directory=directory, maps=maps)


@bp.get("/roles")
@access(PUBLIC)
def roles() -> str:
    """List every role type, whether officers, staff or both can hold it, and how many teams have it."""
    return render_template(
        "public/roles.html",
        roles=catalogue.role_types_with_articles(),
        apply_page=catalogue.readable_article(catalogue.HOW_TO_APPLY_SLUG),
    )


@bp.get("/roles/<slug>")
@access(PUBLIC)
def role(slug: str) -> str:
    """Show one role type: what it is, who can hold it, the capabilities that have it and how to apply."""
    found = catalogue.role_type_by_slug(slug) or abort(404)
    return render_template(
        "public/role.html",
        role=found,
        items=catalogue.readable_articles_with_role(found),
        roles=catalogue.role_types_with_articles(),
        apply_page=catalogue.readable_article(catalogue.HOW_TO_APPLY_SLUG),
    )


@bp.get("/capabilities")
@access(PUBLIC)
def directory() -> str:
    """List every readable capability, grouped by area."""
    return render_template("public/directory.html", directory=catalogue.directory(), pages=catalogue.pages())


@bp.get("/capabilities/<slug>")
@access(PUBLIC)
def article(slug: str) -> str:
    """Show one capability with its contact block, parent and child teams."""
    item = catalogue.readable_article(slug)
    if item is None:
        abort(404)
    insights.record_view(item, request.referrer)
    parent = item.parent if item.parent is not None and can_read(item.parent) else None
    return render_template(
        "public/article.html",
        article=item,
        parent=parent,
        children=catalogue.readable_children(item),
        related=search.related(item),
        feedback=insights.enabled(),
    )


def _feedback_limit() -> str:
    return current_app.config["FEEDBACK_RATE_LIMIT"]


@bp.route("/capabilities/<slug>/feedback", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_feedback_limit, methods=["POST"])
def feedback(slug: str) -> Response | str:
    """Answer "Was this page helpful?": the article's Yes/No buttons open this page, which takes an
    optional comment and sends the answer (POST, CSRF). Reading an article sets no cookie; only
    answering does."""
    item = catalogue.readable_article(slug)
    if item is None or not insights.enabled():
        abort(404)
    form = FeedbackForm() if request.method == "POST" else FeedbackForm(formdata=None)
    if request.method == "GET":
        form.helpful.data = request.args.get("helpful", "")
        if form.helpful.data not in {"yes", "no"}:
            return redirect(url_for(".article", slug=slug) + "#feedback", 303)
        return render_template("public/feedback.html", article=item, form=form)
    if not form.validate():
        return render_template("public/feedback.html", article=item, form=form)
    insights.record_feedback(item, helpful=form.helpful.data == "yes", comment=form.comment.data or "")
    flash("Thank you. Your answer helps us keep this page right.", "success")
    return redirect(url_for(".article", slug=slug) + "#feedback", 303)


@bp.get("/areas/<slug>")
@access(PUBLIC)
def area(slug: str) -> str:
    """List the readable capabilities of one area."""
    found = catalogue.area_by_slug(slug) or abort(404)
    items = catalogue.readable_articles(None, Article.area_id == found.id)
    return render_template("public/area.html", area=found, items=items, areas=catalogue.areas_with_articles())


@bp.get("/tags/<slug>")
@access(PUBLIC)
def tag(slug: str) -> str:
    """List the readable capabilities with one tag."""
    found = catalogue.tag_by_slug(slug) or abort(404)
    items = catalogue.readable_articles(None, Article.tags.any(id=found.id))
    return render_template("public/tag.html", tag=found, items=items, tags=catalogue.tags_with_counts())


@bp.get("/glossary")
@access(PUBLIC)
def glossary() -> str:
    """List every acronym and term in the glossary, linking teams to their pages."""
    groups = [
        (letter, [(entry, _other_names(entry)) for entry in entries])
        for letter, entries in groupby(all_terms(), key=_index_letter)
    ]
    return render_template("public/glossary.html", groups=groups, team_pages=catalogue.articles_by_acronym())


def _index_letter(entry: GlossaryTerm) -> str:
    first = entry.term[:1].upper()
    return first if first.isalpha() else "#"


def _other_names(entry: GlossaryTerm) -> list[str]:
    # Aliases are search synonyms; the term or its expansion again, or their plurals, add nothing here.
    repeats = {entry.term.lower(), entry.expansion.lower()} - {""}
    repeats |= {name + "s" for name in repeats}
    return [alias for alias in entry.aliases or [] if alias.lower() not in repeats]


@bp.get("/sitemap.xml")
@access(PUBLIC)
def sitemap() -> Response:
    """List the public pages for search engines: never an internal or unpublished article."""
    everyone = catalogue.anonymous_reader()
    xml = render_template(
        "public/sitemap.xml",
        articles=catalogue.readable_articles(everyone),
        areas=catalogue.areas_with_articles(everyone),
        tags=[tag for tag, _ in catalogue.tags_with_counts(everyone)],
    )
    return Response(xml, mimetype="application/xml")


@bp.get("/robots.txt")
@access(PUBLIC)
def robots() -> Response:
    """Tell crawlers where the sitemap is and keep them out of search results and signed-in pages."""
    return Response(render_template("public/robots.txt"), mimetype="text/plain")
