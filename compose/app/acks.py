"""When the reference app may acknowledge a Redis write, and what it answers when not.

Pure (no Redis import) so that the rule is unit-tested on hand-written replies
(tests/unit/stacks/test_reference_app_acks.py). A consistency checker reads the
answer the way Jepsen does: 2xx means the operation took effect, a 4xx a
definite failure (it did not), a 5xx or a timeout an unknown (it may have).
So the app answers 4xx only when Redis refused the command before running it.
"""

# Redis refuses these before running the write: a replica (READONLY), or a primary
# with too few replicas in sync (NOREPLICAS, min-replicas-to-write). Nothing was
# applied, so the answer is a definite failure.
REFUSED = ("NOREPLICAS", "READONLY")
# 421 Misdirected Request: this server will not answer authoritatively for the key.
REFUSED_STATUS = 421
# The write was applied on this primary but too few replicas confirmed it: a
# failover may keep it or throw it away, so the answer must say "unknown".
UNCONFIRMED_STATUS = 503


def refused_before_running(error):
    """Whether a Redis error reply means the command was refused, not run.

    redis-py turns ``READONLY ...`` into ReadOnlyError with the code cut off, and
    leaves ``NOREPLICAS ...`` (also inside a script's error) in the message."""
    if type(error).__name__ == "ReadOnlyError":
        return True
    words = str(error).split()
    return any(code in words for code in REFUSED)


def judge(replies, wait_replicas):
    """The answer to a pipeline of one command, an optional fence write and an
    optional ``WAIT wait_replicas``: ``(the command's reply, None)`` when the app may
    acknowledge it, else ``(None, (status, why))``.

    ``replies`` are the pipeline's replies, errors as exception objects
    (``execute(raise_on_error=False)``). An error that is no refusal is raised: the
    caller answers it like any Redis error (503, unknown)."""
    for reply in replies:
        if isinstance(reply, Exception):
            if refused_before_running(reply):
                return None, (REFUSED_STATUS, f"refused by redis: {reply}")
            raise reply
    if wait_replicas and replies[-1] < wait_replicas:
        why = f"not replicated: {replies[-1]} of {wait_replicas} replicas acknowledged"
        return None, (UNCONFIRMED_STATUS, why)
    return replies[0], None
