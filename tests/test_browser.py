"""The page in headless Chromium (Debian's chromium + chromedriver, via Selenium).

Install the browser and axe-core with scripts/install-browser.sh (`make browser`).
Screenshots and the accessibility reports go to test-artifacts/; with
UPDATE_README_SCREENSHOT=1 the citation test also refreshes docs/screenshot.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest_ui import ARTIFACTS, ROOT, STAFF_PASSWORD, AppServer, app_server  # noqa: F401

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SITES_Q = "Which sites did Anne Hidalgo propose for crack users' care?"
EMERGENCY_Q = "My friend smoked crack and now he is not breathing, what do I do?"
WAIT_S = 60
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
STRINGS = yaml.safe_load((ROOT / "assistant" / "app" / "strings.yaml").read_text("utf-8"))

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("headless Chromium not installed (scripts/install-browser.sh)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                "--window-size=1440,1100"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(driver: WebDriver, app_server: AppServer) -> WebDriver:  # noqa: F811
    """A fresh session: reloading the page starts a new conversation."""
    driver.get(app_server.url)
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"))
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#care-banner .care-banner"))
    return driver


def wait_for(driver: WebDriver, cond: Callable[[WebDriver], object], timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(cond)


def bot_messages(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, "#chat [data-testid='bot']")


def ask(driver: WebDriver, question: str) -> WebElement:
    """Type a question, send it, and wait until the reply is complete."""
    before = len(bot_messages(driver))
    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    box.clear()
    # Selenium types into the textarea; newlines would send early, so the text is set whole.
    driver.execute_script(
        "const el = arguments[0]; el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));", box, question)
    driver.find_element(By.CSS_SELECTOR, "#ask-btn").click()
    wait_for(driver, lambda d: len(bot_messages(d)) > before
             and bot_messages(d)[-1].text.strip() not in ("", "…"))
    # Streaming is over when the sources/staff refresh has run: the textbox is idle again.
    wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "#chat .pending, "
                                                    "#chat .generating"))
    time.sleep(0.5)
    return bot_messages(driver)[-1]


def shot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def test_care_banner_is_visible_with_last_checked_date(page: WebDriver) -> None:
    banner = page.find_element(By.CSS_SELECTOR, "#care-banner .care-banner")
    assert banner.is_displayed()
    text = banner.text
    for needle in ("Drogues Info Service", "0 800 23 13 13", "15 / 112", "3114", "checked 20"):
        assert needle in text
    # Still on screen after scrolling to the bottom of the page.
    page.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    top = page.execute_script("return arguments[0].getBoundingClientRect().top", banner)
    assert 0 <= top < 20


def test_question_citation_opens_highlighted_passage(page: WebDriver) -> None:
    reply = ask(page, SITES_Q)
    assert "Grands Boulevards" in reply.text
    cite = wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat a.cite"))[0]
    assert cite.text == "[1]"
    cite.click()
    card = wait_for(
        page, lambda d: d.find_element(By.CSS_SELECTOR, "#sources-panel .source.active"))
    assert card.get_attribute("id") == "src-0-1"
    mark = card.find_element(By.CSS_SELECTOR, "mark.quote")
    assert mark.is_displayed()
    # The highlighted passage is the quote in the reply, inside its surrounding text.
    assert mark.text.strip() and mark.text.strip() in reply.text
    context = card.find_element(By.CSS_SELECTOR, ".src-context").text
    assert len(context) > len(mark.text) + 100
    assert "Anne Hidalgo proposes sites" in card.text  # document title
    assert "Provenance" in card.text and "Published" in card.text
    copy = card.find_element(By.CSS_SELECTOR, "button.copy-quote")
    assert "hidalgo-letter-castex" in copy.get_attribute("data-copy")
    copy.click()
    wait_for(page, lambda d: copy.text == "Copied")
    # What landed on the clipboard: the quote, then its reference.
    box = page.find_element(By.CSS_SELECTOR, "#question textarea")
    box.click()
    box.send_keys(Keys.CONTROL, "v")
    pasted = box.get_attribute("value")
    assert pasted.startswith("“" + mark.text.strip()[:40])
    assert "Anne Hidalgo proposes sites" in pasted and "hidalgo-letter-castex" in pasted
    box.clear()
    path = shot(page, "citation-sources-panel.png")
    assert path.stat().st_size > 10_000
    if os.environ.get("UPDATE_README_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        page.execute_script("window.scrollTo(0, 0)")
        page.save_screenshot(str(ROOT / "docs" / "screenshot.png"))


def test_html_and_script_message_is_shown_as_text(page: WebDriver) -> None:
    payload = ("<script>window.__pwned=1;alert('xss')</script>"
               "<img src=x onerror=\"window.__pwned=2\"><b id=\"injected\">bold</b>")
    ask(page, payload)
    with pytest.raises(NoAlertPresentException):
        page.switch_to.alert.text  # noqa: B018 - raises when there is no alert
    assert page.execute_script("return window.__pwned === undefined")
    assert not page.find_elements(By.CSS_SELECTOR, "#injected")
    assert not page.find_elements(By.CSS_SELECTOR, "#chat script, #chat img[src='x']")
    user = page.find_elements(By.CSS_SELECTOR, "#chat [data-testid='user']")[-1]
    assert payload in user.text
    shot(page, "html-message-as-text.png")


def test_emergency_reply_is_first_and_distinct(page: WebDriver) -> None:
    reply = ask(page, EMERGENCY_Q)
    box = reply.find_element(By.CSS_SELECTOR, ".emergency-reply")
    assert box.is_displayed()
    assert "EMERGENCY" in box.text and "15" in box.text and "112" in box.text
    alert = page.find_element(By.CSS_SELECTOR, "#emergency-alert .emergency-alert")
    assert "15" in alert.text and "112" in alert.text
    chat = page.find_element(By.CSS_SELECTOR, "#chat")
    # The alert sits above the conversation.
    assert alert.location["y"] < chat.location["y"]
    assert "emergency" in page.find_element(
        By.CSS_SELECTOR, "#care-banner .care-banner").get_attribute("class")
    shot(page, "emergency.png")


GEOMETRY = """
const box = s => { const e = document.querySelector(s); if (!e) return null;
                   const r = e.getBoundingClientRect();
                   return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
const banner = document.querySelector('#care-banner .care-banner');
return {banner: box('#care-banner .care-banner'), alert: box('#emergency-alert .emergency-alert'),
        head: box('.emergency-reply .emergency-head'), width: window.innerWidth,
        height: window.innerHeight, cut: banner.scrollWidth > banner.clientWidth + 1,
        position: getComputedStyle(document.querySelector('#care-banner')).position};
"""


@pytest.mark.parametrize("size", [(1440, 1000), (390, 844)], ids=["desktop", "phone"])
def test_emergency_text_is_never_under_the_banner(page: WebDriver, size: tuple) -> None:
    page.set_window_size(*size)
    try:
        ask(page, EMERGENCY_Q)
        # The page brings the alert (the emergency numbers) on screen by itself, below the
        # banner wherever the banner is.
        g = wait_for(page, lambda d: (lambda g: g if g["alert"] and g["alert"]["top"] >= 0
                                      and g["alert"]["bottom"] <= g["height"] else None)(
                                          d.execute_script(GEOMETRY)))
        assert not g["cut"], "the banner's text is cut off"
        assert g["banner"]["right"] <= g["width"] + 1
        fixed = g["position"] in ("fixed", "sticky")
        assert not fixed or g["alert"]["top"] >= g["banner"]["bottom"] - 1, g
        page.execute_script("window.scrollTo(0, 0)")
        g = page.execute_script(GEOMETRY)
        assert g["alert"]["top"] >= g["banner"]["bottom"] - 1, g  # never under the banner
        shot(page, f"emergency-top-{size[0]}x{size[1]}.png")
        if size[0] < 640:
            assert g["position"] == "static" and g["banner"]["bottom"] - g["banner"]["top"] < 130
        # Scrolled to the reply, its first line is not under a fixed banner either.
        page.execute_script("document.querySelector('.emergency-reply').scrollIntoView()")
        g = page.execute_script(GEOMETRY)
        covered = g["position"] == "fixed" and g["head"]["top"] < g["banner"]["bottom"] - 1
        assert not covered, g
        shot(page, f"emergency-{size[0]}x{size[1]}.png")
    finally:
        page.set_window_size(1440, 1100)


def test_interface_follows_a_french_question(page: WebDriver) -> None:
    reply = ask(page, "Combien de lieux d'accueil pour usagers de drogues sont déjà ouverts "
                      "dans le 18e arrondissement ?")
    assert reply.text.strip()
    wait_for(page, lambda d: "Pour le public" in d.find_element(By.TAG_NAME, "body").text)
    assert "Besoin d'aide" in page.find_element(By.CSS_SELECTOR, "#care-banner").text
    # The toggle wins over the question's language.
    page.execute_script("window.scrollTo(0, 0)")
    english = page.find_element(By.XPATH, "//*[@id='lang-choice']//label[contains(., 'English')]")
    english.click()
    wait_for(page, lambda d: "For the public" in d.find_element(By.TAG_NAME, "body").text)


# Interface strings of English mode that must not be seen in French mode (whole words).
ENGLISH_UI = ("For the public", "For journalists", "New conversation", "Ask", "Staff",
              "Feedback on a reply", "Need help now?", "free and anonymous", "Sources panel",
              "Interface language", "Chat / Conversation", "Published", "checked")


def test_french_mode_has_no_english_interface_text(page: WebDriver) -> None:
    page.execute_script("window.scrollTo(0, 0)")
    page.find_element(By.XPATH, "//*[@id='lang-choice']//label[contains(., 'Français')]").click()
    wait_for(page, lambda d: "Pour le public" in d.find_element(By.TAG_NAME, "body").text)
    reply = ask(page, "Où trouver de l'aide pour arrêter le crack à Paris ?")
    assert reply.text.strip()
    wait_for(page, lambda d: d.execute_script("return document.documentElement.lang") == "fr")
    body = page.find_element(By.TAG_NAME, "body").text
    found = [w for w in ENGLISH_UI if re.search(rf"(?<![\w']){re.escape(w)}(?![\w'])", body)]
    assert not found, found
    tabs = [t.text for t in page.find_elements(By.CSS_SELECTOR, "button[role='tab']")]
    assert "Conversation" in tabs and "Équipe" in tabs, tabs
    box = page.find_element(By.CSS_SELECTOR, "#question textarea")
    assert box.accessible_name == "Votre question"
    shot(page, "french-mode.png")


def test_staff_tab_needs_the_password_and_shows_the_trace(page: WebDriver) -> None:
    ask(page, SITES_Q)
    ask(page, "and in the 19th?")
    page.execute_script("window.scrollTo(0, 0)")
    page.find_element(By.XPATH, "//button[@role='tab' and (contains(., 'Staff') or "
                               "contains(., 'Équipe'))]").click()
    # Locked: the staff view is not on the page at all.
    assert not [e for e in page.find_elements(By.CSS_SELECTOR, "#staff-view") if e.is_displayed()]
    pw = wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, "#staff-password input"))
    pw.send_keys("wrong")
    page.find_element(By.CSS_SELECTOR, "#staff-unlock").click()
    wait_for(page, lambda d: "Wrong password" in d.find_element(By.TAG_NAME, "body").text)
    assert "Retrieved passages" not in page.find_element(By.TAG_NAME, "body").text
    pw.clear()
    pw.send_keys(STAFF_PASSWORD)
    page.find_element(By.CSS_SELECTOR, "#staff-unlock").click()
    view = wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, "#staff-view .staff"))
    wait_for(page, lambda d: "Retrieved passages" in view.text)
    text = view.text
    assert "Guardrail decision" in text
    assert "Which sites did Anne Hidalgo propose for crack users' care in the 19th?" in text
    for col in ("dense", "BM25", "fused (RRF)", "terms", "meaning", "score"):
        assert col in text
    assert "Timings" in text and "total" in text and " ms" in text
    rows = view.find_elements(By.CSS_SELECTOR, "table:not(.kv) tr")
    assert len(rows) >= 3  # header + passages
    shot(page, "staff-view.png")


def feedback_saved(driver: WebDriver) -> bool:
    """The thank-you note for reply 1 (it may quote the question between the two parts)."""
    note = driver.find_element(By.CSS_SELECTOR, "#fb-note").text
    return re.search(r"feedback on reply 1\b.*\bis saved", note) is not None


def test_feedback_form_lands_in_sqlite(page: WebDriver, app_server: AppServer) -> None:  # noqa: F811
    ask(page, SITES_Q)
    page.find_element(By.XPATH, "//*[@id='feedback']//button[contains(., 'Feedback')]").click()
    wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, "#fb-comment textarea").is_displayed())
    page.find_element(By.XPATH, "//*[@id='fb-rating']//label[contains(., 'No')]").click()
    page.find_element(By.XPATH, "//*[@id='fb-flags']//label[contains(., 'Missing')]").click()
    comment = "browser feedback test " + str(time.time())
    page.find_element(By.CSS_SELECTOR, "#fb-comment textarea").send_keys(comment)
    page.find_element(By.CSS_SELECTOR, "#fb-send").click()
    wait_for(page, feedback_saved)
    # The form is emptied for the next piece of feedback.
    assert not page.find_element(By.CSS_SELECTOR, "#fb-comment textarea").get_attribute("value")
    conn = sqlite3.connect(app_server.db_path)
    try:
        row = conn.execute("SELECT rating, wrong_source, missing_information, question, source "
                           "FROM feedback WHERE comment = ?", (comment,)).fetchone()
    finally:
        conn.close()
    assert row == ("down", 0, 1, SITES_Q, "ui")


def test_thumb_on_a_reply_lands_in_sqlite(page: WebDriver, app_server: AppServer) -> None:  # noqa: F811
    ask(page, SITES_Q)
    conn = sqlite3.connect(app_server.db_path)
    before = conn.execute("SELECT COUNT(*) FROM feedback WHERE rating = 'up'").fetchone()[0]
    like = page.find_elements(By.CSS_SELECTOR, "#chat button[aria-label='Like']")[-1]
    like.click()
    wait_for(page, feedback_saved)
    after = conn.execute("SELECT COUNT(*) FROM feedback WHERE rating = 'up'").fetchone()[0]
    conn.close()
    assert after == before + 1


def test_new_conversation_forgets_the_previous_one(page: WebDriver) -> None:
    ask(page, SITES_Q)
    assert page.find_elements(By.CSS_SELECTOR, "#sources-panel .source")
    # A script click: the button may sit under the fixed care banner after the reply scrolled.
    page.execute_script("arguments[0].click()", page.find_element(By.CSS_SELECTOR, "#clear-btn"))
    wait_for(page, lambda d: not bot_messages(d))
    assert not page.find_elements(By.CSS_SELECTOR, "#sources-panel .source")
    # A fresh conversation: reply numbering starts again at 1.
    ask(page, "What does Charonnes hand out from his van?")
    panel = page.find_element(By.CSS_SELECTOR, "#sources-panel").text
    assert "Reply 1: What does Charonnes" in panel
    assert "Reply 2" not in panel and SITES_Q not in panel


def test_flag_on_a_reply_lands_in_sqlite(page: WebDriver, app_server: AppServer) -> None:  # noqa: F811
    ask(page, SITES_Q)
    page.find_elements(By.CSS_SELECTOR, "#chat button[aria-label='Feedback']")[-1].click()
    option = wait_for(page, lambda d: d.find_element(
        By.XPATH, "//*[@id='chat']//button[contains(@class, 'extra-feedback-option')]"
                  "[normalize-space()='Wrong source']"))
    option.click()
    wait_for(page, feedback_saved)
    conn = sqlite3.connect(app_server.db_path)
    try:
        row = conn.execute("SELECT rating, wrong_source, missing_information, question FROM "
                           "feedback ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert row == ("", 1, 0, SITES_Q)


# -- accessibility -----------------------------------------------------------------------------
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}))))
  .catch(e => done({error: String(e)}));
"""


def run_axe(driver: WebDriver) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations on the page once it is idle.

    After a reply, the relabelling step still runs for a moment, and Gradio draws the
    components it updates at 20% opacity (`.pending`) until it is done.
    """
    wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".pending, .generating"))
    time.sleep(0.3)
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    driver.set_script_timeout(90)
    result = driver.execute_async_script(AXE_RUN, WCAG_AA)
    assert not isinstance(result, dict), result
    return result


def report_axe(name: str, runs: dict[str, list[dict]]) -> list[str]:
    """Save every violation to test-artifacts/, print them; the serious and critical ones."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(runs, indent=1, ensure_ascii=False),
                                                encoding="utf-8")
    bad = []
    for state, violations in runs.items():
        for v in violations:
            for node in v["nodes"]:
                line = f"{state}: {v['impact']} {v['id']} at {node['target']}"
                print(line)
                if v["impact"] in ("serious", "critical"):
                    bad.append(f"{line}: {v['help']}")
    return bad


