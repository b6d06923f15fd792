"""What both gunicorn configs share (gunicorn.conf.py, registry/gunicorn.conf.py): a private access log, and the
settings check that runs before any worker starts. Imported by gunicorn's master, so it imports nothing of the apps.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from gunicorn.glogging import Logger

# No client address, no query string (searches, file names, `next`), no referrer or user agent.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}i)s'
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VERIFICATION_CODE = re.compile(r"(/verify/)[^/]+")
_REQUEST_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class PrivateAccessLogger(Logger):
    """gunicorn's logger, with what an access line says about a request made safe to keep."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        """Escape control characters in the path (a %0A must not forge a line), hide verification codes.

        A verification code works like a password to a decision's facts; the request id is kept only if it is one.
        """
        atoms = super().atoms(resp, req, environ, request_time)
        path = _VERIFICATION_CODE.sub(r"\1[code]", atoms.get("U") or "")
        atoms["U"] = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", path)
        request_id = atoms.get("{x-request-id}i") or ""
        atoms["{x-request-id}i"] = request_id if _REQUEST_ID.fullmatch(request_id) else "-"
        return atoms


_CHECK = """
import sys
try:
    from {module} import check_environment
    check_environment()
except RuntimeError as exc:
    sys.exit(str(exc))
"""


def settings_check(config_module: str) -> Callable[[Any], None]:
    """Return gunicorn's `on_starting` hook: run `config_module.check_environment()` in a child process (so the
    master imports none of the app, and `kill -HUP` still loads new code) and refuse to start with its one-line
    reason: gunicorn prints `Error: <reason>` and exits 1."""

    def on_starting(server: Any) -> None:
        result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", _CHECK.format(module=config_module)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines() or [f"the settings check failed ({result.returncode})"]
            raise RuntimeError(lines[-1])

    return on_starting
