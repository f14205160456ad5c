"""The web console in a real browser (docs/console.md): Debian's Chromium, driven by
Playwright, against real `graphport dev` processes. Each test does what a user does and
checks what they see; every request the page makes must stay on the server's origin."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port
from processes import EXAMPLES, ROOT, dev

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    missing = f"{CHROMIUM} is missing: `apt-get install chromium` runs the console's browser tests"
    if os.environ.get("CI"):  # .ci/run installs it: CI must not pass by skipping them
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing, allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra)")
from playwright.sync_api import Browser, Page, expect  # noqa: E402

TEST_CONFIG = ROOT / "tests" / "langgraph.json"  # the examples plus `slow`
IMAGES = ROOT / "docs" / "images"
KEY = "console-test-key"
# Headless, and nothing that reaches out of the machine on its own (docs/console.md#testing).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000  # a busy 2-core machine: generous, never a timed assertion

expect.set_options(timeout=WAIT_MS)


def _start(args: list[str], tmp: Path, name: str) -> Iterator[str]:
    port = free_port()
    with dev([*args, "--database", str(tmp / f"{name}.db"), "--port", str(port)], tmp, name) as p:
        url = p.url()
        p.wait_ok(url)
        assert f"Console:   {url}/console/" in p.stdout.splitlines()[1]
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _start(["--config", str(TEST_CONFIG)], tmp_path_factory.mktemp("console"), "dev")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("console-key")
    yield from _start(["--config", str(EXAMPLES), "--api-key", KEY], tmp, "keyed")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh browser profile on the console; afterwards, no request may have left `url`."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{url}/console/")
    yield page
    context.close()
    assert requests, "the page made no request"
    foreign = [r for r in requests if not r.startswith(url + "/") and not r.startswith("data:")]
    assert foreign == [], f"requests left the server's origin: {foreign}"


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    yield from _page(browser, server)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: the README's images with GRAPHPORT_UPDATE_SCREENSHOTS=1, else a
    temporary folder (a test run leaves the work tree as it was)."""
    if os.environ.get("GRAPHPORT_UPDATE_SCREENSHOTS") == "1":
        return IMAGES
    return tmp_path_factory.mktemp("screenshots")


def shot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"console-{name}.png"))


def open_graph(page: Page, graph: str) -> None:
    """From the assistants list, start a thread with a graph's default assistant."""
    expect(page.get_by_role("heading", name="Assistants")).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("cell", name=graph, exact=True)).first
    row.get_by_role("button", name="Chat / run").click()
    expect(page.get_by_text("No run started here yet.")).to_be_visible()


def run_json(page: Page, value: str) -> None:
    box = page.get_by_test_id("input-json")
    # As a user would: once the page has loaded what it shows (the skeleton from the
    # graph's input schema among it), so nothing re-renders the box while it is typed in.
    page.wait_for_load_state("networkidle")
    box.fill(value)
    expect(box).to_have_value(value)
    page.get_by_role("button", name="Run", exact=True).click()


def run_badge(page: Page) -> Any:
    return page.get_by_test_id("run-bar").get_by_test_id("status")


def send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("transcript")).to_contain_text(f"You said: {text}")
    expect(run_badge(page)).to_have_text("success")


def test_chat_streams_the_reply(page: Page, shots: Path) -> None:
    open_graph(page, "agent")
    send(page, "hello from the console")
    transcript = page.get_by_test_id("transcript")
    expect(transcript.get_by_test_id("message-human")).to_contain_text("hello from the console")
    reply = transcript.get_by_test_id("message-ai")
    expect(reply).to_contain_text("You said: hello from the console")
    # The reply arrived token by token: several `messages` events in the live log.
    log = page.get_by_test_id("event-log")
    expect(log.locator(".event-name", has_text=re.compile(r"^messages$")).nth(2)).to_be_visible()
    expect(log.locator(".event-name", has_text=re.compile(r"^values$")).first).to_be_visible()
    expect(page.locator(".badge", has_text="idle").first).to_be_visible()
    shot(page, shots, "chat")


