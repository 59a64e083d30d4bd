"""Headless Chromium for the browser tests: Debian's `chromium` and `chromium-driver` driven through Selenium.

Selenium is pointed at /usr/bin/chromium and /usr/bin/chromedriver (the Service's executable path), so Selenium
Manager is never run and nothing is downloaded; `SE_OFFLINE` says the same to it should anything reach it. The
browser itself resolves no host name but the loopback's (`--host-resolver-rules`) and has its background
networking (updates, safe browsing, sync, metrics) turned off: a page that asked for anything off this machine
would show it broken, and `Browser.foreign_requests` lists it.

A missing package is a failure naming it (`make system-deps` installs both), never a skip.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 30
MAX_SHOT_HEIGHT = 6000  # px: a full-page screenshot is cut here (a case page with long evidence tables)

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1366,900",
    "--lang=zh-CN",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-proxy-server",
    "--disable-features=Translate,OptimizationHints,MediaRouter,CertificateTransparencyComponentUpdater",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def require_chromium() -> None:
    """Fail (never skip) naming the Debian package that is missing."""
    missing = [
        f"{package} ({path})"
        for package, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER))
        if not (path.is_file() and os.access(path, os.X_OK))
    ]
    if missing:
        pytest.fail(
            "缺少系统软件包 missing Debian package(s): "
            + ", ".join(missing)
            + " — `make system-deps` installs them (as root: apt-get install -y --no-install-recommends"
            " chromium chromium-driver)",
            pytrace=False,
        )


class Browser:
    """One headless Chromium window on the workbench at `base`: navigation that waits for the next page, forms
    filled by field name, downloads into `downloads`, and numbered full-page screenshots into `shots`."""

    def __init__(self, driver, base: str, shots: Path, downloads: Path) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.base, self.shots, self.downloads = driver, base, shots, downloads
        self.wait = WebDriverWait(driver, WAIT_SECONDS)
        self.taken: list[Path] = []
        self.visited: set[str] = set()

    # ---- pages ---------------------------------------------------------------------------------------------

    def go(self, path: str) -> None:
        self.driver.get(self.base + path)
        self._loaded()

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    @property
    def url(self) -> str:
        return self.driver.current_url

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click_and_wait(self, element) -> None:
        """Click something that loads a new page (a link, a submit button) and wait for that page."""
        token = self._mark_page()
        element.click()
        self._after_navigation(token)

    def follow(self, link_text: str) -> None:
        from selenium.webdriver.common.by import By

        self.click_and_wait(self.driver.find_element(By.LINK_TEXT, link_text))

    def submit(self, form_css: str, fields: dict[str, str] | None = None, button_css: str = "button[type=submit]"):
        """Fill a form's fields by name (text inputs typed, selects chosen by value) and press its button."""
        form = self.find(form_css)
        self.fill(form, fields or {})
        from selenium.webdriver.common.by import By

        self.click_and_wait(form.find_element(By.CSS_SELECTOR, button_css))

    def fill(self, form, fields: dict[str, str]) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        for name, value in fields.items():
            field = form.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
            if field.tag_name == "select":
                Select(field).select_by_value(value)
            elif field.get_attribute("type") == "date":
                # a date input takes typed digits in the locale's order: set its value as a person picking it would
                self.driver.execute_script("arguments[0].value = arguments[1];", field, value)
            else:
                field.clear()
                field.send_keys(value)

    def _mark_page(self) -> str:
        """Tag the current document so the next one can be told apart from it."""
        token = uuid.uuid4().hex
        self.driver.execute_script("window.__fundwatchPage = arguments[0];", token)
        return token

    def _after_navigation(self, token: str) -> None:
        """Wait until the tagged document is gone and a new one has loaded.

        Selenium's staleness check asks the old element whether it is enabled; while Chromium is swapping
        documents that question can fail with an inspector error ("Node with given id does not belong to the
        document") instead of the stale-element error the check expects. A window variable set on the old
        document is absent on the new one, and any error while asking means the swap is still under way.
        """
        from selenium.common.exceptions import WebDriverException

        def new_document(driver) -> bool:
            try:
                return driver.execute_script(
                    "return window.__fundwatchPage !== arguments[0] && document.readyState === 'complete';", token
                )
            except WebDriverException:
                return False

        self.wait.until(new_document)
        self._loaded()

    def _loaded(self) -> None:
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        self.visited.update(self._resource_urls())

    def _resource_urls(self) -> list[str]:
        script = "return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));"
        return list(self.driver.execute_script(script))

    def foreign_requests(self) -> list[str]:
        """Every address the pages loaded (the documents and what they asked for) that is not the workbench's."""
        here = urlsplit(self.base).netloc
        return sorted(
            u for u in self.visited if urlsplit(u).scheme not in ("data", "about") and urlsplit(u).netloc != here
        )

    # ---- what a person sees --------------------------------------------------------------------------------

    def shot(self, name: str) -> Path:
        """The whole page (up to MAX_SHOT_HEIGHT px) as a PNG, numbered in the order taken."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width, height = max(int(size["width"]), 1), min(max(int(size["height"]), 1), MAX_SHOT_HEIGHT)
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        path = self.shots / f"{len(self.taken) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        self.taken.append(path)
        return path

    # ---- downloads -----------------------------------------------------------------------------------------

    def download(self, button, expected_name: str) -> Path:
        """Press a button whose answer is an attachment; the file once Chromium has finished writing it."""
        target = self.downloads / expected_name
        if target.exists():
            target.unlink()
        before = set(self.downloads.iterdir())
        button.click()
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if target.is_file() and not any(p.suffix == ".crdownload" for p in self.downloads.iterdir()):
                return target
            time.sleep(0.1)
        arrived = sorted(p.name for p in set(self.downloads.iterdir()) - before)
        raise AssertionError(f"no download named {expected_name} within {WAIT_SECONDS}s (arrived: {arrived})")


@contextmanager
def chromium(base: str, shots: Path, downloads: Path, log: Path) -> Iterator[Browser]:
    """Debian's headless Chromium through its chromedriver, downloads allowed into `downloads`."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    shots.mkdir(parents=True, exist_ok=True)
    downloads.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
            "intl.accept_languages": "zh-CN,zh",
        },
    )
    with warnings.catch_warnings():  # deprecated for a ClientConfig, which webdriver.Chrome does not take yet
        warnings.simplefilter("ignore", DeprecationWarning)
        options.ignore_local_proxy_environment_variables()  # chromedriver is on the loopback: never via a proxy
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(log))
    offline = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager, were it ever asked, must not download anything
    try:
        driver = webdriver.Chrome(options=options, service=service)
    finally:
        if offline is None:
            del os.environ["SE_OFFLINE"]
        else:
            os.environ["SE_OFFLINE"] = offline
    try:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True}
        )
        yield Browser(driver, base, shots, downloads)
    finally:
        driver.quit()
