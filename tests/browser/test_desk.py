"""The photo desk and a page on another origin, driven in headless Chromium against the
real stack: uploads straight to the store, thumbnails filled in, CORS kept by the browser."""
import os
import shutil
from datetime import datetime
from pathlib import Path

import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.media.images import html_as_jpeg, jpeg, noisy_jpeg
from tests.support import NEW_YORK

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "desk.png"
READY_TILES = """return [...document.querySelectorAll('#grid li[data-status="processed"] img')]
                  .filter((image) => image.complete && image.naturalWidth > 0).length"""


def key_of(company, role):
    return next(u for u in company["users"] if u["role"] == role)["api_key"]


def photo_files(tmp_path, count):
    files = []
    for n in range(count):
        path = tmp_path / f"roof-{n + 1}.jpg"
        path.write_bytes(jpeg(1600, 1200, taken=datetime(2026, 11, 20 + n, 10, 30),
                              gps=(NEW_YORK["latitude"], NEW_YORK["longitude"])))
        files.append(str(path))
    return files


def open_desk(browser, server, key):
    browser.get(f"{server.url}/app/")
    browser.find_element(By.ID, "api-key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "desk").is_displayed())


def upload_rows(browser):
    return browser.execute_script(
        "return [...document.querySelectorAll('#uploads li')].map((row) =>"
        " [row.querySelector('.file-name').textContent, row.dataset.state || '',"
        "  row.querySelector('.note').textContent])")


def wait_for(browser, condition, timeout=10):
    """Wait until `condition(browser)`; on a timeout, say what the page showed."""
    try:
        return WebDriverWait(browser, timeout).until(condition)
    except TimeoutException:
        tiles = [tile.get_attribute("data-status") for tile in browser.find_elements(By.CSS_SELECTOR, "#grid li")]
        raise AssertionError(f"uploads {upload_rows(browser)}, tiles {tiles}, status "
                             f"{browser.find_element(By.TAG_NAME, 'body').text[:2000]!r}, "
                             f"console {browser.get_log('browser')}") from None


def console_problems(browser):
    """Errors in the console, CSP violations included; a 429 the page waited out is none."""
    return [entry["message"] for entry in browser.get_log("browser")
            if (entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"])
            and "status of 429" not in entry["message"]]


def test_the_desk_uploads_and_shows_the_thumbnails(desk, browser, company, tmp_path):
    server = desk()
    key = key_of(company, "owner")
    open_desk(browser, server, key)
    assert browser.execute_script("return sessionStorage.getItem('photoservice.apiKey')") == key
    assert key not in browser.current_url and browser.get_cookies() == []

    browser.find_element(By.ID, "pick-files").send_keys("\n".join(photo_files(tmp_path, 4)))
    wait_for(browser, lambda b: b.execute_script(READY_TILES) == 4, 90)
    # Once the batch has settled the page reads the list again: its order, its count.
    wait_for(browser, lambda b: b.find_element(By.ID, "page-info").text == "Page 1 of 1 (4 photos)"
             and b.execute_script(READY_TILES) == 4)
    assert sorted(upload_rows(browser)) == [[f"roof-{n}.jpg", "done", "Ready"] for n in (1, 2, 3, 4)]
    captions = [tile.text for tile in browser.find_elements(By.CSS_SELECTOR, "#grid li")]
    assert all("processed" in caption and "No place" not in caption for caption in captions), captions

    names = [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#grid .name")]
    assert names == ["roof-4.jpg", "roof-3.jpg", "roof-2.jpg", "roof-1.jpg"]
    browser.set_window_size(1280, 1000)
    shot = tmp_path / "desk.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS") or not SCREENSHOT.exists():  # README's picture
        shutil.copyfile(shot, SCREENSHOT)

    browser.refresh()  # the key survives a reload of the tab; the list is newest first
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(READY_TILES) == 4)
    names = [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#grid .name")]
    assert names == ["roof-4.jpg", "roof-3.jpg", "roof-2.jpg", "roof-1.jpg"]
    assert browser.find_element(By.ID, "page-info").text == "Page 1 of 1 (4 photos)"

    browser.find_element(By.CSS_SELECTOR, "#grid li button").click()
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "const i = document.getElementById('detail-image');"
        " return document.getElementById('detail').open && i.complete && i.naturalWidth > 0"))
    assert browser.execute_script("return document.getElementById('detail-image').naturalWidth") == 1600
    assert browser.switch_to.active_element.get_attribute("id") == "close-detail"
    assert "roof-4.jpg" in browser.find_element(By.ID, "detail-name").text
    browser.find_element(By.ID, "close-detail").click()

    browser.find_element(By.ID, "filter-job").send_keys(str(company["jobs"][1]))
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "(0 photos)" in b.find_element(By.ID, "page-info").text)

    browser.set_window_size(390, 844)  # a phone: one column, nothing wider than the screen
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert console_problems(browser) == []


