"""Signing in and out: passwords, refusals that look alike, throttling, redirects, sessions and time-outs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, update

from kb import auth_session
from kb.extensions import db, limiter
from kb.models import AuditEvent, SignInThrottle, User, utcnow
from kb.services import audit, users
from kb.services.users import AccountError, PasswordMethod
from kb.views.auth import safe_next
from tests.conftest import PASSWORD, make_app


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def error_summary(response) -> list[str]:
    page = soup(response)
    return [a.get_text(strip=True) for a in page.select(".error-summary__list a")]


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


@pytest.fixture
def clock(monkeypatch):
    """Move the session clock forward: ``clock.advance(minutes=31)``."""

    class Clock:
        offset = 0.0

        def advance(self, **delta):
            self.offset += timedelta(**delta).total_seconds()

    moved = Clock()
    real_now = auth_session.now
    monkeypatch.setattr(auth_session, "now", lambda: real_now() + moved.offset)
    return moved


# --- Passwords ------------------------------------------------------------------------------------


def test_passwords_are_stored_as_scrypt_hashes(make_user):
    user = make_user("staff")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_passwords_shorter_than_twelve_characters_are_refused(app, password):
    with pytest.raises(AccountError, match="at least 12 characters"):
        users.create_user("short@example.police.uk", "staff", password)


def test_change_password_form_refuses_a_short_new_password(client, auth):
    auth.login("staff")
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "elevenchars", "confirm_password": "elevenchars"},
    )
    assert response.status_code == 200
    assert error_summary(response) == ["The password must be at least 12 characters long"]
    assert soup(response).select_one("#new_password")["aria-describedby"].split() == [
        "new_password-hint",
        "new_password-error",
    ]


# --- Signing in -----------------------------------------------------------------------------------


def test_editor_lands_in_the_editor_and_staff_on_the_home_page(app, make_user):
    for role, landing in (("editor", "/editor/"), ("staff", "/")):
        user = make_user(role)
        response = sign_in(app.test_client(), user.email)
        assert response.status_code == 303
        assert response.location == landing


def test_sign_in_starts_a_new_session(client, make_user):
    user = make_user("editor")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()


def test_email_is_matched_whatever_its_case_and_spaces(client, make_user):
    user = make_user("staff")
    assert sign_in(client, f"  {user.email.upper()} ").status_code == 303


def test_unknown_email_wrong_password_and_disabled_account_look_alike(app, make_user):
    make_user("staff", "known@example.police.uk")
    disabled = make_user("staff", "disabled@example.police.uk")
    disabled.active = False
    db.session.commit()
    answers = []
    for email, password in (
        ("nobody@example.police.uk", PASSWORD),
        ("known@example.police.uk", "not the right password"),
        ("disabled@example.police.uk", PASSWORD),
    ):
        response = sign_in(app.test_client(), email, password)
        page = soup(response)
        answers.append(
            (
                response.status_code,
                error_summary(response),
                page.select_one("#email-error").get_text(" ", strip=True),
                page.title.get_text(strip=True),
            )
        )
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200
    assert answers[0][1] == ["Enter a correct e-mail address and password"]


def test_a_refused_sign_in_keeps_the_email_but_not_the_password(client):
    response = sign_in(client, "someone@example.police.uk", "typed secret 123")
    page = soup(response)
    assert page.select_one("#email")["value"] == "someone@example.police.uk"
    assert not page.select_one("#password").get("value")
    assert page.title.get_text().startswith("Error:")


def test_empty_fields_are_named_in_the_error_summary(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert error_summary(response) == ["Enter your e-mail address", "Enter your password"]
    links = [a["href"] for a in soup(response).select(".error-summary__list a")]
    assert links == ["#email", "#password"]


# --- Where sign-in leads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",
        "\\\\evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        " /editor/",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "data:text/html,hi",
        "editor/",
        "/login?next=//evil.example",
        "/" + "a" * 3000,
    ],
)
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user("editor")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.location == "/editor/"
    assert safe_next(target) is None


@pytest.mark.parametrize(
    "target", ["/capabilities/gateway", "/editor/?status=draft&q=cyber", "/search?q=a%20b"]
)
def test_next_within_the_site_is_followed(client, make_user, target):
    user = make_user("editor")
    client.get(f"/login?next={target}")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "next": target})
    assert response.location == target


def test_the_login_page_carries_next_from_the_address(client):
    page = soup(client.get("/login?next=/editor/articles/new"))
    assert page.select_one("input[name=next]")["value"] == "/editor/articles/new"


def test_a_protected_page_sends_the_visitor_to_sign_in_and_back(client, make_user):
    response = client.get("/editor/articles/new")
    assert response.status_code == 302
    assert unquote(response.location) == "/login?next=/editor/articles/new"
    user = make_user("editor")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "next": "/editor/articles/new"}
    )
    assert response.location == "/editor/articles/new"


# --- Session cookie -------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("staff")
    cookie = sign_in(client, user.email).headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert "secure" not in attributes


def test_session_cookie_is_secure_in_production(tmp_path, seeded_instance):
    import shutil

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        users.create_user("prod@example.police.uk", "staff", PASSWORD)
        cookie = sign_in(app.test_client(), "prod@example.police.uk").headers["Set-Cookie"]
        db.session.remove()
        db.engine.dispose()
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


# --- Signing out ----------------------------------------------------------------------------------


def test_sign_out_is_a_post(client, auth):
    auth.login("staff")
    assert client.get("/logout").status_code == 405
    assert client.get("/account/password").status_code == 200


def test_sign_out_ends_the_session_and_a_replayed_cookie_no_longer_works(app, client, auth):
    user = auth.login("editor")
    token_before = user.session_token
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/editor/").status_code == 200

    response = auth.logout()
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.session_token != token_before
    assert client.get("/editor/").status_code == 302
    replayed = stolen.get("/editor/")
    assert replayed.status_code == 302
    assert replayed.location.startswith("/login")


def test_sign_out_link_is_a_form_with_a_csrf_token(client, auth):
    auth.login("editor")
    page = soup(client.get("/"))
    form = page.select_one("nav.account-nav form[action='/logout']")
    assert form["method"] == "post"
    assert form.select_one("input[name=csrf_token]")["value"]
    assert form.select_one("button").get_text(" ", strip=True).startswith("Sign out")
    assert page.select_one("nav.account-nav a[href='/editor/']").get_text(strip=True) == "Editor"


def test_anonymous_header_offers_sign_in_back_to_the_page(client):
    page = soup(client.get("/capabilities/gateway"))
    link = page.select_one("nav.account-nav a")
    assert link.get_text(strip=True) == "Sign in"
    assert link["href"] == "/login?next=/capabilities/gateway"
    assert page.select_one("nav.account-nav form") is None


def test_staff_header_has_no_editor_link(client, auth):
    auth.login("staff")
    page = soup(client.get("/"))
    assert page.select_one("nav.account-nav a[href='/editor/']") is None


# --- Time-outs ------------------------------------------------------------------------------------


def test_an_idle_editor_is_signed_out_with_a_clear_message(client, auth, clock):
    auth.login("editor")
    clock.advance(minutes=29)
    assert client.get("/editor/").status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still signed in
    assert client.get("/editor/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/editor/?status=draft")
    assert response.status_code == 302
    assert response.location.startswith("/login?")
    login_page = soup(client.get(response.location))
    message = login_page.select_one("#timeout-message").get_text(" ", strip=True)
    assert "had not used the site for 30 minutes" in message
    assert login_page.select_one("input[name=next]")["value"] == "/editor/?status=draft"
    assert client.get("/editor/").status_code == 302


def test_the_idle_time_out_is_configurable(seeded_instance, tmp_path, clock):
    import shutil

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, IDLE_TIMEOUT_MINUTES=5)
    with app.app_context():
        users.create_user("admin@example.police.uk", "admin", PASSWORD)
        client = app.test_client()
        sign_in(client, "admin@example.police.uk")
        clock.advance(minutes=6)
        assert client.get("/admin/").status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_staff_sessions_have_no_idle_time_out_but_do_expire(client, auth, clock):
    auth.login("staff")
    clock.advance(hours=3)
    assert client.get("/account/password").status_code == 200
    clock.advance(hours=10)
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "reason=expired" in response.location


def test_a_form_sent_after_the_time_out_is_shown_back_and_not_lost(client, auth, clock):
    from kb.services import articles

    auth.login("editor")
    article = articles.get_by_slug("gateway")
    version = article.version
    clock.advance(minutes=45)
    body = "A long paragraph typed\nover more than half an hour."
    response = client.post(
        "/editor/articles/gateway/edit",
        data={"title": "Gateway", "summary": "S", "body": body, "version": version, "action": "save"},
    )
    assert response.status_code == 401
    page = soup(response)
    kept = {area.get_text() for area in page.select("textarea[readonly]")}
    assert body in kept and "Gateway" in kept
    assert str(version) not in kept  # the hidden bookkeeping fields are not shown back
    assert "sign in again" in page.select_one("main").get_text(" ", strip=True).lower()
    db.session.expire_all()
    assert articles.get_by_slug("gateway").version == version


# --- Forced password change -----------------------------------------------------------------------


def test_a_temporary_password_must_be_changed_before_anything_else(app, client):
    user = users.create_user("new@example.police.uk", "editor", PASSWORD, must_change_password=True)
    sign_in(client, user.email)
    for path in ("/", "/editor/", "/capabilities/gateway", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location == "/account/password", path
    page = soup(client.get("/account/password"))
    assert page.h1.get_text(strip=True) == "Choose a new password"
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 303
    assert response.location == "/editor/"
    assert client.get("/editor/").status_code == 200
    db.session.refresh(user)
    assert user.must_change_password is False


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(app, client, auth):
    user = auth.login("editor")
    other = app.test_client()
    sign_in(other, user.email)
    assert other.get("/editor/").status_code == 200
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "confirm_password": "another long passphrase",
        },
    )
    assert response.status_code == 303
    assert client.get("/editor/").status_code == 200
    assert other.get("/editor/").status_code == 302
    assert sign_in(app.test_client(), user.email, "another long passphrase").status_code == 303


def test_changing_the_password_needs_the_current_one_and_matching_copies(client, auth):
    auth.login("staff")
    response = client.post(
        "/account/password",
        data={"current_password": "wrong password", "new_password": "x" * 12, "confirm_password": "y" * 12},
    )
    assert error_summary(response) == ["The passwords do not match"]
    response = client.post(
        "/account/password",
        data={"current_password": "wrong password", "new_password": "x" * 12, "confirm_password": "x" * 12},
    )
    assert error_summary(response) == ["The current password is not right"]


# --- Throttling -----------------------------------------------------------------------------------


@pytest.fixture
def throttled_app(seeded_instance, tmp_path):
    import shutil

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(
        instance, LOGIN_PAIR_FREE_ATTEMPTS=3, LOGIN_PAIR_BACKOFF_SECONDS=30, LOGIN_ACCOUNT_MAX_FAILURES=8
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


ADDRESS_A = {"REMOTE_ADDR": "203.0.113.1"}
ADDRESS_B = {"REMOTE_ADDR": "203.0.113.2"}


def _expire_waits():
    """Let every pending wait run its course (the clock moving on, for the database's counters)."""
    db.session.execute(update(SignInThrottle).values(blocked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_one_address_backs_off_but_cannot_keep_the_owner_out(throttled_app):
    user = users.create_user("target@example.police.uk", "editor", PASSWORD)
    attacker = throttled_app.test_client()
    statuses = [
        sign_in(attacker, user.email, f"wrong {n}", environ_base=ADDRESS_A).status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    paused = sign_in(attacker, user.email, PASSWORD, environ_base=ADDRESS_A)
    assert paused.status_code == 429  # the right password waits too: the guesser learns nothing
    assert 25 <= int(paused.headers["Retry-After"]) <= 30
    assert soup(paused).h1.get_text(strip=True) == "Too many sign-in attempts"
    # The owner, from another address, is not held up.
    assert (
        sign_in(throttled_app.test_client(), user.email, PASSWORD, environ_base=ADDRESS_B).status_code == 303
    )

    _expire_waits()
    again = sign_in(attacker, user.email, "wrong 4", environ_base=ADDRESS_A)
    assert again.status_code == 429 and 55 <= int(again.headers["Retry-After"]) <= 60  # the wait doubles
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor == user.email)))
    assert actions.count("auth.sign_in_failure") == 4
    assert "auth.lockout" in actions and "auth.sign_in_throttled" in actions


def test_a_right_password_clears_the_pair_but_not_the_account_count(throttled_app):
    user = users.create_user("slow@example.police.uk", "staff", PASSWORD)
    client = throttled_app.test_client()
    sign_in(client, user.email, "wrong one", environ_base=ADDRESS_A)
    sign_in(client, user.email, "wrong two", environ_base=ADDRESS_A)
    assert sign_in(client, user.email, PASSWORD, environ_base=ADDRESS_A).status_code == 303
    client.post("/logout")
    statuses = [sign_in(client, user.email, f"w{n}", environ_base=ADDRESS_A).status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # the pair started again from zero


def test_the_account_ceiling_pauses_a_many_address_attack(throttled_app):
    user = users.create_user("ceiling@example.police.uk", "staff", PASSWORD)
    client = throttled_app.test_client()
    for n in range(8):  # eight addresses, one guess each: no pair ever backs off
        sign_in(client, user.email, f"guess {n}", environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
    paused = sign_in(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert paused.status_code == 429 and int(paused.headers["Retry-After"]) > 3000


def test_unknown_emails_back_off_the_same_way_as_real_accounts(throttled_app):
    users.create_user("real@example.police.uk", "staff", PASSWORD)
    client = throttled_app.test_client()
    for email in ("ghost@example.police.uk", "real@example.police.uk"):
        statuses = [
            sign_in(client, email, f"guess {n}", environ_base=ADDRESS_A).status_code for n in range(4)
        ]
        assert statuses == [200, 200, 429, 429]


def test_the_counters_are_shared_by_every_process(throttled_app, tmp_path):
    """A second application on the same database (another worker process) sees the same back-off."""
    user = users.create_user("shared@example.police.uk", "staff", PASSWORD)
    for n in range(3):
        sign_in(throttled_app.test_client(), user.email, f"wrong {n}", environ_base=ADDRESS_A)
    other = make_app(
        Path(throttled_app.instance_path),
        LOGIN_PAIR_FREE_ATTEMPTS=3,
        SQLALCHEMY_DATABASE_URI=throttled_app.config["SQLALCHEMY_DATABASE_URI"],
    )
    with other.app_context():
        assert sign_in(other.test_client(), user.email, PASSWORD, environ_base=ADDRESS_A).status_code == 429
        assert sign_in(other.test_client(), user.email, PASSWORD, environ_base=ADDRESS_B).status_code == 303
        db.session.remove()


def test_the_stored_counters_hold_no_address_or_email(throttled_app):
    sign_in(throttled_app.test_client(), "privacy@example.police.uk", "guess", environ_base=ADDRESS_A)
    keys = " ".join(db.session.scalars(select(SignInThrottle.key)))
    assert keys and "privacy" not in keys and "203.0.113" not in keys


def test_the_address_rate_limit_answers_429(seeded_instance, tmp_path):
    import shutil

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        limiter.reset()
        client = app.test_client()
        one_address = {"REMOTE_ADDR": "192.0.2.10"}
        statuses = [
            sign_in(client, f"person{n}@example.police.uk", "whatever", environ_base=one_address).status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        assert client.get("/login", environ_base=one_address).status_code == 200  # only POST is limited
        other = sign_in(client, "person@example.police.uk", "x", environ_base={"REMOTE_ADDR": "192.0.2.11"})
        assert other.status_code == 200
        limiter.reset()
        db.session.remove()
        db.engine.dispose()


# --- Audit ----------------------------------------------------------------------------------------


def test_sign_ins_are_audited_with_time_user_and_address_and_no_password(app, make_user, caplog):
    user = make_user("editor")
    client = app.test_client()
    caplog.set_level(logging.DEBUG)
    secret_typo = "my password typed in the e-mail box"
    sign_in(client, user.email, "wrong password 1", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    sign_in(client, secret_typo, PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    sign_in(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("auth."))))
    assert [e.action for e in events] == ["auth.sign_in_failure", "auth.sign_in_failure", "auth.sign_in"]
    assert [e.actor for e in events] == [user.email, "", user.email]
    assert all(e.address == "198.51.100.7" and e.at is not None for e in events)
    dumped = json.dumps([[e.actor, e.target, e.detail] for e in events])
    for secret in (PASSWORD, "wrong password 1", secret_typo):
        assert secret not in dumped
        assert all(secret not in record.getMessage() for record in caplog.records)


def test_the_audit_log_refuses_details_named_like_secrets(app):
    with pytest.raises(ValueError, match="secret-looking"):
        audit.record("account.create", password="hunter2hunter2")
    with pytest.raises(ValueError, match="secret-looking"):
        audit.record("account.create", reset_token="abc")


# --- One-time set-password links ------------------------------------------------------------------


def test_a_set_password_link_works_once_and_keeps_only_a_hash(app, client):
    admin = users.create_user("boss@example.police.uk", "admin", PASSWORD)
    user, credentials = users.create_account(
        "new.editor@example.police.uk", "editor", PasswordMethod.LINK, by=admin
    )
    token = credentials.secret
    stored = db.session.scalar(select(User.password_token_hash).where(User.id == user.id))
    assert stored and token not in stored and len(stored) == 64

    opened = client.get(f"/account/set-password/{token}")
    assert opened.status_code == 303
    assert opened.location == "/account/set-password"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = soup(client.get("/account/set-password"))
    assert "new.editor@example.police.uk" in page.select_one("main").get_text()
    assert token not in str(page)
    done = client.post(
        "/account/set-password",
        data={
            "new_password": "a phrase of my own choosing",
            "confirm_password": "a phrase of my own choosing",
        },
    )
    assert done.status_code == 303
    assert sign_in(app.test_client(), user.email, "a phrase of my own choosing").status_code == 303

    again = app.test_client()
    again.get(f"/account/set-password/{token}")
    assert again.get("/account/set-password").status_code == 410


def test_an_expired_set_password_link_is_refused(app, client):
    admin = users.create_user("boss@example.police.uk", "admin", PASSWORD)
    user, credentials = users.create_account("late@example.police.uk", "staff", PasswordMethod.LINK, by=admin)
    user.password_token_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.get(f"/account/set-password/{credentials.secret}")
    response = client.get("/account/set-password")
    assert response.status_code == 410
    assert soup(response).h1.get_text(strip=True) == "This link does not work any more"
    assert client.get("/account/set-password/made-up-token", follow_redirects=True).status_code == 410


def test_set_password_links_are_redacted_from_log_lines():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /account/set-password/s3cr3tT0ken HTTP/1.1", 303, "-"),
        None,
    )
    assert auth_session.RedactSetPasswordLinks().filter(record) is True
    assert "s3cr3tT0ken" not in record.getMessage()
    assert "/account/set-password/[redacted]" in record.getMessage()
    assert any(
        isinstance(f, auth_session.RedactSetPasswordLinks) for f in logging.getLogger("werkzeug").filters
    )


def test_signing_out_after_the_idle_time_out_still_ends_every_session(app, client, auth, clock):
    user = auth.login("editor")
    token = user.session_token
    clock.advance(hours=2)
    response = auth.logout()
    assert response.status_code == 303 and response.location == "/"
    db.session.refresh(user)
    assert user.session_token != token
