"""Pod names at the edges of what the API server accepts (issue 13), shared by the
integration tests of every backend.

A pod name is a DNS-1123 subdomain: at most 253 characters of [a-z0-9-.], labels between
dots starting and ending alphanumeric, and no limit per label (a 65-character name without a
dot is valid). Namespaces and container names are labels (at most 63).
"""


def _name(length, tag, dots=False, last="z"):
    """A valid pod name of exactly `length` characters starting with `tag`."""
    s = tag
    while len(s) < length:
        # With dots: a '.' every 50 characters, never first, last or next to another one.
        if dots and len(s) % 50 == 49 and len(s) + 2 < length and s[-1] != ".":
            s += "."
        else:
            s += "abcdefghij0123456789"[len(s) % 20]
    s = s[:length - 1] + last
    assert len(s) == length, (length, len(s))
    return s


def long_pod_names(tag="n"):
    """(label, name) pairs: 63, 64, 65 (issue 13's example shape), 200 with dots, 253, and a
    second 253 that differs from the first only in its last character."""
    return [
        ("63", _name(63, tag + "63-")),
        ("64", _name(64, tag + "64-")),
        ("65", "multi-container-partial-fail-2a84afea-a1bb-486c-8855-29278af0901" + tag[:1]),
        ("200", _name(200, tag + "200-", dots=True)),
        ("253a", _name(253, tag + "253-", dots=True, last="1")),
        ("253b", _name(253, tag + "253-", dots=True, last="2")),
    ]


MAX_LABEL = "c" * 63  # a container name (or namespace) of the maximal length
