"""The stepping HTML page, opened in real headless Chromium and driven with its buttons and keys.

Chromium is driven over the DevTools protocol through ``--remote-debugging-pipe`` (JSON messages
separated by NUL bytes on file descriptors 3 and 4), so the test needs nothing beyond the
standard library: no selenium, no playwright, no websocket client.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from micrograd.explain import explain

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,900",
    "--remote-debugging-pipe",
]


def chromium_binary() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is not installed, so the HTML page cannot be checked in a browser. "
            "Install it with:  sudo apt-get install -y chromium   (or run `make test`, which installs it)"
        )
    return path


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def attach_pipes() -> None:  # runs in the child: Chromium reads fd 3 and writes fd 4
            r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.close(r)
            os.close(w)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=attach_pipes,
            close_fds=False,  # keep fds 3 and 4; every other fd Python made is close-on-exec anyway
            start_new_session=True,  # its own process group, so teardown can end Chromium's helpers too
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0

    def call(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20.0
    ) -> dict:
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data) :]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"DevTools {method} failed: {reply['error']}")
                return reply["result"]

    def _read(self, deadline: float, method: str) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"Chromium did not answer {method} in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise AssertionError(
                    f"Chromium closed the debugging pipe during {method} (exit {self.proc.poll()})"
                )
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


class Page:
    def __init__(self, devtools: DevTools, url: str) -> None:
        self.devtools = devtools
        target = devtools.call("Target.createTarget", {"url": url})["targetId"]
        self.session = devtools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        deadline = time.monotonic() + 20
        # Until the navigation commits, the target still shows a finished about:blank.
        # (the page then writes the open step into the address: #forward-1)
        while (
            self.js("location.href.split('#')[0] + ' ' + document.readyState")
            != f"{url.split('#')[0]} complete"
        ):
            assert time.monotonic() < deadline, "the page did not finish loading"
            time.sleep(0.05)

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.devtools.call(method, params, session=self.session)

    def js(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, f"{expression}: {result['exceptionDetails']}"
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click (press, release) at the middle of the element the CSS ``selector`` finds,
        as a user's mouse makes it."""
        x, y = self.js(
            f'(() => {{ const r = document.querySelector("{selector}").getBoundingClientRect();'
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )  # type: ignore[misc]
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1},
            )

    def key(self, key: str, code: int) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                {
                    "type": kind,
                    "key": key,
                    "code": key,
                    "windowsVirtualKeyCode": code,
                    "nativeVirtualKeyCode": code,
                },
            )

    def state(self) -> tuple[str, str, str]:
        """The counter text, the highlighted value's SVG id, and the visible panel's heading."""
        counter, active, heading = json.loads(
            self.js(
                """JSON.stringify([
                  document.querySelector(".mg-counter").textContent,
                  Array.from(document.querySelectorAll(".mg-graph g.node.active"))
                    .map(g => g.id).filter(id => /^v[0-9]+$/.test(id)).join(","),
                  document.querySelector("section.mg-panel:not([hidden]) h2").textContent])"""
            )
        )
        return counter, active, heading

    def box(self, name: str) -> str:
        """The texts of the graph's box for the value called ``name``: 'a|data 2.000|grad -2.000'."""
        return self.js(
            "Array.from(document.querySelectorAll('.mg-graph g.node')).filter(g => /^v[0-9]+$/.test(g.id))"
            ".map(g => Array.from(g.querySelectorAll('text')).map(t => t.textContent).join('|'))"
            f".find(t => t.startsWith({json.dumps(name + '|')}))"
        )  # type: ignore[return-value]

    def type(self, selector: str, text: str) -> None:
        """Focus an input and type into it key by key, as a student would."""
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", {"text": text})


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    devtools = DevTools(chromium_binary(), tmp_path / "profile")
    try:
        yield devtools
    finally:
        devtools.close()


# Labels that would run script in the page if they reached it as markup.
HOSTILE = ['<img src=x onerror="window.injected = 1">', "</script><script>window.injected = 2</script>"]


