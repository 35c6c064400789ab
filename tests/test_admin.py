"""Accounts and the audit log at /admin: create with a temporary password or a one-time link, change role,
disable (sessions end at once), reset password, and read the audit log."""

from __future__ import annotations

import json
import logging
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kb.extensions import db
from kb.models import AuditEvent, User
from kb.services import audit, users
from kb.services.users import AccountError, PasswordMethod
from tests.conftest import PASSWORD


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def admin(auth):
    return auth.login("admin")


def _session_contents(app, client) -> str:
    cookie = client.get_cookie("session")
    if cookie is None:
        return ""
    return json.dumps(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_the_accounts_list_is_a_table_of_every_account(client, admin, make_user):
    make_user("staff")
    page = soup(client.get("/admin/"))
    assert [th["scope"] for th in page.select("#accounts thead th")] == ["col"] * 5
    rows = {
        r.th.get_text(" ", strip=True): [td.get_text(strip=True) for td in r.select("td")]
        for r in page.select("#accounts tbody tr")
    }
    assert rows["admin@example.police.uk (you)"][:2] == ["Admin", "Active"]
    assert rows["staff@example.police.uk"][0] == "Staff"


def test_creating_an_account_with_a_temporary_password_shows_it_once(app, client, admin, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/admin/accounts/new",
        data={"email": "New.Editor@Example.police.uk ", "role": "editor", "method": "temporary"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = soup(response)
    password = page.select_one("#temporary-password")["value"]
    assert len(password) >= 12 and page.select_one("label[for=temporary-password]")
    user = users.get_by_email("new.editor@example.police.uk")
    assert (user.role, user.must_change_password) == ("editor", True)

    # Not in the session cookie, the account page, the audit log or any log line.
    assert password not in _session_contents(app, client)
    assert password not in client.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    events = db.session.scalars(select(AuditEvent)).all()
    assert password not in json.dumps([[e.actor, e.target, e.detail] for e in events])
    assert all(password not in r.getMessage() for r in caplog.records)
    assert any(e.action == "account.create" and e.actor == admin.email for e in events)

    newcomer = app.test_client()
    assert sign_in(newcomer, user.email, password).status_code == 303
    assert newcomer.get("/editor/").location == "/account/password"


def test_creating_an_account_with_a_one_time_link(app, client, admin):
    response = client.post(
        "/admin/accounts/new", data={"email": "linked@example.police.uk", "role": "staff", "method": "link"}
    )
    page = soup(response)
    link = page.select_one("#set-password-link")["value"]
    assert link.startswith("http://localhost/account/set-password/")
    token = link.rsplit("/", 1)[-1]
    user = users.get_by_email("linked@example.police.uk")
    assert user.password_token_hash and token not in user.password_token_hash
    assert "Works once, until" in page.select_one("#set-password-link-hint").get_text()
    assert token not in _session_contents(app, client)

    newcomer = app.test_client()
    newcomer.get(link.removeprefix("http://localhost"))
    done = newcomer.post(
        "/account/set-password",
        data={"new_password": "my own passphrase", "confirm_password": "my own passphrase"},
    )
    assert done.status_code == 303
    assert sign_in(app.test_client(), user.email, "my own passphrase").status_code == 303


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter an e-mail address"),
        ("not-an-address", "Enter an e-mail address in the right format, like name@example.police.uk"),
        ("admin@example.police.uk", "An account with that e-mail address already exists"),
    ],
)
def test_account_form_errors_are_linked_to_the_field(client, admin, email, message):
    response = client.post("/admin/accounts/new", data={"email": email, "role": "staff", "method": "link"})
    assert response.status_code == 200
    page = soup(response)
    assert [(a.get_text(strip=True), a["href"]) for a in page.select(".error-summary__list a")] == [
        (message, "#email")
    ]
    assert page.select_one("#role-0")["value"] == "staff" and page.select_one("#role-0").has_attr("checked")


def test_changing_a_role_ends_that_users_sessions(app, client, admin, auth):
    editor_client = app.test_client()
    editor = auth.login("editor", client=editor_client)
    assert editor_client.get("/editor/").status_code == 200
    response = client.post(f"/admin/accounts/{editor.id}/role", data={"role": "staff"})
    assert response.status_code == 303
    db.session.refresh(editor)
    assert editor.role == "staff"
    assert editor_client.get("/editor/").status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.role_change"))
    assert (event.actor, event.target, event.detail) == (
        admin.email,
        editor.email,
        {"old": "editor", "new": "staff"},
    )


def test_disabling_an_account_stops_its_open_session_at_once(app, client, admin, auth):
    editor_client = app.test_client()
    editor = auth.login("editor", client=editor_client)
    assert editor_client.get("/editor/").status_code == 200
    page = soup(client.get(f"/admin/accounts/{editor.id}"))
    disable = page.select_one(f"form[action='/admin/accounts/{editor.id}/disable']")
    assert client.post(disable["action"]).status_code == 303

    response = editor_client.get("/editor/")
    assert response.status_code == 302 and response.location.startswith("/login")
    refused = sign_in(app.test_client(), editor.email)
    assert refused.status_code == 200
    assert soup(refused).select_one(".error-summary__list a").get_text(strip=True) == (
        "Enter a correct e-mail address and password"
    )
    assert "Disabled" in soup(client.get("/admin/")).select_one("#accounts").get_text()

    client.post(f"/admin/accounts/{editor.id}/enable")
    assert sign_in(app.test_client(), editor.email).status_code == 303
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.target == editor.email)))
    assert actions[-2:] == ["account.disable", "account.enable"]


