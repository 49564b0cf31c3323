"""The sandbox in a real browser: headless Chromium (Debian's package) driven by Playwright
plays the whole story by clicking in the page — consent → share a phone → the admin approves
→ grades → a new mark pushed from the demo journal — and saves screenshots of the page on a
desktop and on a phone (artifacts/screenshots/, not committed).

`.ci/test` installs Chromium; without it (not root, no apt) this test is skipped locally and
fails under CI=true.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.sandbox_helpers import ROOT, Sandbox, local_sandbox, start_sandbox

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "artifacts" / "screenshots"))
PARENT, SECOND_PARENT, REGION_ADMIN = 1001, 1002, 9001
TIMEOUT_MS = 30_000
NEWS = re.compile("Новая оценка|Сводка")


def _unavailable() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package is missing ({exc}); `make test` installs it"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM}: `.ci/test` installs Debian's chromium when run as root"
    return None


@pytest.fixture
async def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def sandbox(tmp_path):
    # A lively demo: a new mark every 1.5 s for the linked pupils, the journal polled twice a second.
    running = await start_sandbox(
        tmp_path, DEMO_MARK_EVERY_SECONDS="1.5", JOURNAL_POLL_SECONDS="0.5", DISPATCH_POLL_SECONDS="0.2",
        SEND_RATE_PER_CHAT_SECONDS="0.2", NOTIFY_GRACE_SECONDS="0", NOTIFY_COALESCE_SECONDS="0",
    )
    try:
        yield running
    finally:
        code = await running.stop()
        assert code == 0, running.log_tail()


def chat(page, person: int):
    return page.locator(f'.chat[data-person="{person}"]')


def bot_says(page, person: int, text: str):
    return chat(page, person).locator(".msg.in .text", has_text=text)


async def test_full_story_by_clicking_in_the_page(browser, sandbox: Sandbox):
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(sandbox.url + "/")

    # Two chats side by side: the first parent and the region admin; the guide next to them.
    await expect(chat(page, PARENT)).to_be_visible()
    await expect(chat(page, REGION_ADMIN)).to_be_visible()
    await expect(page.locator("#guide .step")).to_have_count(6)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")

    # The region admin opens the bot (so that requests can reach them).
    await chat(page, REGION_ADMIN).locator(".start-btn").click()
    await expect(chat(page, REGION_ADMIN).locator(".msg.out .text", has_text="/start")).to_be_visible()
    await expect(chat(page, REGION_ADMIN).locator(".msg.in").first).to_be_visible()

    # The parent: Start → the consent text with «Согласен» under it → agree.
    await chat(page, PARENT).locator(".start-btn").click()
    agree = chat(page, PARENT).get_by_role("button", name="✅ Согласен", exact=True)
    await expect(agree).to_be_visible()
    await expect(chat(page, PARENT).get_by_role("button", name="❌ Не согласен", exact=True)).to_be_visible()
    await agree.click()
    await expect(bot_says(page, PARENT, "согласие записано")).to_be_visible()
    # The consent buttons are gone (the bot removed them), the reply keyboard is there.
    await expect(chat(page, PARENT).locator(".ikb-btn")).to_have_count(0)
    share = chat(page, PARENT).locator(".kb-btn.contact")
    await expect(share).to_be_visible()
    await expect(chat(page, PARENT).locator(".kb-btn", has_text="Оценки")).to_be_visible()

    # Sharing the phone opens the list of the demo journal's guardians; pick the first one.
    await share.click()
    sheet = chat(page, PARENT).locator(".sheet")
    await expect(sheet.locator(".phone-item.nobody")).to_be_visible()
    first = sheet.locator(".phone-item:not(.nobody)").first
    guardian_phone = (await first.locator(".phone-num").inner_text()).strip()
    kids = (await first.locator(".phone-kids").inner_text()).split(":", 1)[1]
    child = kids.split("(")[0].strip()  # «Фамилия Имя Отчество» of the first child
    await first.click()
    await expect(sheet).to_have_count(0)
    await expect(chat(page, PARENT).locator(".msg.out .contact-phone")).to_have_text(guardian_phone)
    await expect(bot_says(page, PARENT, "Запрос отправлен администратору")).to_be_visible()

    # The region admin gets the request with the child's name, and approves it.
    request = chat(page, REGION_ADMIN).locator(".msg.in", has_text=child)
    await expect(request.locator(".ikb-btn", has_text="Подтвердить")).to_be_visible()
    await request.locator(".ikb-btn", has_text="Подтвердить").click()
    await expect(bot_says(page, PARENT, "Школа подтвердила доступ")).to_be_visible()

    # Grades from the reply keyboard: a header in bold with the child's name.
    await chat(page, PARENT).locator(".kb-btn", has_text="Оценки").click()
    header = chat(page, PARENT).locator(".msg.in .text b", has_text="Оценки:")
    await expect(header).to_be_visible()
    grades = chat(page, PARENT).locator(".msg.in", has=page.locator(".text b", has_text="Оценки:")).last
    assert re.search(r"ср\. \d", await grades.inner_text()), await grades.inner_text()

    # The demo journal's teacher keeps saving marks; the bot pushes the next one to the parent
    # (one mark, or a digest of several when they come close together).
    news = bot_says(page, PARENT, NEWS)
    before = await news.count()
    await expect(news.nth(before)).to_be_visible()
    pushed = await news.nth(before).inner_text()
    assert child.split()[1] in pushed, pushed  # the child's first name

    # Someone else shares a number the journal does not know.
    await page.locator(f'.person[data-person="{SECOND_PARENT}"]').click()
    await chat(page, SECOND_PARENT).locator(".start-btn").click()
    await chat(page, SECOND_PARENT).get_by_role("button", name="✅ Согласен", exact=True).click()
    await chat(page, SECOND_PARENT).locator(".kb-btn.contact").click()
    await chat(page, SECOND_PARENT).locator(".phone-item.nobody").click()
    await expect(bot_says(page, SECOND_PARENT, "не нашли ваш номер")).to_be_visible()
    await page.locator(f'.person[data-person="{SECOND_PARENT}"]').click()  # close that column again
    await expect(chat(page, SECOND_PARENT)).to_have_count(0)

    SHOTS.mkdir(parents=True, exist_ok=True)
    await chat(page, PARENT).locator(".messages").evaluate("el => el.scrollTop = el.scrollHeight")
    await page.screenshot(path=str(SHOTS / "sandbox-desktop.png"))

    # The same page on a phone: one chat at a time, people as tabs, the guide in a drawer.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ru-RU",
    )
    mobile = await phone.new_page()
    mobile.on("pageerror", lambda exc: errors.append(str(exc)))
    await mobile.goto(sandbox.url + "/")
    await expect(mobile.locator(".tab")).to_have_count(4)
    await expect(mobile.locator(".chat")).to_have_count(1)
    await expect(chat(mobile, PARENT)).to_be_visible()
    await expect(mobile.locator("#sidebar")).not_to_be_in_viewport()
    await expect(bot_says(mobile, PARENT, NEWS).first).to_be_visible()
    box = await chat(mobile, PARENT).bounding_box()
    assert box is not None and box["width"] <= 390
    await mobile.screenshot(path=str(SHOTS / "sandbox-phone.png"))

    await mobile.locator(f'.tab[data-person="{REGION_ADMIN}"]').click()
    await expect(chat(mobile, REGION_ADMIN)).to_be_visible()
    await expect(mobile.locator(".chat")).to_have_count(1)
    await expect(chat(mobile, REGION_ADMIN).locator(".msg.in", has_text="Подтверждено")).to_be_visible()
    await mobile.screenshot(path=str(SHOTS / "sandbox-phone-admin.png"))

    await mobile.locator(f'.tab[data-person="{PARENT}"]').click()
    await chat(mobile, PARENT).locator(".kb-btn.contact").click()
    await expect(chat(mobile, PARENT).locator(".sheet")).to_be_visible()
    await mobile.screenshot(path=str(SHOTS / "sandbox-phone-contacts.png"))
    await chat(mobile, PARENT).locator(".sheet .sheet-head button").click()

    await mobile.locator("#open-drawer").click()
    await expect(mobile.locator("#guide")).to_be_in_viewport()
    await mobile.wait_for_function("document.getElementById('sidebar').getBoundingClientRect().left >= 0")
    await mobile.screenshot(path=str(SHOTS / "sandbox-phone-guide.png"))
    await phone.close()
    await context.close()
    assert errors == [], errors


async def test_the_bots_html_is_shown_safely_and_documents_download(browser):
    """The page builds the bot's formatting from entities: tags become elements, text that
    looks like HTML stays text, unsafe links are not links; a document downloads as sent."""
    from aiogram.types import BufferedInputFile
    from playwright.async_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    async with local_sandbox() as sb:
        await sb.bot.send_message(
            PARENT,
            '<b>Жирный</b> <i>курсив</i> <a href="https://example.org/x">ссылка</a> '
            '<a href="javascript:window.__xss=1">плохая</a> &lt;img src=x onerror="window.__xss=2"&gt; '
            "<code>&lt;script&gt;</code> <b>вложенный <i>курсив</i></b> — см. /help",
        )
        payload = "%PDF-1.4 выписка".encode()
        await sb.bot.send_document(PARENT, BufferedInputFile(payload, filename="Выписка 7А.pdf"), caption="<i>Выписка</i>")

        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="ru-RU")
        page = await context.new_page()
        await page.goto(sb.url + "/")
        message = chat(page, PARENT).locator(".msg.in").first
        await expect(message.locator(".text > b").first).to_have_text("Жирный")
        await expect(message.locator(".text > i")).to_have_text("курсив")
        await expect(message.locator('a[href="https://example.org/x"]')).to_have_text("ссылка")
        await expect(message.locator("b i")).to_have_text("курсив")
        await expect(message.locator("code")).to_have_text("<script>")
        await expect(message.locator("img")).to_have_count(0)
        await expect(message.locator("script")).to_have_count(0)
        await expect(message.locator('a[href^="javascript"]')).to_have_count(0)
        assert '<img src=x onerror="window.__xss=2">' in await message.locator(".text").inner_text()
        assert await page.evaluate("window.__xss") is None

        # A /command in the bot's text is pressable, as in Telegram: it sends the command.
        await message.locator(".cmd", has_text="/help").click()
        await expect(chat(page, PARENT).locator(".msg.out .text", has_text="/help")).to_be_visible()
        assert sb.api.pending_updates[-1]["message"]["text"] == "/help"

        document = chat(page, PARENT).locator(".msg.in .doc")
        await expect(document.locator(".doc-name")).to_have_text("Выписка 7А.pdf")
        async with page.expect_download() as info:
            await document.click()
        download = await info.value
        assert download.suggested_filename == "Выписка 7А.pdf"
        assert Path(await download.path()).read_bytes() == payload
        await context.close()
