"""Browser security headers on every response: pages, error pages, redirects, JSON and static files.

The Content-Security-Policy allows scripts, styles, images, fonts and fetches from this site only, plus
inline ``<script>``/``<style>`` elements that carry this response's nonce (``nonce="{{ csp_nonce() }}"``).
Nothing else inline runs: no ``style="..."`` attributes, no ``on...=`` handlers, no ``javascript:`` URLs,
no ``eval``. The site may not be framed, forms post only to it, and ``<base>`` and plugins are refused.

A few lines of our own rather than Flask-Talisman: Talisman covers CSP (with nonces), HSTS, frame options
and Referrer-Policy, but not Cross-Origin-Opener-Policy or Cross-Origin-Resource-Policy, and by default it
redirects to HTTPS and sets the session cookie's ``Secure`` flag itself, both of which have to be turned
off here (TLS ends at the proxy, and cookie flags belong to ``kb/config.py``). What is left for it to do is
join a dict into a string and make a nonce, which is less than its configuration would take.

Views whose URL carries a secret (the set-password link) are marked with ``@no_referrer``, so neither the
page nor any error it answers tells another site, or this one, the address it came from.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from flask.wrappers import Response

View = TypeVar("View", bound=Callable)

REFERRER_POLICY = "strict-origin-when-cross-origin"
# Features the site never uses, switched off for it and for anything it might ever embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-create=(self), publickey-credentials-get=(self), "
    "screen-wake-lock=(), usb=(), "
    "xr-spatial-tracking=()"
)


def csp_nonce() -> str:
    """This response's CSP nonce (made on first use): put it on any inline ``<script>`` or ``<style>``."""
    # Kept on the request, not on ``g``: an application context can outlive one request (tests, CLI).
    nonce = getattr(request, "kb_csp_nonce", None)
    if nonce is None:
        nonce = request.kb_csp_nonce = secrets.token_urlsafe(18)  # type: ignore[attr-defined]
    return nonce


def content_security_policy(nonce: str) -> str:
    """The Content-Security-Policy header value for a response whose nonce is ``nonce``."""
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        # data: images cannot run code; a locally rendered QR code or icon may come as one.
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def no_referrer(view: View) -> View:
    """Mark a view whose URL carries a token: its responses, errors included, send no Referer.

    Put it directly under the route decorator, so that it marks the function the route calls.
    """
    view.referrer_policy = "no-referrer"  # type: ignore[attr-defined]
    return view


def _referrer_policy() -> str:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "referrer_policy", REFERRER_POLICY)


def set_security_headers(response: Response) -> Response:
    """Add the security headers to ``response``; a header a view has set itself is kept."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers that predate it
    headers.setdefault("Referrer-Policy", _referrer_policy())
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    hsts = current_app.config.get("HSTS")
    if current_app.config.get("ENV") == "production" and hsts:
        headers.setdefault("Strict-Transport-Security", hsts)
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_security_headers)