@pytest.mark.parametrize("size", [(1440, 1000), (390, 844)], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(page: WebDriver, size: tuple) -> None:
    if not AXE_JS.exists():
        pytest.skip(f"axe-core is not installed ({AXE_JS}): run scripts/install-browser.sh")
    page.set_window_size(*size)
    try:
        runs = {}
        ask(page, SITES_Q)
        runs["cited answer"] = run_axe(page)
        # With the source open: the panel card on a desktop, the card under the reply on a phone.
        page.find_element(By.CSS_SELECTOR, "#chat a.cite").click()
        wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, ".source.active"))
        runs["source open"] = run_axe(page)
        ask(page, EMERGENCY_Q)
        runs["emergency reply"] = run_axe(page)
        shot(page, f"axe-{size[0]}x{size[1]}.png")
    finally:
        page.set_window_size(1440, 1100)
    bad = report_axe(f"{size[0]}x{size[1]}", runs)
    assert not bad, "\n".join(bad)


def _luminance(rgb: str) -> float:
    channels = [int(x) / 255 for x in re.findall(r"\d+(?:\.\d+)?", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


QUESTION_ROW = """
const box = document.querySelector('#question textarea');
let bg = 'rgb(255, 255, 255)';
for (let e = box; e; e = e.parentElement) {
  const c = getComputedStyle(e).backgroundColor;
  if (c && !c.startsWith('rgba(0, 0, 0, 0)') && !c.endsWith(', 0)')) { bg = c; break; }
}
const lines = b => { const r = document.createRange(); r.selectNodeContents(b);
  const rects = [...r.getClientRects()].filter(x => x.width > 0);
  return new Set(rects.map(x => Math.round(x.top))).size; };
const fits = b => b.scrollWidth <= b.clientWidth + 1 && b.scrollHeight <= b.clientHeight + 1;
return {placeholder: getComputedStyle(box, '::placeholder').color, background: bg,
        examples: [...document.querySelectorAll('button.example')].map(
            b => parseFloat(getComputedStyle(b).fontSize)),
        buttons: ['#ask-btn', '#clear-btn'].map(s => document.querySelector(s)).map(
            b => ({text: b.textContent.trim(), lines: lines(b), fits: fits(b)}))};
"""


@pytest.mark.parametrize("size", [(1440, 1000), (390, 844)], ids=["desktop", "phone"])
def test_question_row_is_readable(page: WebDriver, size: tuple) -> None:
    page.set_window_size(*size)
    try:
        box = page.find_element(By.CSS_SELECTOR, "#question textarea")
        assert box.accessible_name == STRINGS["en"]["question_label"]
        row = page.execute_script(QUESTION_ROW)
        # axe does not check placeholders: measured here, against the box's own background.
        assert contrast(row["placeholder"], row["background"]) >= 4.5, row
        assert row["examples"] and min(row["examples"]) >= 14, row
        for button in row["buttons"]:  # "New conversation" on one line, nothing cut off
            assert button["lines"] == 1 and button["fits"], row
    finally:
        page.set_window_size(1440, 1100)


ACTIVE = """
const e = document.activeElement;
return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className || '',
        href: e.getAttribute('href'), text: (e.textContent || '').trim().slice(0, 60),
        in_chat: !!e.closest('#chat')};
"""


def press(driver: WebDriver, key: str, shift: bool = False) -> dict:
    chain = ActionChains(driver)
    if shift:
        chain.key_down(Keys.SHIFT).send_keys(key).key_up(Keys.SHIFT)
    else:
        chain.send_keys(key)
    chain.perform()
    time.sleep(0.15)
    return driver.execute_script(ACTIVE)


def tab_until(driver: WebDriver, found: Callable[[dict], bool], shift: bool = False,
              most: int = 25) -> list[dict]:
    """Press Tab (or Shift+Tab) until `found(activeElement)`; the stops on the way."""
    stops = []
    for _ in range(most):
        stops.append(press(driver, Keys.TAB, shift))
        if found(stops[-1]):
            return stops
    raise AssertionError(f"not reached in {most} Tab presses: {stops}")


def test_keyboard_path_question_citation_and_back(page: WebDriver) -> None:
    # From the top of the page (the care banner's first number) to the question box.
    page.execute_script("window.scrollTo(0, 0);"
                        "document.querySelector('#care-banner a.care-phone').focus()")
    tab_until(page, lambda a: a["tag"] == "textarea")
    before = len(bot_messages(page))
    ActionChains(page).send_keys(SITES_Q).perform()
    assert press(page, Keys.ENTER)["tag"] == "textarea"  # Enter asks; focus stays in the box
    wait_for(page, lambda d: len(bot_messages(d)) > before
             and d.find_elements(By.CSS_SELECTOR, "#chat a.cite"))
    wait_for(page, lambda d: not d.find_elements(By.CSS_SELECTOR, "#chat .pending, "
                                                  "#chat .generating"))
    time.sleep(0.5)
    # The reply is just above the box: Shift+Tab walks back into it, to its [1].
    stops = tab_until(page, lambda a: "cite" in a["cls"].split(), shift=True, most=12)
    assert all(s["in_chat"] or s["tag"] == "textarea" for s in stops), stops
    assert stops[-1]["href"] == "#src-0-1" and stops[-1]["text"] == "[1]"
    # Enter opens the source and takes focus to it, with its quote.
    card = press(page, Keys.ENTER)
    assert card["tag"] == "article" and card["id"] == "src-0-1", card
    assert page.find_element(By.CSS_SELECTOR, "#src-0-1.active mark.quote").is_displayed()
    assert not page.find_elements(By.CSS_SELECTOR, ".src-inline")  # wide screen: the panel
    # Its first stop is the way back; Enter there returns to the [1] in the reply.
    back = press(page, Keys.TAB)
    assert "src-back" in back["cls"] and back["text"] == "Back to the reply", back
    again = press(page, Keys.ENTER)
    assert again["href"] == "#src-0-1" and again["in_chat"], again
    assert not page.find_elements(By.CSS_SELECTOR, "#src-0-1 .src-back")
    # Escape from the card does the same.
    assert press(page, Keys.ENTER)["id"] == "src-0-1"
    assert press(page, Keys.ESCAPE)["href"] == "#src-0-1"
    shot(page, "keyboard-citation.png")


INLINE_GEOMETRY = """
const box = document.querySelector('.src-inline');
const row = document.querySelector('#chat a.cite').closest('.message-row');
const panel = document.querySelector('#sources-panel');
const r = e => { const b = e.getBoundingClientRect(); return {top: b.top, bottom: b.bottom}; };
return {box: box && r(box), row: r(row), panel_top: panel.getBoundingClientRect().top,
        height: innerHeight, in_chat: !!(box && box.closest('#chat')),
        after_reply: !!(box && (row.compareDocumentPosition(box) & 4)),
        quote: box && (box.querySelector('mark.quote') || {}).textContent};
"""


def test_phone_citation_opens_its_card_under_the_reply(page: WebDriver) -> None:
    page.set_window_size(390, 844)
    try:
        reply = ask(page, SITES_Q)
        cite = page.find_element(By.CSS_SELECTOR, "#chat a.cite")
        page.execute_script("arguments[0].scrollIntoView({block: 'center'})", cite)
        scrolled = page.execute_script("return window.scrollY")
        cite.click()
        wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, ".src-inline"))
        time.sleep(0.3)
        g = page.execute_script(INLINE_GEOMETRY)
        shot(page, "phone-citation-open.png")
        # On screen, in the chat right after the reply, not down at the sources panel.
        assert g["in_chat"] and g["after_reply"], g
        assert 0 <= g["box"]["top"] < g["height"] - 150, g
        assert g["box"]["top"] - g["row"]["bottom"] < 120, g
        assert g["panel_top"] - g["box"]["top"] > g["height"], g
        assert abs(page.execute_script("return window.scrollY") - scrolled) < g["height"]
        # It holds the cited quote, the one highlighted in the panel, visible.
        panel_quote = page.find_element(By.CSS_SELECTOR, "#src-0-1 mark.quote")
        assert g["quote"] and g["quote"] == panel_quote.get_attribute("textContent"), g
        assert g["quote"].strip()[:60] in reply.text
        mark = page.find_element(By.CSS_SELECTOR, ".src-inline mark.quote")
        assert mark.is_displayed()
        assert page.execute_script(ACTIVE)["cls"] == "src-inline"  # read by a screen reader
        close = page.find_element(By.CSS_SELECTOR, ".src-inline button.src-back")
        assert close.is_displayed() and close.text == "Close"
        close.click()
        wait_for(page, lambda d: not d.find_elements(By.CSS_SELECTOR, ".src-inline"))
        active = page.execute_script(ACTIVE)
        assert active["href"] == "#src-0-1" and active["in_chat"], active
        shot(page, "phone-citation-closed.png")
    finally:
        page.set_window_size(1440, 1100)


