"""The search page: results with facets, or every visible capability when no words are given."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from kb.access import PUBLIC, access
from kb.extensions import limiter
from kb.services import insights
from kb.services import search as search_service
from kb.services.search import IndexUnavailable, SearchQuery, SearchResults

bp = Blueprint("search", __name__)

# What the sort control offers, in order; "relevance" only makes sense when words were given.
SORT_OPTIONS = (("relevance", "Best match"), ("title", "Title (A to Z)"), ("updated", "Recently updated"))
RETRY_AFTER_SECONDS = "30"
# The parts of search/results.html that change with the search, by the name live search knows them by.
LIVE_REGIONS = {
    "title": "title",
    "notices": "search_notices",
    "filter_count": "search_filter_count",
    "facets": "search_facets",
    "results": "search_results",
}


def _signed_in() -> bool:
    return current_user.is_authenticated


# Anonymous readers get a generous per-address budget shared by /search and /api/search (and another for
# type-ahead); past it, 429 with Retry-After. Signed-in staff are never limited.
search_rate_limit = limiter.shared_limit(
    lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search", exempt_when=_signed_in
)
suggest_rate_limit = limiter.shared_limit(
    lambda: current_app.config["SUGGEST_RATE_LIMIT"], scope="suggest", exempt_when=_signed_in
)


@bp.get("/search")
@access(PUBLIC)
@search_rate_limit
def results():
    """Show search results with facet filters; with no words, browse everything the reader may see."""
    query = SearchQuery.from_args(request.args)
    try:
        found = search_service.search(query)
    except IndexUnavailable:
        page = render_template("search/unavailable.html", text=query.text)
        return page, 503, {"Retry-After": RETRY_AFTER_SECONDS}
    insights.record_search(query, found)
    return render_template("search/results.html", results=found, sort_options=SORT_OPTIONS)


def live_regions(found: SearchResults) -> dict[str, str]:
    """Render only the parts of the search page that change with the search, for live search.

    They are the page template's own blocks, so the page updated in place shows exactly what a reader
    without JavaScript gets from the server.
    """
    template = current_app.jinja_env.get_template("search/results.html")
    context = {"results": found, "sort_options": SORT_OPTIONS, "text": found.text}
    current_app.update_template_context(context)
    blocks = template.new_context(context)
    return {name: "".join(template.blocks[block](blocks)) for name, block in LIVE_REGIONS.items()}
