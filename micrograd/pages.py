"""What every self-contained page shares (the lesson's stepper, the training page): its package files
filled in one pass, and data a script reads, safe inside the page.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files


@cache
def resource(package: str, *path: str) -> str:
    """A text file shipped in ``package``: ``resource("micrograd.explain", "page.js")``."""
    found = files(package)
    for part in path:
        found = found.joinpath(part)
    return found.read_text(encoding="utf-8")


def fill(template: str, fields: dict[str, str]) -> str:
    """``template`` with each ``@NAME@`` replaced by ``fields["NAME"]``, in one pass over the template,
    so a value that reads "@DATA@" (a user's label) is never substituted itself."""
    return re.sub(r"@([A-Z]+)@", lambda m: fields[m.group(1)], template)


def script_data(data: object) -> str:
    """``data`` as JSON to put inside a ``<script>`` element: "<" written as \\u003c, so no string in
    it can close the element."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def script_text(source: str) -> str:
    """A script's source to put inside a ``<script>`` element: "</" written as "<\\/" (the same
    JavaScript), so nothing in it closes the element."""
    return source.replace("</", "<\\/")
