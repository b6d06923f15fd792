"""WSGI entry of the registry: gunicorn registry.wsgi:app."""

from registry import create_app
from registry.notify.worker import start_delivery_thread

app = create_app()
# Each server process delivers queued email itself, unless REGISTRY_OUTBOX_WORKER=off (docs/registry.md).
start_delivery_thread(app)
