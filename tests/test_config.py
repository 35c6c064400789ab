"""The factory and configuration: defaults, environment overrides, the secret key and production safety."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kb import create_app
from kb.config import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


def test_secret_key_generated_once_with_private_mode(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32


def test_production_refuses_without_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="KB_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENV": "production"})
    assert not (tmp_path / "secret_key").exists()


def test_production_with_secret_sets_secure_cookies(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "ENV": "production", "SECRET_KEY": "x" * 40}
    app = create_app({**config, "SERVER_NAME": "kb.example"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("KB_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setenv("KB_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.instance_path == str((tmp_path / "inst").resolve())
    assert app.config["INDEX_DIR"] == str((tmp_path / "idx").resolve())
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'other.db'}"
    assert app.secret_key == "from-the-environment"


def test_default_database_is_sqlite_in_instance_folder(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kb.sqlite3'}"


def test_production_refusal_is_one_line_on_the_command_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(KB_ENV="production", KB_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "kb", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["kb: KB_ENV=production needs an explicit KB_SECRET_KEY; refusing to start without one."]
