"""The public site: home, capability pages and browsing by tag or area."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from kb.access import PUBLIC, access, can_read
from kb.models import Article
from kb.services import catalogue

bp = Blueprint("public", __name__)


@bp.get("/")
@access(PUBLIC)
def home() -> str:
    """Show the search box and the capability directory grouped by area."""
    return render_template("public/home.html", directory=catalogue.directory(), pages=catalogue.pages())


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
    parent = item.parent if item.parent is not None and can_read(item.parent) else None
    return render_template(
        "public/article.html", article=item, parent=parent, children=catalogue.readable_children(item)
    )


@bp.get("/areas/<slug>")
@access(PUBLIC)
def area(slug: str) -> str:
    """List the readable capabilities of one area."""
    found = catalogue.area_by_slug(slug) or abort(404)
    items = catalogue.readable_articles(None, Article.area_id == found.id)
    return render_template(
        "public/browse.html", heading=found.name, description=found.description, items=items
    )


@bp.get("/tags/<slug>")
@access(PUBLIC)
def tag(slug: str) -> str:
    """List the readable capabilities with one tag."""
    found = catalogue.tag_by_slug(slug) or abort(404)
    items = catalogue.readable_articles(None, Article.tags.any(id=found.id))
    return render_template("public/browse.html", heading=f"Tagged {found.name}", description="", items=items)
