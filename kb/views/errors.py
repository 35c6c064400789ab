"""Error pages: friendly, with a way on, and never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request, url_for
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from kb.database import DatabaseBusy

MESSAGES = {
    400: (
        "Something went wrong with that request",
        "The form may have expired. Go back, reload the page and try again; "
        "what you typed is still in your browser.",
    ),
    403: ("You do not have access to this page", "Your account does not have permission to see it."),
    404: (
        "Page not found",
        "If you typed the address, check it is correct. You can search for what you need instead.",
    ),
    405: ("That action is not allowed here", "Go back and try again."),
    413: ("That was too large to accept", "Shorten what you entered and try again."),
    429: (
        "Too many requests",
        "You have sent a lot of requests in a short time. Wait a minute, then try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved twice.",
    ),
    503: ("The service is busy", "Please try again in a minute."),
}

# Used when even the error template cannot be rendered (for example the database is down and the page
# header needs the signed-in user): plain HTML that needs nothing but the stylesheet.
FALLBACK_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - SEROCU Capability Knowledge Base</title>{stylesheet}</head>
<body><header class="site-header"><div class="wrap site-header__inner">
<a class="site-name" href="/"><span class="site-name__unit">SEROCU</span>
<span class="site-name__product">Capability Knowledge Base</span></a></div></header>
<main id="main" class="wrap site-main"><div class="error-page"><h1>{title}</h1><p class="lead">{message}</p>
<p><a href="/">Go to the home page</a></p><p class="error-page__code">Error {code}</p></div></main>
</body></html>"""


def render_error(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    title, message = title or default_title, message or default_message
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": title, "status": code}, code
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # the error page must not fail in turn: answer with the plain page
        current_app.logger.exception("The error page for %s could not be rendered", code)
        return _fallback_page(code, title, message), code


def _fallback_page(code: int, title: str, message: str) -> str:
    try:
        stylesheet = f'<link rel="stylesheet" href="{escape(url_for("static", filename="site.css"))}">'
    except Exception:
        stylesheet = ""
    return FALLBACK_PAGE.format(
        title=escape(title), message=escape(message), code=code, stylesheet=stylesheet
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_error(exc.code or 500, None, None)

    @app.errorhandler(DatabaseBusy)
    def database_busy(exc: DatabaseBusy):
        return render_error(503, "The database is busy", "Nothing was saved. Please try again in a moment.")

    @app.errorhandler(OperationalError)
    def database_unreachable(exc: OperationalError):
        app.logger.warning("Database unavailable on %s: %s", request.path, exc.orig)
        return render_error(503, "The database is busy", "Please try again in a moment.")

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500)
