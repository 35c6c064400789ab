"""Browser security headers on every response: each GET route (signed out and in), redirects, error
pages (400, 404, 405, 410, 429, 500, 503), the JSON API and static files. Headers are parsed, not matched
as text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from kb.extensions import db
from kb.indexing import sync
from kb.security import REFERRER_POLICY
from kb.services import users
from tests.conftest import PASSWORD, make_app
from tests.test_access import SAMPLE_ARGS

TEMPLATES = Path(__file__).resolve().parent.parent / "kb" / "templates"
HTML_TYPES = ("text/html",)
NONCE = re.compile(r"^'nonce-([A-Za-z0-9_-]{22,})'$")


def parse_csp(value: str) -> dict[str, list[str]]:
    """``default-src 'self'; img-src 'self'`` -> ``{"default-src": ["'self'"], "img-src": ["'self'"]}``."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            name = tokens[0].lower()
            assert name not in directives, f"directive {name} given twice"
            directives[name] = tokens[1:]
    return directives


def csp_nonce(response) -> str:
    """The nonce the response's script-src allows (and check that style-src allows the same one)."""
    csp = parse_csp(response.headers["Content-Security-Policy"])
    nonces = [m.group(1) for source in csp["script-src"] if (m := NONCE.match(source))]
    assert len(nonces) == 1, csp["script-src"]
    assert f"'nonce-{nonces[0]}'" in csp["style-src"]
    return nonces[0]


def assert_security_headers(
    response, *, where: str, production: bool = False, referrer: str = REFERRER_POLICY
):
    headers = response.headers
    assert len(headers.getlist("Content-Security-Policy")) == 1, where
    csp = parse_csp(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"], where
    for directive in ("script-src", "style-src"):
        sources = csp[directive]
        assert "'self'" in sources, where
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(sources), where
        assert [s for s in sources if s != "'self'" and not NONCE.match(s)] == [], (where, sources)
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'none'"], where
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["form-action"] == ["'self'"], where
    for directive, sources in csp.items():
        # Nothing from any other host, no wildcard, nothing unsafe: only this site, nonces, data: images.
        allowed = {"'self'", "'none'"} | ({"data:"} if directive == "img-src" else set())
        assert [s for s in sources if s not in allowed and not NONCE.match(s)] == [], (where, directive)
    csp_nonce(response)
    assert headers["X-Content-Type-Options"] == "nosniff", where
    assert headers["X-Frame-Options"] == "DENY", where
    assert headers["Referrer-Policy"] == referrer, where
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin", where
    features = dict(item.strip().split("=", 1) for item in headers["Permissions-Policy"].split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", (where, feature)
    if production:
        hsts = [item.strip() for item in headers["Strict-Transport-Security"].split(";")]
        assert int(hsts[0].removeprefix("max-age=")) >= 31536000, where
    else:
        assert "Strict-Transport-Security" not in headers, where


def assert_no_inline_code(response, *, where: str) -> None:
    """An HTML page has no style attribute, no on... handler, no javascript: URL, and every <script> and
    <style> carries this response's nonce."""
    if response.mimetype not in HTML_TYPES:
        return
    nonce = csp_nonce(response)
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for element in page.find_all(True):
        for attribute, value in element.attrs.items():
            assert attribute != "style", f"{where}: style attribute on <{element.name}>"
            assert not attribute.startswith("on"), f"{where}: {attribute} handler on <{element.name}>"
            if attribute in ("href", "src", "action", "formaction"):
                assert not str(value).strip().lower().startswith("javascript:"), f"{where}: {attribute}"
        if element.name in ("script", "style"):
            assert element.get("nonce") == nonce, f"{where}: <{element.name}> without this response's nonce"


@pytest.fixture(scope="module")
def accounts_instance(seeded_instance, tmp_path_factory):
    instance = tmp_path_factory.mktemp("headers") / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance)
    with app.app_context():
        users.create_user("admin@example.police.uk", "admin", PASSWORD)
        users.create_user("target@example.police.uk", "staff", PASSWORD)
        db.engine.dispose()
    return instance


def _get_urls(app, target_id: int) -> list[str]:
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()):
                continue
            values = {}
            for name in rule.arguments:
                if name == "user_id":
                    values[name] = target_id
                else:
                    assert name in SAMPLE_ARGS, f"{rule.rule}: add a sample value for <{name}> to SAMPLE_ARGS"
                    values[name] = SAMPLE_ARGS[name]
            urls.append(url_for(rule.endpoint, **values))
    return urls