def test_a_failed_upload_is_shown_as_such(desk, browser, company, tmp_path):
    server = desk(PHOTO_UPLOAD_MAX_BYTES=200_000)
    open_desk(browser, server, key_of(company, "crew"))
    not_a_photo, too_large = tmp_path / "portal.jpg", tmp_path / "huge.jpg"
    not_a_photo.write_bytes(html_as_jpeg())
    too_large.write_bytes(noisy_jpeg(1000, 800))
    assert too_large.stat().st_size > 200_000
    browser.find_element(By.ID, "pick-files").send_keys(f"{not_a_photo}\n{too_large}")
    WebDriverWait(browser, 30).until(
        lambda b: {state for _, state, _ in upload_rows(b)} == {"failed"} and len(upload_rows(b)) == 2)
    notes = {name: note for name, _, note in upload_rows(browser)}
    assert notes["huge.jpg"].startswith("Failed: the store refused the file (HTTP 400, EntityTooLarge"), notes
    assert notes["portal.jpg"].startswith("Failed: "), notes
    assert "Upload of" in browser.find_element(By.ID, "status").text


def test_a_page_on_an_allowed_origin_uploads_through_the_api(desk, browser, company, other_pages,
                                                             tmp_path):
    server = desk()
    browser.get(f"{other_pages.origin()}/other.html#api={server.url}&key={key_of(company, 'crew')}")
    browser.find_element(By.ID, "file").send_keys(photo_files(tmp_path, 1)[0])
    WebDriverWait(browser, 90).until(
        lambda b: b.find_element(By.ID, "result").get_attribute("data-state") in ("done", "failed"))
    assert browser.find_element(By.ID, "result").get_attribute("data-state") == "done", \
        browser.find_element(By.ID, "result").text
    assert browser.execute_script("return document.getElementById('thumbnail').naturalWidth") == 400

    browser.get(f"{other_pages.origin()}/other.html?mode=list#api={server.url}"
                f"&key={key_of(company, 'owner')}")
    WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.ID, "result").get_attribute("data-state") != "idle")
    # X-Request-ID is exposed: the page reads the id it sent, as the API echoed it.
    assert browser.find_element(By.ID, "result").text == "1 photos, request other-origin.1"


def test_a_disallowed_origin_is_refused_by_the_browser(desk, browser, company, other_pages):
    server = desk()
    key = key_of(company, "owner")
    elsewhere = other_pages.origin("localhost")  # another host: another origin
    browser.get(f"{elsewhere}/other.html?mode=list#api={server.url}&key={key}")
    WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.ID, "result").get_attribute("data-state") != "idle")
    assert browser.find_element(By.ID, "result").text == "TypeError: Failed to fetch"
    # The API would have answered the same request from a non-browser client: the
    # browser refused it, for want of CORS headers naming this origin.
    answer = requests.get(f"{server.url}/light/photos/", headers={"X-API-KEY": key, "Origin": elsewhere},
                          timeout=10)
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers


def test_a_file_over_100_mb_goes_up_in_parts(desk, browser, company, tmp_path):
    server = desk(PHOTO_UPLOAD_MAX_BYTES=120 * 1024 * 1024)
    big = tmp_path / "drone-survey.jpg"
    with big.open("wb") as file:  # a real JPEG, then padding past the resumable path's threshold
        file.write(jpeg(1200, 900))
        file.truncate(101 * 1024 * 1024)
    open_desk(browser, server, key_of(company, "crew"))
    browser.find_element(By.ID, "pick-files").send_keys(str(big))
    wait_for(browser, lambda b: b.execute_script(READY_TILES) == 1, 120)
    assert upload_rows(browser) == [["drone-survey.jpg", "done", "Ready"]]
    part_requests = browser.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name)"
        ".filter((name) => name.includes('partNumber=')).length")
    assert part_requests == 13  # 8 MiB parts
    photo_id = browser.find_element(By.CSS_SELECTOR, "#grid li").get_attribute("data-photo-id")
    photo = requests.get(f"{server.url}/light/photos/{photo_id}/", timeout=10,
                         headers={"X-API-KEY": key_of(company, "crew")}).json()
    assert photo["size"] == big.stat().st_size and photo["status"] == "uploaded"
