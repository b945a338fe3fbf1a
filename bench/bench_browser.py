"""What a person waits for: Enter to the first reply character and to the finished reply, in
real headless Chromium (Selenium), single user, over the dev questions.

    python bench/bench_browser.py                  # starts `python app.py` on a free port
    python bench/bench_browser.py --url http://127.0.0.1:7860/ --repeat 2
    python bench/bench_browser.py --load 32     # also: emergencies typed in the browser while
                                                # 32 API users keep the workers busy

The page itself records the times (performance.now() in a keydown listener and a
MutationObserver on the chat), so WebDriver's own round trips are not counted. Beside them it
prints the server's own `total` for the same questions (from the /ask reply's timings_ms), so
the ratio shows what the UI adds. Needs /usr/bin/chromium and /usr/bin/chromedriver
(scripts/install-browser.sh).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import DEV, percentile

EMERGENCY = "my friend smoked crack and now he is not breathing and won't wake up"

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-dev-shm-usage")

# t0 at the Enter keydown; `echo` when the person's own message is on screen; `first` when the
# newest bot message first holds text other than the placeholder; `last` at its last change;
# `updates` counts those changes.
_PROBE = """
window.__probe = {t0: null, first: null, last: null, updates: 0, text: ''};
// On the document, not the textarea: Gradio may re-create the box when it is relabelled.
document.addEventListener('keydown', e => {
  if (e.key === 'Enter' && !e.shiftKey && e.target.closest('#question')) {
    Object.assign(window.__probe, {t0: performance.now(), echo: null, first: null,
                                   last: null, updates: 0, text: ''});
  }
}, true);
const bots = () => document.querySelectorAll('#chat [data-testid="bot"]');
new MutationObserver(() => {
  const p = window.__probe; if (p.t0 === null) return;
  if (p.echo === null && document.querySelectorAll('#chat [data-testid="user"]').length
      > p.users) p.echo = performance.now();
  const all = bots(); if (all.length <= p.before) return;
  const text = all[all.length - 1].innerText.trim();
  if (!text || text === '…' || text === p.text) return;
  const now = performance.now();
  if (p.first === null) p.first = now;
  p.last = now; p.updates += 1; p.text = text;
}).observe(document.querySelector('#chat'), {childList: true, subtree: true,
                                             characterData: true});
"""


def _driver(width: int, height: int):  # noqa: ANN202 - selenium is imported lazily
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chromium-')}",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def _idle(driver, timeout_s: float = 60.0) -> None:  # noqa: ANN001
    """Until no event is running and the reply text has not changed for 0.6 s."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        busy = driver.find_elements(By.CSS_SELECTOR, "#chat .pending, #chat .generating")
        last = driver.execute_script("return window.__probe.last")
        if not busy and last is not None and \
                driver.execute_script("return performance.now()") - last > 600:
            return
        time.sleep(0.05)
    raise TimeoutError("the reply did not finish")


