"""The search page: results with facets, or every visible capability when no words are given."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from kb.access import PUBLIC, access
from kb.services import search as search_service
from kb.services.search import IndexUnavailable, SearchQuery

bp = Blueprint("search", __name__)

# What the sort control offers, in order; "relevance" only makes sense when words were given.
SORT_OPTIONS = (("relevance", "Best match"), ("title", "Title (A to Z)"), ("updated", "Recently updated"))
RETRY_AFTER_SECONDS = "30"


@bp.get("/search")
@access(PUBLIC)
def results():
    """Show search results with facet filters; with no words, browse everything the reader may see."""
    query = SearchQuery.from_args(request.args)
    try:
        found = search_service.search(query)
    except IndexUnavailable:
        page = render_template("search/unavailable.html", text=query.text)
        return page, 503, {"Retry-After": RETRY_AFTER_SECONDS}
    return render_template("search/results.html", results=found, sort_options=SORT_OPTIONS)
