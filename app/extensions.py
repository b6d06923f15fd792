"""Flask extensions, created unbound; create_app binds them."""

from __future__ import annotations

from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