def test_an_empty_message_is_not_sent(page: WebDriver) -> None:
    ask(page, SITES_Q)
    before = (len(bot_messages(page)),
              len(page.find_elements(By.CSS_SELECTOR, "#chat [data-testid='user']")))
    box = page.find_element(By.CSS_SELECTOR, "#question textarea")
    for blank in ("", "   ", "\t"):
        page.execute_script(
            "const el = arguments[0]; el.value = arguments[1];"
            "el.dispatchEvent(new Event('input', {bubbles: true}));", box, blank)
        box.send_keys(Keys.ENTER)
        page.find_element(By.CSS_SELECTOR, "#ask-btn").click()
    time.sleep(1.5)
    after = (len(bot_messages(page)),
             len(page.find_elements(By.CSS_SELECTOR, "#chat [data-testid='user']")))
    assert after == before


def test_the_reply_is_seen_growing(page: WebDriver) -> None:
    """The page records every change of the newest reply's text: a several-sentence reply
    arrives in more than one visible piece, each extending the last."""
    page.execute_script("""
      window.__seen = [];
      const before = document.querySelectorAll('#chat [data-testid="bot"]').length;
      new MutationObserver(() => {
        const all = document.querySelectorAll('#chat [data-testid="bot"]');
        if (all.length <= before) return;
        const t = all[all.length - 1].innerText.trim();
        if (t && t !== '…' && t !== window.__seen[window.__seen.length - 1]) window.__seen.push(t);
      }).observe(document.querySelector('#chat'), {childList: true, subtree: true,
                                                   characterData: true});""")
    ask(page, SITES_Q)
    seen = page.execute_script("return window.__seen")
    assert len(seen) >= 2, seen
    # Each piece extends the one before (the finished reply gains its [n] links as text).
    for shorter, longer in zip(seen, seen[1:], strict=False):
        assert longer.startswith(shorter[: max(1, len(shorter) - 5)]), (shorter, longer)
    assert "Grands Boulevards" in seen[-1]


