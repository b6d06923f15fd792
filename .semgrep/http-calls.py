# Tests of the rules in http-calls.yml: `semgrep --test .semgrep/` (make security).
import smtplib
import socket
import urllib.request

import requests
import requests_cache

# ruleid: http-call-without-timeout, registry-client-follows-redirects
requests.get("http://127.0.0.1:5001/healthz")
# ruleid: http-call-without-timeout
requests.post("http://127.0.0.1:5001/", json={}, allow_redirects=False)
# ruleid: registry-client-follows-redirects
requests.request("GET", "http://127.0.0.1:5001/", timeout=(2, 5))
# ok: http-call-without-timeout, registry-client-follows-redirects
requests.get("http://127.0.0.1:5001/", timeout=(2, 5), allow_redirects=False)


def send(session: requests.Session, cached: requests_cache.CachedSession, url: str) -> None:
    # ruleid: http-call-without-timeout
    session.get(url, allow_redirects=False)
    # ruleid: http-call-without-timeout
    cached.request("GET", url, allow_redirects=False)
    # ok: http-call-without-timeout, registry-client-follows-redirects
    session.get(url, timeout=(2, 5), allow_redirects=False)
    # ruleid: registry-client-follows-redirects
    session.put(url, data=b"", timeout=(2, 5))


class Client:
    def __init__(self) -> None:
        self._private_session = requests.Session()
        self.headers: dict[str, str] = {}

    def call(self, url: str) -> None:
        # ruleid: http-call-without-timeout
        self._private_session.request("GET", url, allow_redirects=False)
        # ok: http-call-without-timeout, registry-client-follows-redirects
        self._private_session.request("GET", url, timeout=(2, 5), allow_redirects=False)
        # ok: http-call-without-timeout, registry-client-follows-redirects
        self.headers.get("Accept")
        # ok: http-call-without-timeout, registry-client-follows-redirects
        self._private_session.headers.get("Accept")


def database(session: object, model: type, key: str) -> None:
    # ok: http-call-without-timeout
    session.get(model, key)  # a SQLAlchemy session: no HTTP


# ruleid: connection-without-timeout
smtplib.SMTP("127.0.0.1", 25)
# ok: connection-without-timeout
smtplib.SMTP("127.0.0.1", 25, timeout=10)
# ruleid: connection-without-timeout
urllib.request.urlopen("http://127.0.0.1/")
# ok: connection-without-timeout
urllib.request.urlopen("http://127.0.0.1/", timeout=5)
# ruleid: connection-without-timeout
socket.create_connection(("127.0.0.1", 80))
# ok: connection-without-timeout
socket.create_connection(("127.0.0.1", 80), 5)