def test_resetting_a_password_replaces_it_and_ends_sessions(app, client, admin, auth):
    staff_client = app.test_client()
    staff = auth.login("staff", client=staff_client)
    response = client.post(f"/admin/accounts/{staff.id}/reset-password", data={"method": "temporary"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    temporary = soup(response).select_one("#temporary-password")["value"]
    assert staff_client.get("/account/password").status_code == 302
    assert sign_in(app.test_client(), staff.email, PASSWORD).status_code == 200
    fresh = app.test_client()
    assert sign_in(fresh, staff.email, temporary).status_code == 303
    assert fresh.get("/").location == "/account/password"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.password_reset"))
    assert event.detail == {"method": "temporary"} and temporary not in json.dumps(event.detail)


def test_an_admin_cannot_lock_themselves_out(client, admin):
    response = client.post(f"/admin/accounts/{admin.id}/disable")
    assert response.status_code == 303
    page = soup(client.get(response.location))
    assert "cannot disable your own account" in page.select_one(".notice--error").get_text()
    response = client.post(f"/admin/accounts/{admin.id}/role", data={"role": "staff"})
    assert "cannot change your own role" in soup(response).select_one(".error-summary").get_text()
    db.session.refresh(admin)
    assert (admin.role, admin.active) == ("admin", True)


def test_the_last_active_admin_is_kept(app, make_user):
    only_admin = make_user("admin")
    someone = make_user("editor")
    with pytest.raises(AccountError, match="only active admin"):
        users.set_active(only_admin, False, by=someone)
    with pytest.raises(AccountError, match="only active admin"):
        users.change_role(only_admin, "staff", by=someone)


def test_unknown_accounts_are_404(client, admin):
    assert client.get("/admin/accounts/99999").status_code == 404
    assert client.post("/admin/accounts/99999/disable").status_code == 404


# --- The audit log --------------------------------------------------------------------------------


def test_the_audit_log_lists_events_newest_first_with_time_user_and_address(app, client, admin):
    client.post(
        "/admin/accounts/new", data={"email": "x@example.police.uk", "role": "staff", "method": "link"}
    )
    page = soup(client.get("/admin/audit"))
    assert [th["scope"] for th in page.select("#audit-events thead th")] == ["col"] * 6
    first = page.select_one("#audit-events tbody tr")
    cells = [first.th.get_text(strip=True)] + [td.get_text(strip=True) for td in first.select("td")]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}", cells[0])  # one line: no comma, no "UTC"
    assert "nowrap" in first.th.time["class"]
    assert cells[1:5] == ["Created an account", admin.email, "x@example.police.uk", "127.0.0.1"]


def test_the_audit_log_filters_by_action_and_pages(client, admin):
    for n in range(60):
        audit.record("article.edit", target=f"article-{n}")
    db.session.commit()
    page = soup(client.get("/admin/audit?action=article.edit"))
    assert page.select_one(".result-count").get_text(strip=True).startswith("60 events")
    assert len(page.select("#audit-events tbody tr")) == 50
    assert {td.get_text(strip=True) for td in page.select("#audit-events tbody tr td:nth-of-type(1)")} == {
        "Edited an article"
    }
    older = page.select_one("nav.pagination a[rel=next]")
    second = soup(client.get(older["href"]))
    assert len(second.select("#audit-events tbody tr")) == 10
    family = soup(client.get("/admin/audit?action=auth."))
    assert {td.get_text(strip=True) for td in family.select("#audit-events tbody tr td:nth-of-type(1)")} == {
        "Signed in"
    }
    options = [o["value"] for o in family.select("#action option")]
    assert "" in options and "auth." in options and "article.edit" in options


def test_the_audit_log_filters_by_person_and_dates_links_titles_and_exports_csv(client, admin):
    from datetime import datetime

    from kb.models import AuditEvent

    audit.record("article.publish", actor="hr@example.police.uk", target="gateway")
    audit.record("article.edit", actor="other@example.police.uk", target="gone-article")
    audit.record("account.create", actor="=HYPERLINK(1)", target="x")
    db.session.commit()
    old = db.session.scalars(select(AuditEvent).where(AuditEvent.actor == "other@example.police.uk")).one()
    old.at = datetime(2026, 1, 15, 10, 0)
    db.session.commit()

    page = soup(client.get("/admin/audit?person=hr@example.police.uk"))
    rows = page.select("#audit-events tbody tr")
    assert len(rows) == 1 and rows[0].select("td")[0].get_text(strip=True) == "Published an article"
    assert rows[0].select_one("td:nth-of-type(3) a")["href"] == "/editor/articles/gateway/edit"
    assert rows[0].select_one("td:nth-of-type(3) a").get_text() == "Gateway"

    dated = soup(client.get("/admin/audit?since=2026-01-01&until=2026-01-15"))
    assert [tr.select("td")[2].get_text(strip=True) for tr in dated.select("#audit-events tbody tr")] == [
        "gone-article"
    ]
    bad = soup(client.get("/admin/audit?since=yesterday"))
    assert bad.select_one(".error-summary") is not None

    csv_link = page.select_one("#audit-csv")["href"]
    response = client.get(csv_link)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "time_utc,action,action_code,by,target,address,details"
    assert len(lines) == 2 and "Published an article,article.publish,hr@example.police.uk,gateway" in lines[1]
    everything = client.get("/admin/audit.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in everything  # never a live formula in a spreadsheet


def test_only_admins_export_the_audit_log(app, auth):
    editor_client = app.test_client()
    auth.login("editor", client=editor_client)
    assert editor_client.get("/admin/audit.csv").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "action=<script>",
        "page=abc",
        "page=-3",
        "page=99999999999999999999",
        "action=%00",
        "person=%00",
        "since=2026-13-45",
        "until=x",
    ],
)
def test_the_audit_log_ignores_junk_in_its_address(client, admin, query):
    assert client.get(f"/admin/audit?{query}").status_code == 200


