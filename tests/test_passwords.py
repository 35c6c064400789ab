"""The password policy (NIST SP 800-63B): length, common and pattern passwords, the user's e-mail, the
unit's name and the last five passwords are refused with a message that says why; nothing else is."""

from __future__ import annotations

import itertools

import pytest
from bs4 import BeautifulSoup

from kb.services import passwords, users
from kb.services.users import PasswordPolicyError
from tests.conftest import PASSWORD

EMAIL = "jane.smith@example.police.uk"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", "repeats the same few characters"),
        ("            ", "repeats the same few characters"),
        ("123456789012", "too easy to guess"),
        ("qwerty123456", "most common passwords"),
        ("passwordpass", "too easy to guess"),
        ("qwertyuiopasdf", "too easy to guess"),
        ("jane.smith@example.police.uk1", "e-mail address"),
        ("janesmith2026!", "e-mail address"),
        ("Sm1th-and-more-words", "e-mail address"),
        ("I love SEROCU a lot", "unit's name"),
        ("s3r0cu forever and ever", "unit's name"),
        ("rocu-rocks-the-night", "unit's name"),
        ("short", "at least 12 characters"),
    ],
)
def test_weak_and_guessable_passwords_are_refused_with_the_reason(app, password, why):
    with pytest.raises(PasswordPolicyError, match=why):
        users.check_password_policy(password, email=EMAIL)


@pytest.mark.parametrize(
    "password", [PASSWORD, "purple monkey dishwasher", "Tr0ub4dor&3 plus", "ünïcödé wörds hére"]
)
def test_long_uncommon_passwords_pass_whatever_their_characters(app, password):
    users.check_password_policy(password, email=EMAIL)


def test_every_common_password_shipped_is_refused():
    listed = passwords.common_passwords()
    assert len(listed) >= 10_000
    accepted = [p for p in listed if passwords.problem(p) is None]
    assert accepted == []


def test_the_last_five_passwords_cannot_be_chosen_again(app):
    user = users.create_user("rotate@example.police.uk", "staff", PASSWORD)
    chosen = [PASSWORD, *(f"brand new phrase number {n}" for n in range(1, 6))]
    for old, new in itertools.pairwise(chosen):
        users.change_password(user, old, new)
    current = chosen[-1]
    for reused in chosen[-5:-1]:
        with pytest.raises(PasswordPolicyError, match="used this password before"):
            users.change_password(user, current, reused)
    assert len(user.password_history) == 5
    assert all(h.password_hash.startswith("scrypt:") for h in user.password_history)
    users.change_password(user, current, PASSWORD)  # the sixth-last is allowed again


def test_the_change_password_form_says_why_next_to_the_new_password(client, auth):
    auth.login("staff")
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "passwordpass",
            "confirm_password": "passwordpass",
        },
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    links = [(a.get_text(strip=True), a["href"]) for a in page.select(".error-summary__list a")]
    assert len(links) == 1 and links[0][1] == "#new_password"
    assert "too easy to guess" in links[0][0]
    assert "too easy to guess" in page.select_one("#new_password-error").get_text()


def test_the_set_password_link_applies_the_policy(app, client):
    admin = users.create_user("boss@example.police.uk", "admin", PASSWORD)
    _user, credentials = users.create_account(
        "linked.person@example.police.uk", "staff", users.PasswordMethod.LINK, by=admin
    )
    client.get(f"/account/set-password/{credentials.secret}")
    response = client.post(
        "/account/set-password", data={"new_password": "linkedperson1", "confirm_password": "linkedperson1"}
    )
    assert response.status_code == 200
    assert "e-mail address" in response.get_data(as_text=True)
    assert users.user_for_set_password_token(credentials.secret) is not None  # still usable


def test_create_user_command_applies_the_policy(runner, app):
    args = ["kb", "create-user", "--email", "cli@example.police.uk", "--role", "staff", "--password-stdin"]
    result = runner.invoke(args=args, input="qwerty123456\n")
    assert result.exit_code != 0 and "most common passwords" in result.output
    assert users.get_by_email("cli@example.police.uk") is None
