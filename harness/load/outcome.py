"""Classify one request's result into the fixed outcome classes of harness.records."""

from __future__ import annotations

_TIMEOUT_NAMES = frozenset({"TimeoutError", "timeout", "Timeout", "ReadTimeout", "ConnectTimeout"})
_REFUSED_NAMES = frozenset({"ConnectionRefusedError", "NewConnectionError"})
_RESET_NAMES = frozenset(
    {
        "ConnectionResetError",
        "ConnectionAbortedError",
        "BrokenPipeError",
        "RemoteDisconnected",
        "IncompleteRead",
        "HTTPConnectionClosed",
        "ProtocolError",
        "ChunkedEncodingError",
    }
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception plus its causes, and exceptions wrapped in args (requests does this)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 16:
        cur = todo.pop(0)
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        todo.extend(e for e in (cur.__cause__, cur.__context__) if e is not None)
        todo.extend(a for a in cur.args if isinstance(a, BaseException))
        reason = getattr(cur, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def _by_exception(exc: BaseException) -> str:
    chain = _chain(exc)
    names = [{k.__name__ for k in type(e).__mro__} for e in chain]
    for kinds in names:
        if kinds & _TIMEOUT_NAMES:
            return "timeout"
    for kinds in names:
        if kinds & _REFUSED_NAMES:
            return "refused"
    for kinds in names:
        if kinds & _RESET_NAMES:
            return "reset"
    text = " ".join(str(e) for e in chain).lower()
    if "timed out" in text or "timeout" in text:
        return "timeout"
    if "refused" in text:
        return "refused"
    if "reset" in text or "closed" in text or "disconnected" in text:
        return "reset"
    return "other"


def classify(status: int, exception: BaseException | None) -> str:
    """The outcome class of a request with HTTP ``status`` (0 = no response).

    The status wins over the exception: Locust reports 4xx/5xx as exceptions too.
    """
    if 400 <= status < 500:
        return "http_4xx"
    if 500 <= status < 600:
        return "http_5xx"
    if exception is not None:
        return _by_exception(exception)
    if 200 <= status < 400:
        return "ok"
    return "other"


def unanswered(status: int, exception: BaseException | None) -> bool:
    """No complete answer came: no status at all, or a status that is not an error but whose
    body never fully arrived (a 201 whose body read timed out). A write in that state may
    have landed: it is in doubt, neither acknowledged nor failed."""
    return exception is not None and not 400 <= status < 600