def test_no_password_or_token_ever_reaches_the_audit_log(app, client, admin, auth):
    """Walk through every account flow, then look for each secret in every audit row."""
    secrets = [PASSWORD]
    response = client.post(
        "/admin/accounts/new", data={"email": "a@example.police.uk", "role": "staff", "method": "temporary"}
    )
    secrets.append(soup(response).select_one("#temporary-password")["value"])
    response = client.post(
        "/admin/accounts/new", data={"email": "b@example.police.uk", "role": "staff", "method": "link"}
    )
    secrets.append(soup(response).select_one("#set-password-link")["value"].rsplit("/", 1)[-1])
    user = users.get_by_email("a@example.police.uk")
    response = client.post(f"/admin/accounts/{user.id}/reset-password", data={"method": "link"})
    secrets.append(soup(response).select_one("#set-password-link")["value"].rsplit("/", 1)[-1])
    sign_in(app.test_client(), "a@example.police.uk", "a wrong password guess")
    dumped = json.dumps(
        [[e.action, e.actor, e.target, e.address, e.detail] for e in db.session.scalars(select(AuditEvent))]
    )
    assert db.session.scalar(select(func.count(AuditEvent.id))) >= 5
    for secret in secrets:
        assert secret not in dumped
    hashes = [h for h in db.session.scalars(select(User.password_hash))]
    assert not any(h in dumped for h in hashes)


def test_create_account_service_refuses_an_unknown_role(app, make_user):
    with pytest.raises(AccountError, match="role"):
        users.create_account("r@example.police.uk", "superuser", PasswordMethod.LINK, by=make_user("admin"))


def test_a_huge_account_number_is_404_not_a_crash(client, admin):
    big = "9" * 30
    assert client.get(f"/admin/accounts/{big}").status_code == 404
    assert client.post(f"/admin/accounts/{big}/disable").status_code == 404


def test_the_new_account_form_preselects_no_role_and_refuses_none(client, admin):
    page = soup(client.get("/admin/accounts/new"))
    radios = page.select("input[name=role]")
    assert [r["value"] for r in radios] == ["staff", "editor", "admin"]
    assert not any(r.has_attr("checked") for r in radios)

    response = client.post(
        "/admin/accounts/new", data={"email": "norole@example.police.uk", "method": "link"}
    )
    assert response.status_code == 200
    page = soup(response)
    assert [a.get_text(strip=True) for a in page.select(".error-summary__list a")] == ["Select a role"]
    assert page.select_one("#email")["value"] == "norole@example.police.uk"  # the rest of the form is kept
    assert users.get_by_email("norole@example.police.uk") is None