def ask_in_browser(driver, question: str) -> dict[str, float]:  # noqa: ANN001
    """One question typed and sent with Enter; the page's own timings in ms."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.execute_script(
        "const q = s => document.querySelectorAll(s).length;"
        "window.__probe.before = q('#chat [data-testid=\"bot\"]');"
        "window.__probe.users = q('#chat [data-testid=\"user\"]'); window.__probe.t0 = null;")
    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    driver.execute_script(
        "const el = arguments[0]; el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));", box, question)
    box.send_keys(Keys.ENTER)
    _idle(driver)
    p = driver.execute_script("return window.__probe")
    return {"echo": (p["echo"] or p["first"]) - p["t0"], "first": p["first"] - p["t0"],
            "last": p["last"] - p["t0"], "updates": p["updates"]}


def _open(url: str, size: tuple[int, int]):  # noqa: ANN202
    from selenium.webdriver.common.by import By

    driver = _driver(*size)
    driver.get(url)
    for _ in range(200):
        if driver.find_elements(By.CSS_SELECTOR, "#question textarea"):
            break
        time.sleep(0.1)
    driver.execute_script(_PROBE)
    return driver


def _ask_each(driver, questions: list[str], repeat: int) -> list[dict[str, float]]:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    rows = []
    for _ in range(repeat):
        for q in questions:
            # Each question on its own: a new conversation, so none is a follow-up.
            driver.find_element(By.CSS_SELECTOR, "#clear-btn").click()
            deadline = time.monotonic() + 30
            while driver.find_elements(By.CSS_SELECTOR, "#chat [data-testid='bot']"):
                if time.monotonic() > deadline:
                    raise TimeoutError("the conversation was not cleared")
                time.sleep(0.05)
            time.sleep(0.2)
            rows.append(ask_in_browser(driver, q))
    return rows


def run(url: str, questions: list[str], repeat: int, size: tuple[int, int]) -> None:
    from gradio_client import Client

    driver = _open(url, size)
    try:
        ask_in_browser(driver, questions[0])  # warm-up, not counted
        rows = _ask_each(driver, questions, repeat)
    finally:
        driver.quit()
    client = Client(url, verbose=False)
    server = [client.predict(q, None, api_name="/ask")["timings_ms"]["total"]
              for _ in range(repeat) for q in questions]
    _report(rows, server, size)


def run_under_load(url: str, users: int, questions: list[str], times: int,
                   size: tuple[int, int]) -> None:
    """Emergencies typed in the browser while `users` API users ask without pause."""
    import threading

    from bench_ui_concurrency import HttpClient

    stop = threading.Event()
    answered = [0]

    def user(u: int) -> None:
        client = HttpClient(url)
        i = u
        while not stop.is_set():
            try:
                client.predict(questions[i % len(questions)], None)
            except Exception:  # noqa: BLE001 - the app is stopping; the load ends here
                return
            answered[0] += 1
            i += 1

    driver = _open(url, size)
    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    try:
        ask_in_browser(driver, questions[0])  # warm-up, not counted
        for th in threads:
            th.start()
        time.sleep(2.0)  # the workers are busy and questions wait before the first emergency
        rows = _ask_each(driver, [EMERGENCY], times)
    finally:
        stop.set()
        driver.quit()
    shown = [r["last"] for r in rows]
    print(f"emergency typed in the browser under {users}-user API load ({answered[0]} "
          f"questions answered meanwhile), window {size[0]}x{size[1]}: {len(rows)} sent")
    print(f"  Enter -> emergency reply shown  p50 {percentile(shown, 50):6.0f} ms   "
          f"max {max(shown):6.0f} ms")


def _report(rows: list[dict[str, float]], server: list[float], size: tuple[int, int]) -> None:
    echo = [r["echo"] for r in rows]
    first = [r["first"] for r in rows]
    last = [r["last"] for r in rows]
    updates = [r["updates"] for r in rows]
    s50, s95 = percentile(server, 50), percentile(server, 95)
    print(f"browser bench: {len(rows)} replies, single user, window {size[0]}x{size[1]}")
    print(f"  Enter -> own message on screen  p50 {percentile(echo, 50):6.0f} ms   "
          f"p95 {percentile(echo, 95):6.0f} ms")
    print(f"  Enter -> first reply character  p50 {percentile(first, 50):6.0f} ms   "
          f"p95 {percentile(first, 95):6.0f} ms")
    print(f"  Enter -> finished reply         p50 {percentile(last, 50):6.0f} ms   "
          f"p95 {percentile(last, 95):6.0f} ms")
    print(f"  server's own total (/ask)       p50 {s50:6.1f} ms   p95 {s95:6.1f} ms")
    print(f"  UI share: finished p95 / server p95 = {percentile(last, 95) / s95:.1f}x; "
          f"visible text updates per reply: p50 {percentile(updates, 50):.0f}, "
          f"max {max(updates)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app; default: start one on a free port")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the questions")
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--phone", action="store_true", help="a 390x844 window")
    parser.add_argument("--load", type=int, default=0,
                        help="then type emergencies while this many API users ask")
    args = parser.parse_args()
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        print("headless Chromium not installed (scripts/install-browser.sh)")
        return 2
    questions = [json.loads(line)["question"]
                 for line in args.questions.read_text(encoding="utf-8").splitlines() if line]
    size = (390, 844) if args.phone else (1440, 1000)
    server = None
    url = args.url
    if not url:
        from tests.conftest_ui import start_server

        server = start_server()
        url = server.url
    try:
        run(url, questions, args.repeat, size)
        if args.load:
            run_under_load(url, args.load, questions, 10, size)
    finally:
        if server is not None:
            from tests.conftest_ui import stop_server

            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
