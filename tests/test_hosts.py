"""Absolute URLs come from configuration, not from the Host header: untrusted hosts answer 400, the
sitemap, robots.txt, canonical and Open Graph URLs and the admin's set-password link use the configured
name and scheme, and KB_PROXY_FIX trusts exactly the proxies it is told about."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from kb import create_app
from kb.config import ConfigurationError
from kb.extensions import db
from kb.hosts import proxy_fix_counts
from kb.models import AuditEvent
from kb.services import users
from tests.conftest import PASSWORD, make_app

PUBLIC_NAME = "kb.example.police.uk"
EVIL = "evil.example"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@pytest.fixture
def app_with(seeded_instance, tmp_path):
    """Make apps on copies of the seeded instance with the given settings; clean them up afterwards."""
    made = []

    def _make(**settings):
        instance = tmp_path / f"instance-{len(made)}"
        shutil.copytree(seeded_instance, instance)
        app = make_app(instance, **settings)
        made.append(app)
        return app

    yield _make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def sitemap_urls(response) -> list[str]:
    root = ElementTree.fromstring(response.data)  # noqa: S314 (our own sitemap)
    return [loc.text for loc in root.iter(f"{{{SITEMAP_NS}}}loc")]


def absolute_urls(client, host: str, scheme: str = "http") -> list[str]:
    """Every absolute URL the site publishes: sitemap, robots.txt, canonical and og:url of an article."""
    base = f"{scheme}://{host}"
    sitemap = client.get("/sitemap.xml", base_url=base)
    assert sitemap.status_code == 200
    urls = sitemap_urls(sitemap)
    robots = client.get("/robots.txt", base_url=base).get_data(as_text=True)
    urls += [line.split(":", 1)[1].strip() for line in robots.splitlines() if line.startswith("Sitemap:")]
    article = BeautifulSoup(client.get("/capabilities/gateway", base_url=base).data, "html.parser")
    urls += [
        article.select_one("link[rel=canonical]")["href"],
        article.select_one("meta[property='og:url']")["content"],
    ]
    assert len(urls) > 10
    return urls


def origins(urls: list[str]) -> set[str]:
    return {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in urls}


def test_development_trusts_only_local_names_by_default(app_with):
    app = app_with()
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]
    client = app.test_client()
    for path in ("/sitemap.xml", "/robots.txt", "/capabilities/gateway", "/api/search?q=fraud"):
        assert client.get(path, headers={"Host": EVIL}).status_code == 400, path
        assert client.get(path, headers={"Host": f"{EVIL}:5000"}).status_code == 400, path
    assert origins(absolute_urls(client, "127.0.0.1:5000")) == {"http://127.0.0.1:5000"}
    assert origins(absolute_urls(client, "localhost")) == {"http://localhost"}


def test_production_refuses_an_untrusted_host_and_uses_the_configured_name_and_scheme(app_with):
    app = app_with(ENV="production", SERVER_NAME=PUBLIC_NAME)
    assert app.config["TRUSTED_HOSTS"] == [PUBLIC_NAME]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    client = app.test_client()
    for path in ("/", "/sitemap.xml", "/robots.txt", "/capabilities/gateway", "/login", "/static/site.css"):
        response = client.get(path, headers={"Host": EVIL})
        assert response.status_code == 400, path
        assert EVIL not in response.get_data(as_text=True)
    # The request came over plain HTTP (TLS ended at a proxy without KB_PROXY_FIX): links still say https.
    assert origins(absolute_urls(client, PUBLIC_NAME)) == {f"https://{PUBLIC_NAME}"}


def test_with_any_host_trusted_the_urls_still_use_the_server_name(app_with):
    app = app_with(SERVER_NAME=PUBLIC_NAME, PREFERRED_URL_SCHEME="https", TRUSTED_HOSTS="*")
    assert app.config["TRUSTED_HOSTS"] is None
    client = app.test_client()
    assert client.get("/sitemap.xml", base_url=f"http://{EVIL}").status_code == 200
    assert origins(absolute_urls(client, EVIL)) == {f"https://{PUBLIC_NAME}"}


def test_the_set_password_link_points_at_the_configured_name(app_with):
    app = app_with(SERVER_NAME=PUBLIC_NAME, PREFERRED_URL_SCHEME="https", TRUSTED_HOSTS="internal.example")
    assert app.config["TRUSTED_HOSTS"] == ["internal.example", PUBLIC_NAME]
    with app.app_context():
        users.create_user("admin@example.police.uk", "admin", PASSWORD)
    client = app.test_client()
    base = "http://internal.example"  # an admin on the internal name, another name of the same server
    login = {"email": "admin@example.police.uk", "password": PASSWORD}
    assert client.post("/login", data=login, base_url=base).status_code == 303
    data = {"email": "linked@example.police.uk", "role": "staff", "method": "link"}
    assert client.post("/admin/accounts/new", data=data, base_url=f"http://{EVIL}").status_code == 400
    response = client.post("/admin/accounts/new", data=data, base_url=base)
    link = BeautifulSoup(response.data, "html.parser").select_one("#set-password-link")["value"]
    assert link.startswith(f"https://{PUBLIC_NAME}/account/set-password/")


def test_proxy_fix_takes_the_client_scheme_host_and_address_from_the_proxy(app_with):
    app = app_with(PROXY_FIX="for=1,proto=1,host=1", TRUSTED_HOSTS="kb.internal")
    with app.app_context():
        users.create_user("staff@example.police.uk", "staff", PASSWORD)
    client = app.test_client()
    proxied = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "kb.internal",
    }
    sitemap = client.get("/sitemap.xml", headers=proxied, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    locs = sitemap_urls(sitemap)
    assert origins(locs) == {"https://kb.internal"}
    # A forwarded host is checked like any other.
    spoofed = {**proxied, "X-Forwarded-Host": EVIL}
    assert client.get("/sitemap.xml", headers=spoofed).status_code == 400
    login = {"email": "staff@example.police.uk", "password": PASSWORD}
    client.post("/login", data=login, headers=proxied, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in")).one()
        assert event.address == "203.0.113.7"


def test_without_proxy_fix_forwarded_headers_are_ignored(app_with):
    client = app_with().test_client()
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": EVIL, "X-Forwarded-For": "203.0.113.7"}
    sitemap = client.get("/sitemap.xml", headers=forged)
    locs = sitemap_urls(sitemap)
    assert origins(locs) == {"http://localhost"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("off", None),
        (0, None),
        (1, {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1}),
        ("2", {"x_for": 2, "x_proto": 2, "x_host": 2, "x_port": 2}),
        ("for=1,proto=1,host=1", {"x_for": 1, "x_proto": 1, "x_host": 1}),
        ("for=2, prefix=1", {"x_for": 2, "x_prefix": 1}),
    ],
)
def test_proxy_fix_setting(value, expected):
    assert proxy_fix_counts(value) == expected


@pytest.mark.parametrize("value", ["for=x", "hosts=1", "for", "-1", "for=1;proto=1"])
def test_a_malformed_proxy_fix_refuses_to_start(tmp_path, value):
    with pytest.raises(ConfigurationError, match="KB_PROXY_FIX"):
        create_app({"INSTANCE_PATH": str(tmp_path), "PROXY_FIX": value})


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_SERVER_NAME", PUBLIC_NAME)
    monkeypatch.setenv("KB_PREFERRED_URL_SCHEME", "https")
    monkeypatch.setenv("KB_TRUSTED_HOSTS", "kb.internal, .example.police.uk")
    monkeypatch.setenv("KB_PROXY_FIX", "1")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SEARCH_BUILD_ON_START": False})
    assert app.config["SERVER_NAME"] == PUBLIC_NAME
    assert app.config["TRUSTED_HOSTS"] == ["kb.internal", ".example.police.uk", PUBLIC_NAME]
    assert app.config["PROXY_FIX_COUNTS"] == {"x_for": 1, "x_proto": 1, "x_host": 1, "x_port": 1}
    client = app.test_client()
    assert client.get("/robots.txt", base_url="http://www.example.police.uk").status_code == 200
    assert client.get("/robots.txt", base_url=f"http://{EVIL}").status_code == 400


def test_production_needs_a_server_name_and_no_wildcard(tmp_path):
    production = {"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigurationError, match="KB_SERVER_NAME"):
        create_app(production)
    with pytest.raises(ConfigurationError, match="development only"):
        create_app({**production, "SERVER_NAME": PUBLIC_NAME, "TRUSTED_HOSTS": "*"})
