"""gunicorn settings of the registry: `gunicorn -c registry/gunicorn.conf.py registry.wsgi:app`."""

import os

bind = f"127.0.0.1:{os.environ.get('REGISTRY_PORT', '5001')}"
workers = int(os.environ.get("REGISTRY_WORKERS", "2"))
# Request lines over 8 KB are refused by gunicorn itself with 414; shorter over-long searches get a 400 problem.
limit_request_line = 8190
timeout = 30
# A control socket would be created under ~/.gunicorn; the registry does not use it.
control_socket_disable = True