def test_a_thumb_then_the_form_is_one_row(page: WebDriver, app_server: AppServer) -> None:  # noqa: F811
    ask(page, "Who did the mayor of Paris send her letter to?")
    page.find_elements(By.CSS_SELECTOR, "#chat button[aria-label='Like']")[-1].click()
    wait_for(page, feedback_saved)
    page.find_element(By.XPATH, "//*[@id='feedback']//button[contains(., 'Feedback')]").click()
    wait_for(page, lambda d: d.find_element(By.CSS_SELECTOR, "#fb-comment textarea").is_displayed())
    comment = "one row per judgement " + str(time.time())
    page.find_element(By.CSS_SELECTOR, "#fb-comment textarea").send_keys(comment)
    page.find_element(By.CSS_SELECTOR, "#fb-send").click()
    question = "Who did the mayor of Paris send her letter to?"

    def rows(sql: str) -> list[tuple]:
        conn = sqlite3.connect(app_server.db_path)
        try:
            return conn.execute(sql, (question,)).fetchall()
        finally:
            conn.close()

    wait_for(page, lambda d: any(c == comment for _, c in
                                 rows("SELECT rating, comment FROM feedback WHERE question = ?")))
    assert "Who did the mayor" in page.find_element(By.CSS_SELECTOR, "#fb-note").text
    mine = [r for r in rows("SELECT rating, comment FROM feedback WHERE question = ?")
            if r[1] in ("", comment)]
    assert mine == [("up", comment)]  # the thumb's row, updated with the comment
