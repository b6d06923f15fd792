"""The floor for the portal's throughput: a Flask app whose one route returns a saved page, doing nothing else.

`TRIVIAL_BODY_PATH=<file> gunicorn -c gunicorn.conf.py bench.trivial_app:app` serves the file's bytes as text/html at
/lv/services under the portal's own gunicorn config, so bench/portal.py can compare the portal with it.
The file is read once per worker at import: requests measure Flask and gunicorn, not the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["TRIVIAL_BODY_PATH"]).read_bytes()

app = Flask(__name__)


@app.get("/lv/services")
def page() -> Response:
    """Return the saved bytes."""
    return Response(BODY, mimetype="text/html")
