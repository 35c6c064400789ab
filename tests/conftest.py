"""Shared fixtures: an app on a temporary instance folder and index, seeded once per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade
from hypothesis import settings

from kb import create_app
from kb.extensions import db
from kb.services import content, search, users
from tests import databases

PASSWORD = "correct horse battery staple"

# Hypothesis profiles: "dev" (the default) is quick for local runs; "ci" (set by .ci/run) is thorough.
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(thorough: int) -> int:
    """How many examples a property test tries: ``thorough`` in CI, a tenth of it (at least 25) locally."""
    return thorough if HYPOTHESIS_PROFILE == "ci" else max(25, thorough // 10)


def make_app(instance: Path, **overrides):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret",
        "INDEX_DIR": str(instance / "index"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    if databases.using_postgres() and "DATABASE_URL" not in overrides:
        config["DATABASE_URL"] = databases.database_url_for(instance)
    if config.get("ENV") == "production":
        # Production refuses to start without a public host name, as a real deployment would.
        config.setdefault("SERVER_NAME", "kb.example.police.uk")
    return create_app(config)


def pytest_sessionstart(session):
    problem = databases.check_server()
    if problem:
        pytest.exit(problem, returncode=1)


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory) -> Path:
    """An instance folder migrated, seeded and indexed once; each test gets a copy (index included)."""
    instance = tmp_path_factory.mktemp("seeded")
    app = make_app(instance)
    with app.app_context():
        upgrade()
        content.seed()
        search.rebuild_index()
        db.engine.dispose()
    return instance


@pytest.fixture
def app(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_app(tmp_path):
    """An app whose database is migrated but holds no content."""
    app = make_app(tmp_path / "instance")
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def _make(role: str = "staff", email: str | None = None, password: str = PASSWORD):
        return users.create_user(email or f"{role}@example.police.uk", role, password)

    return _make


class AuthActions:
    """Sign in and out through the real /login and /logout, as a browser would."""

    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user

    def login(self, role: str = "editor", email: str | None = None, password: str = PASSWORD, client=None):
        """Create a user of ``role`` (unless ``email`` exists) and sign in; return the user."""
        user = users.get_by_email(email) if email else None
        user = user or self._make_user(role, email, password)
        response = (client or self._client).post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 303, f"sign-in failed: {response.status_code}"
        return user

    def logout(self, client=None):
        return (client or self._client).post("/logout")


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user)
