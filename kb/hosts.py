"""Which host the application answers to, and where its absolute URLs point.

The ``Host`` header is chosen by whoever sends the request, so nothing that leaves the site (the sitemap,
robots.txt, canonical and Open Graph URLs, the set-password link an admin passes on) may be built from it
unchecked. Three settings decide instead:

- ``KB_SERVER_NAME`` (Flask's ``SERVER_NAME``) and ``KB_PREFERRED_URL_SCHEME``: the public host and scheme.
  When the name is set, every absolute URL uses it and that scheme, whatever the request said.
- ``KB_TRUSTED_HOSTS`` (Flask's ``TRUSTED_HOSTS``): the names a request may carry; any other answers
  **400**. It always includes the server name; in development it defaults to ``localhost`` and
  ``127.0.0.1``, and ``*`` trusts any name (development only).
- ``KB_PROXY_FIX``: how many reverse proxies in front of the application set ``X-Forwarded-*`` headers
  (werkzeug's ``ProxyFix``). Off by default: without a proxy those headers come from the client.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1")
ANY_HOST = "*"
PROXY_FIX_KEYS = ("for", "proto", "host", "port", "prefix")
# A bare number N stands for the headers every common proxy sets: client address, scheme, host and port.
PROXY_FIX_NUMBER_KEYS = ("for", "proto", "host", "port")
UNTRUSTED_HOST_TITLE = "This site does not answer to that address"
# No URL can be built for a request whose host is refused, so this page needs none (and names no host).
UNTRUSTED_HOST_PAGE = f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{UNTRUSTED_HOST_TITLE}</title></head>
<body><main><h1>{UNTRUSTED_HOST_TITLE}</h1>
<p>The request named a host this server is not set up for. Check the address and try again.</p>
<p>Error 400</p></main></body></html>"""


class KnowledgeBaseApp(Flask):
    """Flask, but an absolute URL takes its scheme from the configuration once a server name is set.

    Flask already takes the host from ``SERVER_NAME``; without this the scheme would still be the
    request's, so a TLS-terminating proxy without ``KB_PROXY_FIX`` would publish ``http://`` links.
    """

    def url_for(self, endpoint: str, *, _scheme: str | None = None, _external: bool | None = None, **values):
        if _external and _scheme is None and self.config.get("SERVER_NAME"):
            _scheme = self.config["PREFERRED_URL_SCHEME"]
        return super().url_for(endpoint, _scheme=_scheme, _external=_external, **values)


def _host_only(name: str) -> str:
    return name.strip().lower().partition(":")[0]


def trusted_hosts(config: dict[str, Any], *, production: bool) -> list[str] | None:
    """The ``TRUSTED_HOSTS`` list the settings give (None: any host), always with the server name.

    :raise ValueError: ``*`` in production, or production with no name at all.
    """
    value = config.get("TRUSTED_HOSTS")
    if isinstance(value, str):
        value = value.split(",")
    names = [name.strip().lower() for name in value or () if str(name).strip()]
    if ANY_HOST in names:
        if production:
            raise ValueError("KB_TRUSTED_HOSTS=* is for development only; list the host names instead.")
        return None
    server_name = config.get("SERVER_NAME")
    if server_name:
        names.append(_host_only(server_name))
    if not names:
        if production:
            raise ValueError(
                "KB_ENV=production needs KB_SERVER_NAME (the public host name); "
                "refusing to start without one."
            )
        names = list(DEVELOPMENT_HOSTS)
    return list(dict.fromkeys(names))


def proxy_fix_counts(value: Any) -> dict[str, int] | None:
    """Turn ``KB_PROXY_FIX`` into ProxyFix arguments: ``1`` or ``for=1,proto=1,host=1``; None when off.

    :raise ValueError: an unknown header name or a count that is not a whole number from 0.
    """
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() in ("", "off")):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        hops = int(value)
        if hops < 0:
            raise ValueError("KB_PROXY_FIX must be a number of proxies (0 or more) or for=N,proto=N,...")
        return {f"x_{key}": hops for key in PROXY_FIX_NUMBER_KEYS} if hops else None
    counts: dict[str, int] = {}
    for part in str(value).split(","):
        key, _, number = part.partition("=")
        key, number = key.strip().lower(), number.strip()
        if key not in PROXY_FIX_KEYS or not number.isdigit():
            raise ValueError(
                f"KB_PROXY_FIX: {part.strip()!r} is not one of {', '.join(PROXY_FIX_KEYS)} "
                "with a count (e.g. for=1)."
            )
        counts[f"x_{key}"] = int(number)
    return counts if any(counts.values()) else None


def untrusted_host(exc: SecurityError):
    """Answer a request whose Host is not trusted: 400, with a page that builds no URL."""
    if request.path.startswith("/api/"):
        return {"error": UNTRUSTED_HOST_TITLE, "status": 400}, 400
    return UNTRUSTED_HOST_PAGE, 400, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Refuse untrusted hosts with a plain 400, and put werkzeug's ProxyFix in front of the application
    when ``KB_PROXY_FIX`` asks for it."""
    app.register_error_handler(SecurityError, untrusted_host)
    counts = app.config.get("PROXY_FIX_COUNTS")
    if counts:
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
