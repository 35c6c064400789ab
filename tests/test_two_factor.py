"""Two-factor sign-in (TOTP, RFC 6238): enrolment, the code after the password, recovery codes, replay,
throttling, the admin reset and REQUIRE_2FA. Codes are real ones computed with pyotp from the secret."""

from __future__ import annotations

import re
import shutil
import time

import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from kb.extensions import db
from kb.models import AuditEvent, RecoveryCode, User
from kb.services import throttle, two_factor, users
from tests.conftest import PASSWORD, make_app

SET_UP = "/account/two-factor/set-up"
CODE = "/login/code"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The service's clock, moved on a time-step at a time (``clock.next_step()``); pyotp is real."""

    class Clock:
        offset = 0.0

        def next_step(self):
            self.offset += 30

    moved = Clock()
    monkeypatch.setattr(two_factor, "now", lambda: time.time() + moved.offset)
    return moved


def code_now(secret: str) -> str:
    """The code an authenticator app with ``secret`` shows at the service's time."""
    return pyotp.TOTP(secret).at(two_factor.now())


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def secret_from(response) -> str:
    text = soup(response).select_one("#two-factor-secret").get_text()
    return re.sub(r"\s", "", text)


def enrol(client) -> tuple[str, list[str]]:
    """Set up the second factor for the signed-in user; return the secret and the recovery codes."""
    page = client.get(SET_UP)
    assert page.status_code == 200
    secret = secret_from(page)
    shown = client.post(SET_UP, data={"code": code_now(secret)})
    assert shown.status_code == 200, shown.get_data(as_text=True)
    codes = [c.get_text() for c in soup(shown).select("#recovery-codes code")]
    return secret, codes


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def enrolled(client, auth, clock):
    """An editor with a second factor, signed out, a time-step later: (user, secret, recovery codes)."""
    user = auth.login("editor")
    secret, codes = enrol(client)
    auth.logout()
    clock.next_step()
    return user, secret, codes


# --- Enrolment ------------------------------------------------------------------------------------


