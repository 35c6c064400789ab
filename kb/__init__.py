"""Capability Knowledge Base: the application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from kb import config as kb_config
from kb import database
from kb.extensions import csrf, db, limiter, login_manager, migrate
from kb.hosts import KnowledgeBaseApp


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the application.

    :raise kb.config.ConfigurationError: the configuration is unsafe (e.g. production without a secret key).
    """
    instance_path = (test_config or {}).get("INSTANCE_PATH") or kb_config.instance_path_from_env()
    app = KnowledgeBaseApp(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.from_object(kb_config.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KB")
    if test_config is not None:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    kb_config.finalise(app.config, app.instance_path)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(kb_config.PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from kb import auth_session, cli, delivery, hosts, security, templating
    from kb.services import search as search_service
    from kb.views import admin, auth, editor, errors, health, public, two_factor
    from kb.views import api as api_views
    from kb.views import search as search_views

    hosts.init_app(app)
    security.init_app(app)
    auth_session.init_app(app)
    templating.init_app(app)
    delivery.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(two_factor.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(search_views.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(health.bp)
    search_service.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