def test_html_page_steps_through_the_lesson_with_buttons_and_keys_in_chromium(
    tmp_path, browser, lecture_graph
):
    nodes = lecture_graph()  # a is reached by two paths
    nodes["b"].label, nodes["f"].label = HOSTILE  # the page must show these labels as text
    steps = explain(nodes["L"], lr=0.1)
    page_path = tmp_path / "backprop.html"
    steps.to_html(page_path)
    n = len(steps)
    assert (n, len(steps.forward)) == (4, 4)

    page = Page(browser, page_path.as_uri())
    counter, active, heading = page.state()
    assert counter == "Forward 1 / 4" and heading.startswith("Forward 1 / 4: computing c")
    assert page.box("c") == "c|data -6.000|grad ?"  # computed now: a * b = 2 * -3
    assert page.box("L") == "L|data ?|grad ?"  # not yet
    for _ in range(4):
        page.click(".mg-next")
    counter, active, heading = page.state()
    assert counter == f"Step 1 / {n}" and heading == "Step 1 / 4: L = d + e"
    assert page.box("L") == "L|data -4.000|grad 1.000"  # the seed: dL/dL = 1
    assert page.box("c") == "c|data -6.000|grad 0"  # not reached yet (its final gradient is 2)
    seen = [active]
    for k in range(2, n + 1):
        page.click(".mg-next")
        counter, active, heading = page.state()
        assert counter == f"Step {k} / {n}" and heading.startswith(f"Step {k} / {n}: ")
        assert active and active != seen[-1], "the highlighted node must move to the step's node"
        seen.append(active)
        if k == 2:  # e = a * 4 has given a its first contribution, 1 * 4 (its final gradient is -2)
            assert page.box("a") == "a|data 2.000|grad 4.000"
    assert len(set(seen)) == n  # one distinct node per step
    # The last step (c = a * b) adds a's second contribution: its box must show the final grad.
    assert page.box("a") == "a|data 2.000|grad -2.000"  # +4 via e, -6 via c: by hand
    page.click(".mg-next")
    counter, _, heading = page.state()
    assert counter == "Update" and page.box("a") == "a|data 2.200|grad -2.000"  # a <- 2 - 0.1 * (-2)
    assert page.js("document.querySelector('.mg-next').disabled") is True
    assert page.js("location.hash") == "#update"

    page.key("ArrowLeft", 37)
    assert page.state()[0] == f"Step {n} / {n}"
    page.click(".mg-prev")
    assert page.state()[0] == f"Step {n - 1} / {n}" and page.state()[1] == seen[-2]
    page.key("ArrowRight", 39)
    assert page.state()[0] == f"Step {n} / {n}"

    # A page that works offline loads nothing besides itself; the hostile labels ran nothing.
    assert page.js("performance.getEntriesByType('resource').length") == 0
    assert page.js("window.injected === undefined") is True
    for where in (".mg-panels", ".mg-graph"):
        shown = page.js(f'document.querySelector("{where}").textContent')
        assert all(label in shown for label in HOSTILE), where  # type: ignore[operator]

    shot = page.call("Page.captureScreenshot", {"format": "png"})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    assert image.size[0] >= 800 and image.size[1] >= 600
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "the screenshot is (nearly) one colour: a blank page"
    assert any(r > 200 and g < 90 and b < 90 for _, (r, g, b) in colors)  # the highlight red


# The lecture graph (a = 2, b = -3, f = 2; c = a*b, d = c*f, e = a*4, L = d + e), by hand: every
# value's data, and its grad after each backward step in the order backward takes the nodes
# (L = d + e; e = a * 4; d = c * f; c = a * b). None: not reached yet, shown as 0.
# Written as the page writes them: 4 significant digits, and 0 for a zero.
LECTURE_DATA = {"a": "2.000", "b": "-3.000", "f": "2.000", "c": "-6.000", "d": "-12.00", "e": "8.000",
                "L": "-4.000"}
LECTURE_GRADS = [
    {"L": "1.000"},
    {"L": "1.000", "d": "1.000", "e": "1.000"},  # dL/dd = dL/de = 1
    {"L": "1.000", "d": "1.000", "e": "1.000", "a": "4.000"},  # dL/da += dL/de * 4
    {"L": "1.000", "d": "1.000", "e": "1.000", "a": "4.000", "c": "2.000", "f": "-6.000"},  # f, c
    {"L": "1.000", "d": "1.000", "e": "1.000", "a": "-2.000", "c": "2.000", "f": "-6.000",
     "b": "4.000"},  # dL/da += 2 * b = -6; dL/db = 2 * a
]


