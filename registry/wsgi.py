"""WSGI entry of the registry: gunicorn registry.wsgi:app."""

from registry import create_app

app = create_app()
