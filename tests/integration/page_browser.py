#!/usr/bin/python3
"""The on-call page in a real browser (headless Chromium through chromedriver and Selenium).

  page_browser.py test AGENT_URL SIM_BASE TARGET VM_ID VM_NAME QTEXT OTHER_VM TOKEN
      the browser checks of tests/integration/test_page.sh against an agent with that API
      token; prints TAP lines "ok - ..." / "not ok - ..." (and "# ..." comments)
  page_browser.py readonly AGENT_URL
      the same for an agent without a token: no answer button, a line saying how to enable
  page_browser.py screenshot URL OUT.png [WIDTH HEIGHT]
      a screenshot of URL (light theme), for docs/page.png
  page_browser.py measure URL
      page weight (bytes, requests) and time to first render, one "name value" per line
"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("VIMON_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("VIMON_CHROMEDRIVER", "/usr/bin/chromedriver")


def browser(width=1100, height=900):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="vimon-chromium-", dir=os.environ.get("VIMON_TEST_TMP"))
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-default-apps",
              "--hide-scrollbars", "--force-color-profile=srgb",
              "--window-size=%d,%d" % (width, height), "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    real_quit = d.quit

    def quit_and_clean():
        real_quit()
        shutil.rmtree(profile, ignore_errors=True)
    d.quit = quit_and_clean
    return d


class Tap:
    def __init__(self):
        self.failed = 0

    def check(self, cond, desc, detail=None):
        if cond:
            print("ok - " + desc)
        else:
            self.failed += 1
            print("not ok - " + desc)
            if detail is not None:
                for line in str(detail).splitlines()[:20]:
                    print("# " + line)
        sys.stdout.flush()
        return cond


def wait_for(driver, fn, secs):
    """True when fn(driver) becomes true within secs."""
    try:
        WebDriverWait(driver, secs, poll_frequency=0.2,
                      ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(fn)
        return True
    except TimeoutException:
        return False


def simctl(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


seen_requests = []


def requests(driver, origin):
    """The requests documents of origin made since the last call (DevTools performance log),
    as {url, method, headers}; also kept in seen_requests."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") != "Network.requestWillBeSent":
            continue
        p = msg["params"]
        if p.get("documentURL", "").startswith(origin + "/") or p["request"]["url"].startswith(origin + "/"):
            out.append({"url": p["request"]["url"], "method": p["request"]["method"],
                        "headers": p["request"].get("headers", {})})
    seen_requests.extend(out)
    return out


def requested_urls(driver, origin):
    return [r["url"] for r in requests(driver, origin)]


def click(driver, css):
    """Clicks the element css selects, again if the page redrew it meanwhile."""
    for _ in range(5):
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
            return
        except (StaleElementReferenceException, NoSuchElementException):
            time.sleep(0.2)
    driver.find_element(By.CSS_SELECTOR, css).click()


def click_choice(driver, vm, key):
    click(driver, 'article.question[data-vm="%s"] li.choice[data-key="%s"] button.answer' % (vm, key))


def enter_token(driver, token):
    wait_for(driver, lambda x: len(x.find_elements(By.ID, "token")) == 1, 5)
    box = driver.find_element(By.ID, "token")
    box.clear()
    box.send_keys(token)
    click(driver, "#token-form button[type=submit]")
    wait_for(driver, lambda x: len(x.find_elements(By.ID, "token-forget")) == 1, 5)