def test_interrupt_is_resumed_from_the_form(page: Page) -> None:
    open_graph(page, "hitl")
    run_json(page, '{"topic": "otters"}')
    interrupt = page.get_by_test_id("interrupt")
    expect(interrupt).to_contain_text("Approve this draft?")
    expect(interrupt).to_contain_text("A short note about otters.")
    expect(run_badge(page)).to_have_text("success")  # the run ended; the thread waits
    expect(page.locator(".page-head .badge")).to_have_text("interrupted")
    interrupt.get_by_label("Resume value").fill("Otters hold hands while they sleep.")
    interrupt.get_by_role("button", name="Resume").click()
    expect(page.locator(".page-head .badge")).to_have_text("idle")
    expect(page.get_by_test_id("interrupt")).to_have_count(0)
    expect(page.locator(".json-tree").first).to_contain_text("Otters hold hands while they sleep.")


def test_fork_from_an_earlier_checkpoint(page: Page, shots: Path) -> None:
    open_graph(page, "agent")
    send(page, "first")
    send(page, "second")
    page.get_by_role("link", name="history").click()
    timeline = page.get_by_test_id("timeline")
    # The end of the first turn: step 1, before the second message came in.
    timeline.locator("li", has_text=re.compile(r"^step 1 loop")).get_by_role("link").click()
    checkpoint = page.get_by_test_id("checkpoint")
    expect(checkpoint).to_contain_text("You said: first")
    expect(checkpoint).not_to_contain_text("second")
    checkpoint.get_by_role("button", name="Fork from here").click()
    expect(page.get_by_test_id("fork-notice")).to_be_visible()
    send(page, "a different second")
    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("You said: first")
    expect(transcript).not_to_contain_text("You said: second")
    page.get_by_role("link", name="history").click()
    # The forked checkpoint now has two children: each starts a branch.
    expect(timeline.get_by_text(re.compile("^branch from"))).to_have_count(2)
    shot(page, shots, "history")


def test_cancel_a_slow_run(page: Page, shots: Path) -> None:
    open_graph(page, "slow")
    run_json(page, '{"steps": 20, "delay": 0.5}')
    expect(run_badge(page)).to_have_text("running")
    # The node executing is highlighted in the graph.
    graph = page.get_by_test_id("graph")
    expect(graph.locator(".graph-node.running", has_text="tick")).to_be_visible()
    shot(page, shots, "running")
    # A reload drops the stream: the page rejoins the run in flight (Last-Event-ID).
    page.reload()
    expect(run_badge(page)).to_have_text("running")
    expect(graph.locator(".graph-node.running", has_text="tick")).to_be_visible()
    log = page.get_by_test_id("event-log")
    expect(log.locator(".event-name", has_text="tasks").first).to_be_visible()
    page.get_by_role("button", name="Cancel run").click()
    expect(run_badge(page)).to_have_text("interrupted")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)


def test_browse_the_store(page: Page, shots: Path) -> None:
    open_graph(page, "memory")
    run_json(page, '{"remember": "I like green tea"}')
    expect(run_badge(page)).to_have_text("success")
    page.get_by_role("link", name="Store").click()
    page.get_by_test_id("namespaces").get_by_role("link", name="memories / default").click()
    items = page.get_by_test_id("items")
    expect(items).to_contain_text("I like green tea")
    expect(page).to_have_url(re.compile(r"#/store\?ns=memories%2Fdefault$"))
    page.go_back()  # the back button: the unfiltered store again
    expect(page).to_have_url(re.compile(r"#/store$"))
    page.get_by_role("button", name="Toggle dark mode").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()  # kept in the browser
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.screenshot(path=str(shots / "console-dark.png"))


def test_api_key_prompt(browser: Browser, keyed_server: str) -> None:
    for page in _page(browser, keyed_server):
        dialog = page.get_by_role("dialog", name="Credentials")
        expect(dialog).to_contain_text("401 Unauthorized")
        dialog.get_by_label("API key or token").fill(KEY)
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_have_count(0)
        expect(page.get_by_role("link", name="agent", exact=True)).to_be_visible()
        page.reload()  # the key is kept in the browser
        expect(page.get_by_role("link", name="hitl", exact=True)).to_be_visible()
        expect(page.get_by_role("dialog", name="Credentials")).to_have_count(0)


def test_chromium_is_debians() -> None:
    """The driver uses the system browser; the project never downloads one of its own."""
    assert shutil.which("chromium") == CHROMIUM