def test_set_up_page_shows_an_svg_qr_code_and_the_secret_as_text(client, auth):
    user = auth.login("staff")
    response = client.get(SET_UP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = soup(response)
    svg = page.select_one(".qr-code-box svg")
    assert svg is not None and "qr-code" in svg.get("class", [])
    secret = secret_from(response)
    assert len(secret) == 32 and re.fullmatch(r"[A-Z2-7]+", secret)
    # The same secret until it is confirmed, so a reload does not break a half-done scan.
    assert secret_from(client.get(SET_UP)) == secret
    assert not db.session.get(User, user.id).has_two_factor


def test_new_pages_have_no_inline_script_or_style(client, auth, enrolled):
    del enrolled
    pages = []
    auth.login("staff")
    pages.append(client.get(SET_UP))
    pages.append(client.post(SET_UP, data={"code": "000000"}))
    _secret, _codes = enrol(client)
    pages.append(client.get("/account/two-factor"))
    pages.append(client.post("/account/two-factor/recovery-codes"))
    auth.logout()
    sign_in(client, "editor@example.police.uk")
    pages.append(client.get(CODE))
    for response in pages:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<script" not in html.replace('<script src="', "")
        assert "<style" not in html
        assert " style=" not in html


def test_a_correct_code_turns_it_on_and_shows_ten_recovery_codes_once(client, auth):
    user = auth.login("staff")
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    stored = db.session.get(User, user.id)
    assert stored.has_two_factor and stored.totp_secret == secret
    assert len(stored.recovery_codes) == 10
    assert all(code not in {r.code_hash for r in stored.recovery_codes} for code in codes)
    assert events("account.2fa_enable")
    # Still signed in, and the codes are not shown again.
    manage = client.get("/account/two-factor")
    assert manage.status_code == 200
    assert "10 unused recovery codes" in manage.get_data(as_text=True)
    assert not any(code in manage.get_data(as_text=True) for code in codes)
    assert client.get(SET_UP).status_code == 303


def test_a_wrong_code_does_not_turn_it_on(client, auth):
    user = auth.login("staff")
    secret = secret_from(client.get(SET_UP))
    wrong = f"{(int(code_now(secret)) + 1) % 1_000_000:06d}"
    response = client.post(SET_UP, data={"code": wrong})
    assert response.status_code == 200
    assert "Enter the 6-digit code" in response.get_data(as_text=True)
    assert not db.session.get(User, user.id).has_two_factor


# --- Signing in -----------------------------------------------------------------------------------


def test_password_then_code_signs_in_and_not_before(client, enrolled):
    user, secret, _codes = enrolled
    response = sign_in(client, user.email)
    assert response.status_code == 303 and response.headers["Location"].endswith(CODE)
    # The password alone does not sign in.
    for path in ("/editor/", "/account/two-factor"):
        blocked = client.get(path)
        assert blocked.status_code in (302, 303)
        assert "/login" in blocked.headers["Location"]
    page = client.get(CODE)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    done = client.post(CODE, data={"code": code_now(secret)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/editor/")
    assert client.get("/editor/").status_code == 200
    assert events("auth.second_factor")


def test_the_code_page_without_a_password_sends_to_sign_in(client, enrolled):
    response = client.get(CODE)
    assert response.status_code == 303 and "/login" in response.headers["Location"]


def test_a_reused_code_is_refused(client, enrolled):
    user, secret, _codes = enrolled
    code = code_now(secret)
    sign_in(client, user.email)
    assert client.post(CODE, data={"code": code}).status_code == 303
    client.post("/logout")
    sign_in(client, user.email)
    again = client.post(CODE, data={"code": code})
    assert again.status_code == 200
    assert "Enter a correct code" in again.get_data(as_text=True)
    assert client.get("/editor/").status_code in (302, 303)


def test_the_code_used_to_enrol_cannot_sign_in(client, auth):
    user = auth.login("editor")
    secret = secret_from(client.get(SET_UP))
    code = code_now(secret)
    assert client.post(SET_UP, data={"code": code}).status_code == 200
    auth.logout()
    sign_in(client, user.email)
    assert client.post(CODE, data={"code": code}).status_code == 200


def test_a_recovery_code_works_once(client, enrolled):
    user, _secret, codes = enrolled
    sign_in(client, user.email)
    done = client.post(CODE, data={"code": codes[0].upper().replace("-", " ")})
    assert done.status_code == 303
    assert client.get("/editor/").status_code == 200
    assert "9 unused recovery codes" in client.get("/account/two-factor").get_data(as_text=True)
    assert events("auth.recovery_code_used")[0].detail["left"] == 9
    client.post("/logout")
    sign_in(client, user.email)
    again = client.post(CODE, data={"code": codes[0]})
    assert again.status_code == 200
    assert "Enter a correct code" in again.get_data(as_text=True)
    # Another one still works.
    assert client.post(CODE, data={"code": codes[1]}).status_code == 303


def test_new_recovery_codes_replace_the_old_ones(client, enrolled):
    user, _secret, codes = enrolled
    sign_in(client, user.email)
    client.post(CODE, data={"code": codes[0]})
    shown = client.post("/account/two-factor/recovery-codes")
    new_codes = [c.get_text() for c in soup(shown).select("#recovery-codes code")]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    client.post("/logout")
    sign_in(client, user.email)
    assert client.post(CODE, data={"code": codes[1]}).status_code == 200
    assert client.post(CODE, data={"code": new_codes[0]}).status_code == 303


def test_wrong_codes_are_refused_then_throttled(app, client, enrolled):
    user, secret, _codes = enrolled
    sign_in(client, user.email)
    right = code_now(secret)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    free = app.config["LOGIN_PAIR_FREE_ATTEMPTS"]
    for _ in range(free - 1):
        response = client.post(CODE, data={"code": wrong})
        assert response.status_code == 200
        assert "Enter a correct code" in response.get_data(as_text=True)
    throttled = client.post(CODE, data={"code": wrong})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # While throttled, even the right code is not looked at.
    still = client.post(CODE, data={"code": right})
    assert still.status_code == 429
    assert client.get("/editor/").status_code in (302, 303)
    assert len(events("auth.second_factor_failure")) == free
    assert events("auth.second_factor_throttled")
    # The code throttle is its own: the password counter is untouched.
    assert throttle.wait_seconds(throttle.PASSWORD, user.email, "127.0.0.1") == 0


def test_a_staff_member_may_turn_it_off(client, auth):
    user = auth.login("staff")
    enrol(client)
    response = client.post("/account/two-factor/turn-off")
    assert response.status_code == 303
    assert not db.session.get(User, user.id).has_two_factor
    assert not db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert events("account.2fa_disable")
    assert client.get("/account/two-factor").status_code == 200  # still signed in


# --- The admin reset ------------------------------------------------------------------------------


def test_an_admin_reset_is_audited_and_the_user_sets_it_up_again(client, auth, enrolled, make_user):
    user, _secret, _codes = enrolled
    admin = make_user("admin")
    sign_in(client, admin.email)
    page = soup(client.get(f"/admin/accounts/{user.id}"))
    assert page.title.get_text(strip=True).startswith(f"Account {user.email}")
    assert "Reset two-factor" not in page.title.get_text()
    assert page.select_one("#two-factor-state").get_text(strip=True).startswith("On since")
    [form] = page.select(f'form[action="/admin/accounts/{user.id}/reset-two-factor"]')
    assert len(page.select("#two-factor-heading")) == 1
    assert client.post(form["action"]).status_code == 303
    assert "Off" in soup(client.get(f"/admin/accounts/{user.id}")).select_one("#two-factor-state").get_text()
    stored = db.session.get(User, user.id)
    assert not stored.has_two_factor and stored.totp_secret is None and stored.totp_last_step is None
    assert not stored.recovery_codes
    [event] = events("account.2fa_reset")
    assert event.actor == admin.email and event.target == user.email
    client.post("/logout")
    # The password alone signs in now, and the old recovery codes are gone.
    response = sign_in(client, user.email)
    assert response.status_code == 303 and not response.headers["Location"].endswith(CODE)
    assert client.get(SET_UP).status_code == 200
    _secret, new_codes = enrol(client)
    assert len(new_codes) == 10


def test_an_admin_reset_ends_the_users_sessions(app, client, enrolled, make_user):
    user, secret, _codes = enrolled
    sign_in(client, user.email)
    client.post(CODE, data={"code": code_now(secret)})
    assert client.get("/editor/").status_code == 200
    admin_client = app.test_client()
    admin = make_user("admin")
    sign_in(admin_client, admin.email)
    admin_client.post(f"/admin/accounts/{user.id}/reset-two-factor")
    assert client.get("/editor/").status_code in (302, 303)


def test_only_admins_may_reset(client, auth, enrolled):
    user, _secret, _codes = enrolled
    auth.login("editor", email="other@example.police.uk")
    assert client.post(f"/admin/accounts/{user.id}/reset-two-factor").status_code in (302, 303, 403, 404)
    assert db.session.get(User, user.id).has_two_factor


# --- REQUIRE_2FA ----------------------------------------------------------------------------------


@pytest.fixture
def required_app(seeded_instance, tmp_path):
    instance = tmp_path / "required"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, REQUIRE_2FA=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_require_2fa_defaults_to_production_only(app):
    assert app.config["REQUIRE_2FA"] is False


def test_require_2fa_forces_an_editor_to_set_up_but_not_staff(required_app):
    make_user = users.create_user
    client = required_app.test_client()
    editor = make_user("editor@example.police.uk", "editor", PASSWORD)
    sign_in(client, editor.email)
    for path in ("/editor/", "/account/two-factor", "/"):
        response = client.get(path)
        assert response.status_code in (302, 303) and response.headers["Location"].endswith(SET_UP)
    page = client.get(SET_UP)
    assert page.status_code == 200
    assert "Set it up now to carry on" in page.get_data(as_text=True)
    enrol(client)
    assert client.get("/editor/").status_code == 200
    # It cannot be turned off for this role.
    client.post("/account/two-factor/turn-off")
    assert db.session.get(User, editor.id).has_two_factor

    staff_client = required_app.test_client()
    staff = make_user("staff@example.police.uk", "staff", PASSWORD)
    sign_in(staff_client, staff.email)
    assert staff_client.get("/account/two-factor").status_code == 200
    assert staff_client.get("/").status_code == 200
    assert staff_client.get(SET_UP).status_code == 200  # optional, but offered


def test_an_all_digit_recovery_code_is_taken_as_a_recovery_code(client, enrolled):
    user, _secret, _codes = enrolled
    stored = db.session.get(User, user.id)
    stored.recovery_codes.append(RecoveryCode(code_hash=two_factor._digest("2345623456")))
    db.session.commit()
    sign_in(client, user.email)
    assert client.post(CODE, data={"code": "23456-23456"}).status_code == 303


def test_two_factor_events_have_plain_english_labels(client, enrolled):
    from kb.services import audit

    user, _secret, codes = enrolled
    sign_in(client, user.email)
    client.post(CODE, data={"code": codes[0]})
    for action in ("account.2fa_enable", "auth.second_factor", "auth.recovery_code_used"):
        assert events(action) and audit.label(action) != action


def test_the_code_keeps_the_page_asked_for(client, enrolled):
    user, secret, _codes = enrolled
    client.post("/login", data={"email": user.email, "password": PASSWORD, "next": "/editor/reviews"})
    done = client.post(CODE, data={"code": code_now(secret)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/editor/reviews")


def test_the_password_step_expires(client, enrolled, monkeypatch):
    from kb.views import two_factor as views

    user, secret, _codes = enrolled
    sign_in(client, user.email)
    later = time.time() + 6 * 60  # TWO_FACTOR_PENDING_MINUTES is 5
    monkeypatch.setattr(views, "now", lambda: later)
    response = client.post(CODE, data={"code": code_now(secret)})
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    assert client.get("/editor/").status_code in (302, 303)