def no_alert(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def articles(driver, vm):
    return driver.find_elements(By.CSS_SELECTOR, 'article.question[data-vm="%s"]' % vm)


def cmd_readonly(agent):
    t = Tap()
    d = browser()
    try:
        d.get(agent + "/")
        t.check(wait_for(d, lambda x: x.find_element(By.ID, "status").text.startswith("Updated"), 15),
                "read-only: the script updated the page")
        t.check(len(d.find_elements(By.CSS_SELECTOR, "article.question")) >= 1, "read-only: a question is shown")
        t.check(len(d.find_elements(By.CSS_SELECTOR, "button, form, input")) == 0,
                "read-only: no button, form or input without a token configured")
        t.check("set api_token_file in vimon.conf to turn it on" in d.find_element(By.ID, "answering").text,
                "read-only: a line says how to turn answering on", d.find_element(By.ID, "answering").text)
        logs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        t.check(not logs, "read-only: no console errors", logs)
    finally:
        d.quit()
    return 1 if t.failed else 0


def cmd_test(agent, sim, target, vm, vm_name, qtext, other_vm, token):
    t = Tap()
    d = browser()
    try:
        d.get_log("performance")  # the browser's own start-up pages
        d.get(agent + "/")
        # the script's first poll may redraw the server-rendered questions: look at the page
        # after it, or the elements found before it go stale
        wait_for(d, lambda x: x.find_element(By.ID, "status").text.startswith("Updated"), 15)
        arts = articles(d, vm)
        t.check(len(arts) == 1, "/ shows the question pending on %s" % vm, d.page_source[:2000])
        if not arts:
            return 1
        a = arts[0]
        t.check(a.find_element(By.CSS_SELECTOR, "p.text").text == qtext,
                "the question's full text is shown as text (HTML in it is not markup)",
                a.find_element(By.CSS_SELECTOR, "p.text").text)
        labels = [e.text for e in a.find_elements(By.CSS_SELECTOR, "li.choice .label")]
        t.check(labels == ["Cancel", "Yes"], "its choices are shown", labels)
        dflt = a.find_elements(By.CSS_SELECTOR, "li.choice.default")
        t.check(len(dflt) == 1 and dflt[0].get_attribute("data-key") == "1"
                and "default" in dflt[0].text.lower(),
                "the default choice (Yes) is marked", [x.text for x in dflt])
        name = a.find_element(By.CSS_SELECTOR, "h3 .vm").get_attribute("textContent")
        t.check(name == vm_name, "the VM's name %r is shown as text" % vm_name, name)
        t.check(d.execute_script("return document.querySelectorAll('main script, main img').length") == 0,
                "no script or img element came from vCenter's names or texts")
        t.check(no_alert(d), "no alert dialog")
        t.check("Blocks PowerOnVM_Task" in a.text, "the blocked power-on is named", a.text)
        t.check(len(d.find_elements(By.CSS_SELECTOR, '#tasks tr.blocked')) == 1,
                "the tasks table shows one blocked task")
        t.check(len(d.find_elements(By.CSS_SELECTOR, '#targets td.up')) == 1, "the target is shown up")

        # The script polls the JSON API: a question raised after the page loaded shows up.
        t.check(wait_for(d, lambda x: x.find_element(By.ID, "status").text.startswith("Updated"), 15),
                "the page's script updates it from the JSON API", d.find_element(By.ID, "status").text)
        simctl(sim, "/_sim/question", {"vm": other_vm, "id": "q-later", "text": "A later question?",
                                       "choices": [{"key": "0", "label": "OK"}]})
        t.check(wait_for(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, 'article[data-qid="q-later"]')) == 1, 20),
                "a question raised after loading appears without a reload")
        t.check(d.title.startswith("2 pending questions"), "the title counts the pending questions", d.title)
        t.check(no_alert(d), "still no alert dialog after the script rendered the names")
        name = articles(d, vm)[0].find_element(By.CSS_SELECTOR, "h3 .vm").get_attribute("textContent")
        t.check(name == vm_name, "the script shows the VM's name as text too", name)
        t.check(d.execute_script("return document.querySelectorAll('main script, main img').length") == 0,
                "the script made no script or img element from the data")

        # Phone width: nothing wider than the screen.
        d.set_window_size(390, 844)
        time.sleep(0.3)
        sw = d.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        t.check(sw[0] <= sw[1], "on a phone-sized window the page is not wider than the screen", sw)
        d.set_window_size(1100, 900)

        # Dark theme
        light = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                          {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        dark = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        t.check(light == "rgb(255, 255, 255)" and dark == "rgb(13, 17, 23)",
                "light and dark theme follow prefers-color-scheme", (light, dark))
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

        # The deep link, followed from the question's heading.
        click(d, 'article.question[data-vm="%s"] h3 a.vm' % vm)
        want = "%s/questions/%s/%s" % (agent, target, vm)
        t.check(wait_for(d, lambda x: x.current_url == want, 10), "the VM's name links to " + want, d.current_url)
        t.check(len(articles(d, vm)) == 1 and len(d.find_elements(By.CSS_SELECTOR, "article.question")) == 1,
                "the deep link shows that question only")
        row = d.find_elements(By.CSS_SELECTOR, "#tasks tr.blocked")
        task = row[0].get_attribute("data-task") if row else "none"
        t.check(len(row) == 1 and row[0].find_element(By.CSS_SELECTOR, "td.state").text == "running",
                "and its blocked power-on (%s), running" % task, [r.text for r in row])
        state = '#tasks tr[data-task="%s"] td.state' % task

        # Answering: the token typed once, a wrong one refused with the server's reason.
        t.check(wait_for(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, "li.choice button.answer")) == 2, 10),
                "with a token configured each choice is a button")
        t.check(len(d.find_elements(By.ID, "token-form")) == 1, "the page asks for the token")
        click_choice(d, vm, "0")
        t.check(wait_for(d, lambda x: "Enter the API token first" in x.find_element(By.ID, "messages").text, 5),
                "a choice clicked without a token asks for it")
        enter_token(d, "wrong-" + token)
        click_choice(d, vm, "0")
        t.check(wait_for(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, ".confirm button.send")) == 1, 5),
                "a choice asks for confirmation first")
        click(d, ".confirm button.send")
        t.check(wait_for(d, lambda x: x.find_element(By.ID, "messages").text.startswith("Refused (HTTP 401"), 10),
                "a wrong token: the refusal is shown", d.find_element(By.ID, "messages").text)
        t.check("A valid Authorization header" in d.find_element(By.ID, "messages").text,
                "with the server's reason", d.find_element(By.ID, "messages").text)
        t.check(len(d.find_elements(By.ID, "token-form")) == 1 and len(articles(d, vm)) == 1,
                "the token is asked again and the question is still pending")

        enter_token(d, token)
        t.check(d.execute_script("return sessionStorage.getItem('vimon.token')") == token,
                "the token is kept in sessionStorage")
        click_choice(d, vm, "0")
        wait_for(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, ".confirm button.send")) == 1, 5)
        t.check("\u201cCancel\u201d" in d.find_element(By.CSS_SELECTOR, ".confirm").text,
                "the confirmation names the chosen answer", d.find_element(By.CSS_SELECTOR, ".confirm").text)
        click(d, ".confirm button.send")
        # (the "Token set" message before it is a good one too: wait for the answer's own)
        t.check(wait_for(d, lambda x: x.find_element(By.ID, "messages").text.startswith("Answered question q-xss"), 15),
                "the server's message is shown", d.find_element(By.ID, "messages").text)
        t.check("msg good" in (d.find_element(By.CSS_SELECTOR, "#messages p").get_attribute("class") or ""),
                "as an accepted answer", d.find_element(By.CSS_SELECTOR, "#messages p").get_attribute("class"))
        t.check(wait_for(d, lambda x: len(articles(x, vm)) == 0, 20), "the question disappears")
        t.check(wait_for(d, lambda x: [e.text for e in x.find_elements(By.CSS_SELECTOR, state)] == ["success"], 20),
                "the power-on it blocked completes (success)",
                [e.text for e in d.find_elements(By.CSS_SELECTOR, state)])
        t.check(wait_for(d, lambda x: "was answered with choice 0 (Cancel) by HTTP client 127.0.0.1 at"
                         in x.find_element(By.ID, "question").text, 10),
                "the page says who answered and when", d.find_element(By.ID, "question").text)
        t.check(d.execute_script("return document.cookie") == "", "no cookie")
        posts = [r for r in requests(d, agent) if r["method"] == "POST"]
        t.check(len(posts) == 2 and all(p["headers"].get("Authorization", "").startswith("Bearer ") and
                                        "Cookie" not in p["headers"] for p in posts),
                "the answers carried a bearer header and no cookie", posts)
        d.refresh()
        t.check(wait_for(d, lambda x: "was answered with choice 0 (Cancel)" in x.find_element(By.ID, "question").text, 5),
                "the question page says so without JavaScript's help too (server-rendered)")
        t.check(len(d.find_elements(By.ID, "token-form")) == 0, "the token survives a reload of the tab")

        # Chromium logs every HTTP error status of a fetch; the refusal of the wrong token is
        # the one expected (and checked above).
        logs = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and not (
            e.get("source") == "network" and "/api/v1/questions/answer" in e.get("message", "")
            and "status of 401" in e.get("message", ""))]
        t.check(not logs, "no console errors (but the expected 401 of the wrong token)", logs)
        urls = [r["url"] for r in seen_requests] + requested_urls(d, agent)
        foreign = [u for u in urls if not u.startswith(agent + "/")]
        t.check(urls and not foreign, "no resource outside the agent was requested (%d requests)" % len(urls),
                foreign)
    finally:
        d.quit()
    return 1 if t.failed else 0


