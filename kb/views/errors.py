"""Error pages: friendly, with a way on, and never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

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
    429: ("Too many attempts", "Please wait a few minutes before trying again."),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you entered has been saved twice.",
    ),
    503: ("The service is busy", "Please try again in a minute."),
}


def render_error(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": title or default_title, "status": code}, code
    return render_template(
        "errors/error.html", code=code, title=title or default_title, message=message or default_message
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_error(exc.code or 500, None, None)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        app.logger.exception("Unhandled error on %s", request.path)
        return render_error(500)
