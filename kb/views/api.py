"""The JSON API: search, type-ahead suggestions and single articles, with the same visibility as the site."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from kb.access import PUBLIC, access, reader_is_staff
from kb.models import Article
from kb.rendering import render_markdown
from kb.services import catalogue
from kb.services import search as search_service
from kb.services.search import IndexUnavailable, SearchQuery, SearchResults
from kb.views import search as search_page

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_PER_PAGE = 50
RETRY_AFTER_SECONDS = "30"


def _unavailable():
    return jsonify(error="search is being rebuilt", status=503), 503, {"Retry-After": RETRY_AFTER_SECONDS}


@bp.get("/search")
@access(PUBLIC)
@search_page.search_rate_limit
def search():
    """Answer a search as JSON; the parameters are those of /search, plus ``per_page`` (1 to 50)."""
    # html=1 (live search) adds the search page's changing parts, rendered as that page renders them:
    # the same page size, and links to that page rather than to the API.
    for_page = request.args.get("html") == "1"
    query = SearchQuery.from_args(
        request.args,
        endpoint="search.results" if for_page else "api.search",
        allow_per_page=0 if for_page else MAX_PER_PAGE,
    )
    try:
        found = search_service.search(query)
    except IndexUnavailable:
        return _unavailable()
    body = search_json(found)
    if for_page:
        body["html"] = search_page.live_regions(found)
    return jsonify(body)


@bp.get("/suggest")
@access(PUBLIC)
@search_page.suggest_rate_limit
def suggest():
    """Suggest capabilities whose title or acronym starts with what has been typed (type-ahead)."""
    text = request.args.get("q", "")
    try:
        suggestions = search_service.suggest(text if isinstance(text, str) else "")
    except IndexUnavailable:
        return _unavailable()
    return jsonify(suggestions=suggestions)


@bp.get("/articles/<slug>")
@access(PUBLIC)
def article(slug: str):
    """Return one article as JSON (internal articles and contacts only to signed-in staff)."""
    item = catalogue.readable_article(slug)
    if item is None:
        return jsonify(error="Page not found", status=404), 404
    return jsonify(article_json(item, related=search_service.related(item)))


def search_json(found: SearchResults) -> dict:
    return {
        "query": found.text,
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
        "pages": found.pages,
        "sort": found.sort,
        "results": [
            {
                "slug": hit.article.slug,
                "title": hit.article.title,
                "acronym": hit.article.acronym,
                "summary": hit.article.summary,
                "url": url_for("public.article", slug=hit.article.slug),
                "snippet": str(hit.snippet),
                "tags": [tag.slug for tag in hit.article.tags],
                "area": hit.article.area.slug,
                "roles": [role.slug for role in hit.article.role_types],
                "best_bet": hit.best_bet,
            }
            for hit in found.hits
        ],
        "facets": found.facets,
        "suggestion": found.suggestion,
        "corrected": found.corrected,
        "expanded": found.expanded,
        "truncated": found.truncated,
        "any_words": found.any_words,
    }


def article_json(item: Article, related: list[Article]) -> dict:
    contact = {"public": item.contact_public}
    if reader_is_staff() and item.contact_internal:
        contact["internal"] = item.contact_internal
    return {
        "slug": item.slug,
        "title": item.title,
        "acronym": item.acronym,
        "kind": item.kind,
        "summary": item.summary,
        "body": item.body,
        "body_html": str(render_markdown(item.body)),
        "url": url_for("public.article", slug=item.slug),
        "area": {"slug": item.area.slug, "name": item.area.name},
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in item.tags],
        "roles": [{"slug": role.slug, "name": role.name} for role in item.role_types],
        "partners": list(item.partners or []),
        "contact": contact,
        "visibility": item.visibility,
        "updated": item.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "related": [
            {"slug": other.slug, "title": other.title, "url": url_for("public.article", slug=other.slug)}
            for other in related
        ],
    }