def cmd_screenshot(url, out, width=1000, height=760):
    d = browser(int(width), int(height))
    try:
        d.get(url)
        wait_for(d, lambda x: x.find_element(By.ID, "status").text.startswith("Updated"), 15)
        d.execute_script("window.scrollTo(0, 0)")
        d.save_screenshot(out)
    finally:
        d.quit()
    return 0


def cmd_measure(url):
    d = browser()
    try:
        t0 = time.monotonic()
        d.get(url)
        wall = time.monotonic() - t0
        wait_for(d, lambda x: x.execute_script("return performance.getEntriesByType('paint').length") > 0, 10)
        nav = d.execute_script("return performance.getEntriesByType('navigation')[0].toJSON()")
        paints = d.execute_script("return performance.getEntriesByType('paint').map(p => p.toJSON())")
        res = d.execute_script("return performance.getEntriesByType('resource').map(r => r.toJSON())")
        # the first poll of the JSON API
        wait_for(d, lambda x: x.find_element(By.ID, "status").text.startswith("Updated"), 15)
        polls = d.execute_script(
            "return performance.getEntriesByType('resource').filter(r => r.name.indexOf('/api/v1/') >= 0)"
            ".map(r => [r.name, r.decodedBodySize, r.duration])")
        nq = d.execute_script("return document.querySelectorAll('article.question').length")
    finally:
        d.quit()
    fcp = [p["startTime"] for p in paints if p["name"] == "first-contentful-paint"]
    print("questions_shown %d" % nq)
    print("html_bytes %d" % nav["decodedBodySize"])
    print("html_transfer_bytes %d" % nav["transferSize"])
    print("load_requests %d" % (1 + len(res)))
    print("load_bytes %d" % (nav["decodedBodySize"] + sum(r["decodedBodySize"] for r in res)))
    print("html_response_ms %.1f" % nav["responseEnd"])
    print("dom_content_loaded_ms %.1f" % nav["domContentLoadedEventEnd"])
    print("first_contentful_paint_ms %.1f" % (fcp[0] if fcp else -1))
    print("load_event_ms %.1f" % nav["loadEventEnd"])
    print("navigation_wall_ms %.1f" % (wall * 1000))
    first = {}
    for name, size, dur in polls:
        path = "/" + name.split("://", 1)[1].split("/", 1)[1]
        first.setdefault(path, (size, dur))
    for path, (size, dur) in sorted(first.items()):
        print("poll_bytes %s %d (%.1f ms)" % (path, size, dur))
    print("poll_requests %d" % len(first))
    print("poll_bytes_total %d" % sum(size for size, _ in first.values()))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "test" and len(argv) == 10:
        return cmd_test(*argv[2:])
    if len(argv) == 3 and argv[1] == "readonly":
        return cmd_readonly(argv[2])
    if len(argv) >= 4 and argv[1] == "screenshot":
        return cmd_screenshot(*argv[2:])
    if len(argv) == 3 and argv[1] == "measure":
        return cmd_measure(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
