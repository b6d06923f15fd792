"""gunicorn settings of the portal: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
timeout = 30
control_socket_disable = True
# Browsers open spare keep-alive connections; threads keep one idle connection from blocking a whole worker.
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", "4"))
