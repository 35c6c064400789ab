"""Probes for a load balancer: ``/healthz`` (the process answers) and ``/readyz`` (the database answers
and this node's search index has caught up with the change log, within ``READY_MAX_CHANGES_BEHIND``)."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from kb.access import PUBLIC, access
from kb.extensions import db
from kb.indexing import sync

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@access(PUBLIC)
def healthz() -> tuple[dict, int]:
    """Say that the process is up (no database or index check)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
@access(PUBLIC)
def readyz() -> tuple[dict, int]:
    """Say whether this node should get traffic: database reachable, index usable and caught up."""
    store = current_app.extensions[sync.EXTENSION]
    checks: dict[str, object] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means the same thing here: not ready
        db.session.rollback()
        return {"status": "unavailable", "database": exc.__class__.__name__}, 503
    sync.catch_up_if_behind(store)
    behind = sync.changes_behind(store) if store.is_available() else None
    limit = int(current_app.config.get("READY_MAX_CHANGES_BEHIND", 50))
    checks["index"] = "missing" if behind is None else ("ok" if behind <= limit else "behind")
    checks["changes_behind"] = behind
    checks["index_writable"] = store.is_writable()
    ready = behind is not None and behind <= limit
    return {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503
