"""WSGI entry point: ``flask --app wsgi ...`` and ``waitress-serve --call wsgi:main``."""

import sys

from kb import create_app
from kb.config import ConfigurationError
from kb.instance_checks import debugging, explain

try:
    app = create_app()
except ConfigurationError as exc:
    sys.exit(f"kb: {exc}")
except Exception as exc:
    # A missing database driver or an instance folder that cannot be written: one line, not a traceback.
    problem = None if debugging() else explain(exc)
    if problem is None:
        raise
    sys.exit(f"kb: {problem}")
