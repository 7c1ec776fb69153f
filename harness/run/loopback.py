"""HTTP to the run's own target after the load: loopback only, one keep-alive connection each.

The read-backs that follow the load (durability, the consistency check's final
reads) send their requests from the harness itself, not from Locust. They may
only talk to the target the run published on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import urllib.parse

LOOPBACK = ("127.0.0.1", "localhost")


def loopback_base(target_url: str) -> urllib.parse.SplitResult:
    """The parsed target URL; ValueError unless it is http(s) on the loopback interface."""
    parsed = urllib.parse.urlsplit(target_url)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in LOOPBACK:
        raise ValueError(f"refusing to read back from {target_url!r}: not a 127.0.0.1 URL")
    return parsed


class KeepAlive:
    """One reader thread's persistent HTTP connection (no proxy: the target is loopback).

    Reusing the connection makes a read-back several times faster than a new
    connection per read; after any error it reconnects on the next request.
    """

    def __init__(self, target: urllib.parse.SplitResult) -> None:
        self.target = target
        self.conn: http.client.HTTPConnection | None = None

    def get(
        self, path: str, timeout: float, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """``GET path``: (status, body); raises OSError/HTTPException when there is no answer."""
        return self.request("GET", path, timeout, headers)

    def request(
        self,
        method: str,
        path: str,
        timeout: float,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, bytes]:
        """One request: (status, body); raises OSError/HTTPException when there is no answer."""
        if self.conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.target.scheme == "https"
                else http.client.HTTPConnection
            )
            self.conn = cls(self.target.hostname or "127.0.0.1", self.target.port, timeout=timeout)
        elif self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
