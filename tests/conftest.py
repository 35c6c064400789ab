"""Shared fixtures: an app on a temporary instance folder and index, seeded once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from kb import create_app
from kb.extensions import db
from kb.services import content, users

PASSWORD = "correct horse battery staple"


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
    return create_app(config)


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory) -> Path:
    """An instance folder migrated and seeded once; each test gets a copy."""
    instance = tmp_path_factory.mktemp("seeded")
    app = make_app(instance)
    with app.app_context():
        upgrade()
        content.seed()
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