def test_every_get_route_sends_the_headers_signed_out_and_as_admin(accounts_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(accounts_instance, instance)
    app = make_app(instance)
    with app.app_context():
        urls = _get_urls(app, users.get_by_email("target@example.police.uk").id)
        assert len(urls) >= 30, urls
        admin = app.test_client()
        assert (
            admin.post("/login", data={"email": "admin@example.police.uk", "password": PASSWORD}).status_code
            == 303
        )
        statuses = set()
        for who, client in (("anonymous", app.test_client()), ("admin", admin)):
            for url in urls:
                response = client.get(url)
                statuses.add(response.status_code)
                where = f"{who} GET {url} ({response.status_code})"
                token_page = url.startswith("/account/set-password")
                referrer = "no-referrer" if token_page else REFERRER_POLICY
                assert_security_headers(response, where=where, referrer=referrer)
                assert_no_inline_code(response, where=where)
        # Pages, redirects to sign in, and the expired set-password page were all among them.
        assert {200, 302, 410} <= statuses, statuses
        db.session.remove()
        db.engine.dispose()


def test_each_response_has_its_own_nonce_and_the_page_uses_it(client):
    first, second = client.get("/search?q=fraud"), client.get("/search?q=fraud")
    assert csp_nonce(first) != csp_nonce(second)
    page = BeautifulSoup(first.get_data(as_text=True), "html.parser")
    scripts = page.find_all("script")
    assert sorted(Path(s["src"].split("?")[0]).name for s in scripts) == ["combobox.js", "search.js"]
    assert {s["nonce"] for s in scripts} == {csp_nonce(first)}


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/capabilities/no-such-capability", 404),
        ("GET", "/api/articles/no-such-capability", 404),
        ("POST", "/sitemap.xml", 405),
        ("DELETE", "/api/search", 405),
        ("GET", "/account/set-password", 410),
    ],
)
def test_error_pages_send_the_headers(client, method, url, status):
    response = client.open(url, method=method)
    assert response.status_code == status
    referrer = "no-referrer" if url.startswith("/account/set-password") else REFERRER_POLICY
    assert_security_headers(response, where=f"{method} {url}", referrer=referrer)
    assert_no_inline_code(response, where=url)


def test_a_token_link_sends_no_referrer_on_its_redirect(client):
    response = client.get("/account/set-password/some-token")
    assert response.status_code == 303
    assert_security_headers(response, where="set-password link", referrer="no-referrer")


def test_an_untrusted_host_answers_400_with_the_headers(client):
    for url in ("/", "/api/search?q=fraud", "/static/site.css"):
        response = client.get(url, headers={"Host": "evil.example"})
        assert response.status_code == 400
        assert_security_headers(response, where=f"untrusted host {url}")
        assert_no_inline_code(response, where=url)


def test_the_429_page_sends_the_headers(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute")
    with app.app_context():
        client = app.test_client()
        data = {"email": "nobody@example.police.uk", "password": "wrong password"}
        client.post("/login", data=data)
        for accept in ("text/html", "application/json"):
            response = client.post("/login", data=data, headers={"Accept": accept})
            assert response.status_code == 429
            assert_security_headers(response, where=f"429 {accept}")
            assert_no_inline_code(response, where="429")
        db.session.remove()
        db.engine.dispose()


def test_the_500_page_sends_the_headers(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance)

    def broken():
        raise RuntimeError("a bug")

    broken.access_rule = "public"
    app.add_url_rule("/broken", "broken", broken)
    with app.app_context():
        response = app.test_client().get("/broken")
        assert response.status_code == 500
        assert_security_headers(response, where="500")
        assert_no_inline_code(response, where="500")
        db.session.remove()
        db.engine.dispose()


def test_the_503_page_sends_the_headers(app, client):
    store = app.extensions[sync.EXTENSION]
    store.close()
    shutil.rmtree(store.root)
    for url in ("/search?q=fraud", "/api/search?q=fraud"):
        response = client.get(url)
        assert response.status_code == 503
        assert_security_headers(response, where=f"503 {url}")
        assert_no_inline_code(response, where=url)
    app.extensions["kb_search_builder"].join(60)


def test_static_files_send_the_headers(client):
    from flask import url_for

    with client.application.test_request_context():
        fingerprinted = [
            url_for("static", filename=name) for name in ("site.css", "combobox.js", "favicon.svg")
        ]
    for url in [*fingerprinted, "/static/site.css", "/static/no-such-file.js"]:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_security_headers(response, where=url)
        if response.status_code == 200:
            again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
            assert again.status_code == 304
            assert_security_headers(again, where=f"{url} (304)")


def test_json_api_sends_the_headers(client):
    for url in ("/api/search?q=fraud", "/api/suggest?q=ga", "/api/articles/gateway"):
        response = client.get(url)
        assert response.status_code == 200 and response.is_json, url
        assert_security_headers(response, where=url)


def test_hsts_only_in_production(seeded_instance, tmp_path, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    instance = tmp_path / "production"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, ENV="production", SERVER_NAME="kb.example.police.uk")
    with app.app_context():
        production = app.test_client()
        for url in ("/", "/no-such-page", "/static/site.css", "/api/search?q=fraud", "/login"):
            response = production.get(url, base_url="https://kb.example.police.uk")
            assert_security_headers(response, where=f"production {url}", production=True)
        db.session.remove()
        db.engine.dispose()


# Patterns CSP blocks in a template; a template that needs inline code gives it nonce="{{ csp_nonce() }}".
INLINE_CODE = {
    "style attribute": re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""", re.S),
    "event handler attribute": re.compile(r"""<[a-zA-Z][^>]*\son[a-z]+\s*=""", re.S),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
    "<script> or <style> without the nonce": re.compile(
        r"""<(script|style)\b(?![^>]*\bnonce="\{\{ csp_nonce\(\) \}\}")[^>]*>""", re.S
    ),
}


def test_templates_have_no_inline_code_csp_would_block():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for what, pattern in INLINE_CODE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_static_javascript_uses_nothing_csp_blocks():
    static = TEMPLATES.parent / "static"
    blocked = re.compile(
        r"""\beval\s*\(|new\s+Function\s*\(|setAttribute\(\s*["']style|setAttribute\(\s*["']on|\.on[a-z]+\s*=\s*["']|set(Timeout|Interval)\(\s*["']"""
    )
    found = [
        f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for path in sorted(static.glob("*.js"))
        for text in [path.read_text()]
        for m in blocked.finditer(text)
    ]
    assert found == []
