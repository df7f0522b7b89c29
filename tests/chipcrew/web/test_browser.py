"""The workspace in a real browser: Debian's Chromium, headless, driven by Playwright against uvicorn on loopback.

Playwright's own browser download (``playwright install``) is never used: the tests launch the system Chromium by
its path and skip, saying so, only when there is none. Contexts bypass the page's Content-Security-Policy, which
would block Playwright's own evaluated checks: the escaping is then tested on its own, without that second guard.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.common import shared_data_dir

from .conftest import MIXPE_QUESTION

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)")
PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
ANSWERED = ".turn[data-done='1']"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, web_url: str):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web_url)
    page.wait_for_selector("body[data-ready='1']")
    yield page
    context.close()
    assert not errors, errors


def ask(page, text: str) -> None:
    done = page.locator(ANSWERED).count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(f"document.querySelectorAll(\"{ANSWERED}\").length > {done}", timeout=60_000)


def images_loaded(page, selector: str = ".artefacts img") -> list[int]:
    """Natural widths of the images under ``selector`` once each has finished loading."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].length > 0 && [...document.querySelectorAll(s)].every(i => i.complete)",
        arg=selector,
    )
    return page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.naturalWidth)")


def test_a_mixpe_question_shows_the_answer_table_the_tool_call_and_the_plot(page) -> None:
    ask(page, MIXPE_QUESTION)
    turn = page.locator(ANSWERED).last
    assert "hardware_architect" in turn.locator(".meta").inner_text()
    assert "MixPE-W4A8" in turn.locator(".answer table").inner_text()
    call = turn.locator(".calls details").first
    assert "mixpe_perf" in call.locator("summary").inner_text()
    call.locator("summary").click()
    assert '"model": "OPT-6.7B"' in call.locator("pre").inner_text()
    assert all(width > 0 for width in images_loaded(page))
    assert turn.locator(".downloads a", has_text="json").count() == 1


def test_an_uploaded_contact_clip_comes_back_as_a_mask_image(page) -> None:
    clip = shared_data_dir("via") / "StdContact" / "AND2_X4__0_0.glp"
    page.set_input_files("#upload", str(clip))
    page.wait_for_function("document.querySelector('#message').value.includes('Optimize the clip')")
    page.press("#message", "Enter")
    page.wait_for_selector(ANSWERED, timeout=180_000)
    turn = page.locator(ANSWERED).last
    assert "opc_optimize" in turn.locator(".calls summary").inner_text()
    assert turn.locator(".artefacts img[alt='mask_png']").count() == 1
    assert all(width > 0 for width in images_loaded(page, ".artefacts img[alt='mask_png']"))
    assert turn.locator(".downloads a", has_text="gds").count() == 1


def test_after_a_reload_the_session_is_listed_and_its_turns_come_back(page) -> None:
    ask(page, MIXPE_QUESTION)
    name = page.inner_text("#current")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#sessions li a", has_text=name).click()
    page.wait_for_selector(".turn .answer table")
    assert MIXPE_QUESTION in page.locator(".user").first.inner_text()
    assert all(width > 0 for width in images_loaded(page))


def test_two_browser_contexts_chat_at_once(browser, web_url: str) -> None:
    pages = []
    for _ in range(2):
        context = browser.new_context(bypass_csp=True)
        p = context.new_page()
        p.goto(web_url)
        p.wait_for_selector("body[data-ready='1']")
        p.click("#new-session")
        p.wait_for_function("document.querySelector('#current').textContent.length > 0")
        pages.append(p)
    questions = [MIXPE_QUESTION, "How much faster is W4A16 than FP16 on LLaMA-2-13B?"]
    for p, q in zip(pages, questions):
        p.fill("#message", q)
        p.press("#message", "Enter")
    for p in pages:
        p.wait_for_selector(f"{ANSWERED} .answer table", timeout=60_000)
    names = {p.inner_text("#current") for p in pages}
    assert len(names) == 2
    assert "OPT-6.7B" in pages[0].inner_text(".answer") and "LLaMA-2-13B" in pages[1].inner_text(".answer")
    for p in pages:
        p.context.close()


def test_script_and_onerror_payloads_in_messages_names_and_answers_do_not_execute(page, web_url: str) -> None:
    name = '<img src=x onerror="window.__pwned = 3">'  # session names may hold anything but "/" and "\\"
    assert page.request.post(f"{web_url}/api/sessions", data={"name": name}).status == 201
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#sessions li a", has_text=name).count() == 1
    ask(page, f"{PAYLOAD} | a | b |\n|---|---|\n| {PAYLOAD} | **x** |")
    page.set_input_files("#upload", files=[{"name": f"{PAYLOAD}.gds", "mimeType": "application/octet-stream",
                                            "buffer": b"\x00\x06\x00\x02\x02X\x00\x1cbroken"}])
    page.wait_for_selector(".turn.error")
    refusal = page.locator(".turn.error").last.inner_text()
    assert "refused" in refusal and "readable GDSII" in refusal and PAYLOAD in refusal
    rendered = page.evaluate("p => ChipMarkdown.render(p + '\\n\\n| ' + p + ' |\\n|---|\\n| `' + p + '` |')", PAYLOAD)
    assert "<script" not in rendered and "<img" not in rendered and "&lt;script&gt;" in rendered
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0 and page.locator("#log script").count() == 0
    assert PAYLOAD in page.locator(".user").last.inner_text()


def test_a_narrow_window_keeps_the_chat_usable(browser, web_url: str) -> None:
    context = browser.new_context(viewport={"width": 380, "height": 740}, bypass_csp=True)
    page = context.new_page()
    page.goto(web_url)
    page.wait_for_selector("body[data-ready='1']")
    assert page.is_visible("#toggle-sessions") and not page.is_visible("#sidebar")
    assert page.is_visible("#message") and page.is_visible("#send")
    ask(page, MIXPE_QUESTION)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#toggle-sessions")
    assert page.is_visible("#sessions")
    context.close()