def test_every_box_of_the_page_shows_that_steps_values_at_every_step(tmp_path, browser, lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    page_path = tmp_path / "steps.html"
    steps.to_html(page_path)
    page = Page(browser, page_path.as_uri())
    for _ in range(len(steps.forward)):  # through the forward pass to the first backward step
        page.click(".mg-next")
    for k in range(1, len(steps) + 1):
        assert page.state()[0] == f"Step {k} / {len(steps)}"
        grads = LECTURE_GRADS[k]
        for name, data in LECTURE_DATA.items():
            shown = page.box(name)
            assert shown == f"{name}|data {data}|grad {grads.get(name, '0')}", (k, name, shown)
        if k < len(steps):
            page.click(".mg-next")


def test_a_link_opens_its_step(tmp_path, browser, lecture_graph):
    steps = explain(lecture_graph()["L"])
    page_path = tmp_path / "backprop.html"
    steps.to_html(page_path)
    page = Page(browser, page_path.as_uri() + "#step-3")
    assert page.state()[0] == "Step 3 / 4"
    assert page.state()[2] == f"Step 3 / 4: {steps[2].name} = c * f"
    page.js("location.hash = '#forward-2'")
    deadline = time.monotonic() + 5
    while page.state()[0] != "Forward 2 / 4":
        assert time.monotonic() < deadline, "the page did not follow the link"
        time.sleep(0.05)


def test_quiz_checks_typed_answers_keeps_a_score_and_hides_answers_until_checked(
    tmp_path, browser, lecture_graph
):
    steps = explain(lecture_graph()["L"])
    page_path = tmp_path / "quiz.html"
    steps.to_html(page_path, quiz=True)
    page = Page(browser, page_path.as_uri() + "#step-4")  # c = a * b, upstream dL/dc = 2
    assert page.state()[0] == "Step 4 / 4"
    assert page.js("document.querySelector('.mg-score').textContent") == "Score 0 / 0"
    panel = "section.mg-panel:not([hidden])"
    assert page.js(f"document.querySelector('{panel} .mg-working').hidden") is True
    assert page.box("b") == "b|data -3.000|grad ?"  # the answer is not on the graph yet
    # by hand: dc/da = b = -3, dL/da = 4 + 2 * (-3) = -2; dc/db = a = 2, dL/db = 2 * 2 = 4
    inputs = f"{panel} form.mg-quiz input"
    for i, answer in enumerate(["-3", "-2", "2", "5"]):  # the last one wrong
        page.type(f"{panel} label:nth-of-type({i + 1}) input", answer)
    page.js(f"document.querySelector('{panel} form.mg-quiz button').click()")
    verdict = page.js(f"document.querySelector('{panel} .mg-verdict').textContent")
    assert verdict == "Not quite: 3 of 4 right. The working:"
    assert page.js("document.querySelector('.mg-score').textContent") == "Score 3 / 4"
    assert page.js(f"document.querySelector('{panel} .mg-working').hidden") is False
    assert (
        page.js(f"Array.from(document.querySelectorAll('{inputs}')).map(i => i.className).join(',')")
        == "right,right,right,wrong"
    )
    assert page.box("b") == "b|data -3.000|grad 4.000"  # revealed
    # the previous step, answered right within the tolerance (0.5%)
    page.click(".mg-prev")
    panel_inputs = f"{panel} label input"
    count = page.js(f"document.querySelectorAll('{panel_inputs}').length")
    assert count == 4  # d = c * f: dd/dc = f = 2, dL/dc = 2; dd/df = c = -6, dL/df = -6
    for i, answer in enumerate(["2", "2.0", "-6.01", "\u22126"]):
        page.type(f"{panel} label:nth-of-type({i + 1}) input", answer)
    page.js(f"document.querySelector('{panel} form.mg-quiz button').click()")
    assert page.js(f"document.querySelector('{panel} .mg-verdict').textContent") == "Right!"
    assert page.js("document.querySelector('.mg-score').textContent") == "Score 7 / 8"


def test_a_missing_chromium_fails_the_suite_instead_of_skipping(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium_binary()
