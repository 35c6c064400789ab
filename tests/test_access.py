"""Every route declares who may use it, each protected route answers each role as declared, and every
state-changing route refuses a request without a CSRF token."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kb.access import PUBLIC, RULES
from kb.extensions import db
from kb.models import Article, AuditEvent, User, UserRole
from kb.services import users
from tests.conftest import PASSWORD, make_app

ROLES = [r.value for r in UserRole]
# A sample value for each URL argument a route may have; a new argument must be added here on purpose.
SAMPLE_ARGS = {
    "slug": "gateway",
    "number": 1,
    "entry_id": 1,
    "token": "not-a-real-token",
    "filename": "site.css",
}


@pytest.fixture(scope="module")
def role_instance(seeded_instance, tmp_path_factory):
    """The seeded instance plus one account per role and a target account for the admin routes."""
    instance = tmp_path_factory.mktemp("roles") / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance)
    with app.app_context():
        for role in ROLES:
            users.create_user(f"{role}@example.police.uk", role, PASSWORD)
        users.create_user("target@example.police.uk", "staff", PASSWORD)
        db.engine.dispose()
    return instance


def _routes(app):
    """(rule, method, endpoint) for every route but static files and HEAD/OPTIONS."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(app, rule, target_id: int) -> str:
    values = {}
    for name in rule.arguments:
        if name == "user_id":
            values[name] = target_id
        else:
            assert name in SAMPLE_ARGS, f"{rule.rule}: add a sample value for <{name}> to SAMPLE_ARGS"
            values[name] = SAMPLE_ARGS[name]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_declares_an_access_rule(app):
    missing = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and getattr(app.view_functions[rule.endpoint], "access_rule", None) not in RULES
    ]
    assert missing == []


def test_the_staff_areas_are_protected(app):
    """A guard against declaring a staff route public by mistake: the prefixes say who they are for."""
    for rule in app.url_map.iter_rules():
        declared = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        if rule.rule.startswith("/admin"):
            assert declared == UserRole.ADMIN, rule.rule
        elif rule.rule.startswith("/editor"):
            assert declared in (UserRole.EDITOR, UserRole.ADMIN), rule.rule


def _fresh_app(role_instance, folder):
    instance = folder / "instance"
    shutil.copytree(role_instance, instance)
    return make_app(instance)


def _session_cookies(app) -> dict[str, str]:
    """Sign each role in once. The copies of the instance share the accounts and the secret key, so the
    same session cookie works on every copy (and saves a password hash per route and role)."""
    cookies = {}
    for role in ROLES:
        client = app.test_client()
        response = client.post("/login", data={"email": f"{role}@example.police.uk", "password": PASSWORD})
        assert response.status_code == 303
        cookies[role] = client.get_cookie("session").value
    return cookies


def test_protected_routes_answer_each_role_as_declared(role_instance, tmp_path):
    """Anonymous: sent to sign in. Below the declared role: 403. At or above it: served.

    GET routes share one copy of the instance; each POST route gets a fresh copy, so one route's change
    (a deleted article, a disabled account) cannot hide another route's answer.
    """
    shared = _fresh_app(role_instance, tmp_path / "shared")
    with shared.app_context():
        cookies = _session_cookies(shared)
    routes = [
        (rule.rule, method)
        for rule, method in _routes(shared)
        if getattr(shared.view_functions[rule.endpoint], "access_rule", PUBLIC) != PUBLIC
    ]
    assert len(routes) >= 20, routes
    for number, (path_rule, method) in enumerate(routes):
        app = shared if method == "GET" else _fresh_app(role_instance, tmp_path / str(number))
        with app.app_context():
            _check_route_for_each_role(app, path_rule, method, cookies)
            if app is not shared:
                db.session.remove()
                db.engine.dispose()
    with shared.app_context():
        db.session.remove()
        db.engine.dispose()


def _check_route_for_each_role(app, path_rule: str, method: str, cookies: dict[str, str]) -> None:
    rule = next(r for r in app.url_map.iter_rules() if r.rule == path_rule and method in r.methods)
    declared = UserRole(app.view_functions[rule.endpoint].access_rule)
    url = _url(app, rule, users.get_by_email("target@example.police.uk").id)

    anonymous = app.test_client().open(url, method=method)
    assert anonymous.status_code == 302, f"anonymous {method} {url}: {anonymous.status_code}"
    assert anonymous.location.startswith("/login?next="), f"anonymous {method} {url}: {anonymous.location}"

    for role in ROLES:
        client = app.test_client()
        client.set_cookie("session", cookies[role])
        response = client.open(url, method=method)
        if UserRole(role).rank >= declared.rank:
            assert response.status_code not in (401, 403, 405, 500), (
                f"{role} {method} {url}: {response.status_code}"
            )
            assert not (response.location or "").startswith("/login"), f"{role} {method} {url}"
        else:
            assert response.status_code == 403, f"{role} {method} {url}: {response.status_code}"


def _csrf_token(page_html: str) -> str:
    return BeautifulSoup(page_html, "html.parser").select_one("input[name=csrf_token]")["value"]


@pytest.fixture
def csrf_app(role_instance, tmp_path):
    """An app with CSRF protection on. Requests run outside an application context, as in production
    (Flask-WTF caches the token on ``g``, which a shared context would carry from one request to the next)."""
    instance = tmp_path / "instance"
    shutil.copytree(role_instance, instance)
    app = make_app(instance, WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _sign_in_with_token(client, email: str) -> None:
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def _state(app) -> tuple:
    """What a state-changing request would change: audit events, article versions, accounts."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count(AuditEvent.id))),
            tuple(db.session.scalars(select(Article.version).order_by(Article.id))),
            tuple(db.session.execute(select(User.role, User.active, User.session_token).order_by(User.id))),
        )


def test_every_state_changing_route_refuses_a_request_without_csrf_token(csrf_app):
    client = csrf_app.test_client()
    _sign_in_with_token(client, "admin@example.police.uk")
    with csrf_app.app_context():
        target = users.get_by_email("target@example.police.uk")
    posts = [rule for rule, method in _routes(csrf_app) if method == "POST"]
    assert {"/login", "/logout", "/editor/articles/new", "/admin/accounts/new"} <= {r.rule for r in posts}
    for rule in posts:
        url = _url(csrf_app, rule, target.id)
        before = _state(csrf_app)
        # Everything a real form would send, except the token.
        response = client.post(
            url,
            data={
                "version": "1",
                "confirm": "gateway",
                "role": "admin",
                "method": "link",
                "email": "admin@example.police.uk",
                "password": PASSWORD,
                "title": "Changed",
            },
        )
        assert response.status_code == 400, f"POST {url}: {response.status_code}"
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert page.h1.get_text(strip=True) == "Something went wrong with that request", url
        assert _state(csrf_app) == before, url
    # Still signed in: the refused sign-out did not sign out.
    assert client.get("/editor/").status_code == 200


def test_csrf_check_accepts_the_right_token(csrf_app):
    """The refusal above is about the token: the same kind of request with it goes through."""
    client = csrf_app.test_client()
    _sign_in_with_token(client, "admin@example.police.uk")
    page = client.get("/editor/articles/gateway/edit").get_data(as_text=True)
    version = BeautifulSoup(page, "html.parser").select_one("input[name=version]")["value"]
    response = client.post(
        "/editor/articles/gateway/unpublish", data={"csrf_token": _csrf_token(page), "version": version}
    )
    assert response.status_code == 303
    with csrf_app.app_context():
        assert db.session.scalar(select(Article.status).where(Article.slug == "gateway")) == "draft"
