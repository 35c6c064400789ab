"""The `kb` command group."""

from kb.extensions import db
from kb.models import User
from kb.services import users


def test_create_user_with_password_stdin(runner, app):
    result = runner.invoke(
        args=["kb", "create-user", "--email", "HR@Example.police.uk", "--role", "editor", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = users.get_by_email("hr@example.police.uk")
    assert user.role == "editor"
    assert users.password_matches(user, "a long enough password")


def test_create_user_prompts_twice(runner, app):
    result = runner.invoke(
        args=["kb", "create-user", "--email", "a@example.police.uk", "--role", "staff"],
        input="twelve chars long\ntwelve chars long\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output


def test_create_user_refuses_short_password_and_duplicates(runner, app):
    result = runner.invoke(
        args=["kb", "create-user", "--email", "a@example.police.uk", "--role", "staff", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code != 0 and "at least 12" in result.output
    ok = ["kb", "create-user", "--email", "b@example.police.uk", "--role", "staff", "--password-stdin"]
    assert runner.invoke(args=ok, input="long enough password\n").exit_code == 0
    again = runner.invoke(args=ok, input="long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_seed_command_reports(runner):
    result = runner.invoke(args=["kb", "seed"])
    assert result.exit_code == 0
    assert "0 created" in result.output


def test_bootstrap_creates_one_admin_once(runner, app):
    first = runner.invoke(args=["kb", "bootstrap"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    admins = db.session.query(User).filter_by(role="admin").all()
    assert len(admins) == 1
    password = first.output.split("password:")[1].split()[0]
    assert len(password) >= 16
    assert users.password_matches(admins[0], password)
    second = runner.invoke(args=["kb", "bootstrap"])
    assert "password:" not in second.output
    assert db.session.query(User).count() == 1


def test_bootstrap_creates_no_account_in_production(tmp_path):
    from flask_migrate import upgrade  # noqa: F401

    from tests.conftest import make_app

    app = make_app(tmp_path / "inst", ENV="production")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["kb", "bootstrap"])
        assert result.exit_code == 0, result.output
        assert "password:" not in result.output
        assert db.session.query(User).count() == 0
        db.engine.dispose()
