"""Webhook endpoint responses, built from the stored row.

The services hand over an endpoint as a mapping of its stored columns. Two of
those are its signing secrets sealed at rest (Fernet tokens): no response shows
them, so they are left out here rather than trusted to each schema's field
list. The secret in clear exists only in the request that makes it (create,
rotate) and is added to that one response; no row or model keeps it.

Deliveries need nothing added or withheld: the routes hand their rows to the
schema as the services return them.
"""

#: Columns holding sealed secrets: stored, never shown.
SEALED = frozenset({"secret", "previous_secret"})


def endpoint(row):
    """An endpoint as every response shows it: its columns, the sealed secrets aside."""
    return {name: value for name, value in row.items() if name not in SEALED}


def endpoints(rows):
    """The company's endpoints, each as `endpoint` shows it."""
    return [endpoint(row) for row in rows]


def with_secret(row, secret):
    """An endpoint with its new signing secret in clear: the one response that shows it."""
    return dict(endpoint(row), secret=secret)
