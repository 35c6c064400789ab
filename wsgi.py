"""WSGI entry point: ``flask --app wsgi ...`` and ``waitress-serve --call wsgi:main``."""

import sys

from kb import create_app
from kb.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as exc:
    sys.exit(f"kb: {exc}")
