"""Uploaded files of the signed-in principal: upload, download, delete.

An upload is the file itself as the body (`application/octet-stream`) with its name in `?name=`. The registry
decides what it is from its content (registry/models/files.py), keeps it under a random id, and gives it back only
to its owner, as an attachment that no browser will render or sniff. Which types and sizes a question accepts is
checked when the application is submitted; here, any supported type up to REGISTRY_MAX_FILE_BYTES.

Every upload is scanned for viruses before it is stored (registry/antivirus.py, REGISTRY_ANTIVIRUS), fail-closed:
a file the scanner finds something in is refused (422 `file.infected`), and so is every file while the scanner
cannot give a verdict (503 `file.scan_unavailable`). Either way nothing is stored. The log says the verdict, the
size and the SHA-256, never the file's name or whose it is.
"""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import quote

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.antivirus import ScannerUnavailable, scanner
from registry.api import API_PREFIX, api
from registry.api.personal import private, resource_id, scrubbed
from registry.api.problems import ApiProblem
from registry.db import db_session
from registry.identity import require_identity
from registry.models.files import TYPES_BY_EXTENSION, content_type_of, file_document, get_file, safe_name, store_file
from registry.models.tables import StoredFile

logger = logging.getLogger(__name__)

# Files are served as downloads only: no type sniffing, no rendering, no scripts even if something slipped through.
DOWNLOAD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _problem(detail: str, key: str, status: int = 422) -> ApiProblem:
    return ApiProblem(status, detail, errors=[{"pointer": "#", "detail": key}])


def _scan(content: bytes) -> None:
    """Have the scanner look at an upload before it is stored; refuse it unless the scanner says it is clean."""
    chosen = scanner(current_app)
    started = time.perf_counter()
    try:
        verdict = chosen.scan(content)
    except ScannerUnavailable as error:
        # Fail closed: without a verdict nothing is stored. The person is asked to try again later.
        logger.error("upload refused, no virus scan (%s, %d bytes): %s", chosen.name, len(content), error)
        raise _problem(
            "The file could not be scanned for viruses right now, so it was not stored. Try again later.",
            "file.scan_unavailable",
            503,
        ) from error
    took = (time.perf_counter() - started) * 1000
    if verdict.infected:
        digest = hashlib.sha256(content).hexdigest()
        logger.warning(
            "upload refused, infected: %s found by %s (%d bytes, sha256 %s, %.0f ms)",
            verdict.signature,
            chosen.name,
            len(content),
            digest,
            took,
        )
        raise _problem("The file contains a virus or other malware, so it was not stored.", "file.infected")
    if verdict.scanned:
        logger.info("upload scanned clean by %s (%d bytes, %.0f ms)", chosen.name, len(content), took)


def _file(principal: str, file_id: str) -> StoredFile:
    found = get_file(db_session(), principal, resource_id(file_id, "file"))
    if found is None:
        raise ApiProblem(404, "There is no such file.")
    return found


@api.post("/me/files")
@scrubbed
def upload_file() -> Response:
    """Store an upload of the principal's; 201 with its id, name, size and type as found from its content."""
    identity = require_identity()
    if request.mimetype != "application/octet-stream":
        raise ApiProblem(415, "Send the file itself as the body, as application/octet-stream.")
    name = safe_name(request.args.get("name", ""))
    if name is None:
        raise ApiProblem(
            422, "Name the file, with its extension, in ?name=.", errors=[{"parameter": "name", "detail": "type"}]
        )
    limit = current_app.config["MAX_FILE_BYTES"]
    # Above the JSON body limit: files are the largest bodies. One byte more than allowed is read, because a body
    # without Content-Length (chunked) is cut at max_content_length without an error: a longer one is refused here.
    request.max_content_length = limit + 1
    try:
        content = request.get_data(cache=False)
    except RequestEntityTooLarge:
        content = None
    if content is None or len(content) > limit:
        raise _problem(f"The file is larger than {limit} bytes.", "file.size", 413)
    if request.content_length is not None and len(content) != request.content_length:
        # The connection ended before the bytes Content-Length promised: never store a cut file as the whole.
        raise _problem("The upload ended before its Content-Length.", "file.unreadable", 400)
    if not content:
        raise _problem("The file is empty.", "file.empty")
    content_type = content_type_of(content, name)
    if content_type is None:
        kinds = ", ".join(sorted(TYPES_BY_EXTENSION))
        raise _problem(f"The file's content is not what its name says, or not one of: {kinds}.", "file.type")
    _scan(content)
    session = db_session()
    stored = store_file(session, identity.principal, name, content, content_type)
    session.commit()
    return private(file_document(stored), 201, {"Location": f"{API_PREFIX}/me/files/{stored.id}"})


@api.get("/me/files/<file_id>")
@scrubbed
def download_file(file_id: str) -> Response:
    """Return one of the principal's files as an attachment under its stored name."""
    return send_file(_file(require_identity().principal, file_id))


def send_file(stored: StoredFile) -> Response:
    """Answer with a stored file as an attachment under its stored name, never rendered or sniffed."""
    response = Response(stored.content, mimetype=stored.content_type)
    ascii_name = stored.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name, safe='')}"
    )
    response.headers.update(DOWNLOAD_HEADERS)
    return response


@api.delete("/me/files/<file_id>")
@scrubbed
def delete_file(file_id: str) -> Response:
    """Delete an upload that no submitted application has taken (409 once it has)."""
    session = db_session()
    stored = _file(require_identity().principal, file_id)
    if stored.application_id is not None:
        raise ApiProblem(409, "The file is part of a submitted application and cannot be deleted.")
    session.delete(stored)
    session.commit()
    return private(None, 204)
