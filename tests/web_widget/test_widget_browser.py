"""The citizens' widget in Debian's Chromium, against the real app with the real model.

The widget is embedded the way a city embeds it: a host page on another origin (a
second server) loads `/widget.js` from the API server, whose CORS allows that origin
only. One host page has hostile global CSS, to show the shadow root keeps it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatbot.api import create_app
from chatbot.config import Settings
from chatbot.escalation.users import add_user
from chatbot.storage import Database
from tests.conftest import (
    ARTIFACTS,
    FakeClock,
    browser_tests,
    free_port,
    serve_in_thread,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, browser_tests]

WIDGET_TESTS = Path(__file__).parent
AXE = WIDGET_TESTS / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ARTIFACTS / "screenshots"
# Saturday 10 October 2026, 18:00 in Berlin: the hotline is closed until Monday 8:00.
SATURDAY_EVENING = datetime(2026, 10, 10, 16, 0, tzinfo=UTC)
HOSTILE = "<img src=x onerror=alert(1)>"
OUT_OF_SCOPE = "Wie wird das Wetter am Wochenende an der Nordsee?"

AGGRESSIVE_CSS = """
* { font-family: "Comic Sans MS", cursive !important; color: #f0f !important;
    background: #ff0 !important; letter-spacing: 3px !important; line-height: 3 !important;
    text-transform: uppercase !important; box-sizing: content-box !important;
    margin: 7px !important; padding: 9px !important; border: 3px dashed red !important;
    border-radius: 0 !important; direction: rtl !important; }
html { font-size: 9px !important; }
button, input, textarea, select { all: unset !important; display: block !important; }
div, ol, li, p, form { display: inline !important; position: static !important; }
citizen-chat-widget { display: none !important; transform: scale(.3) !important;
                      opacity: .1 !important; filter: blur(4px) !important; }
"""


def host_page(api: str, *, css: str = "", lang: str = "de") -> str:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stadt Musterstadt – Bürgerservice</title><link rel="icon" href="data:,">
<style>{css}</style></head>
<body><header><a href="#main">Start</a></header>
<main id="main"><h1>Bürgerservice</h1><p>Informationen der Stadt.</p>
<p><a href="#kontakt">Kontakt</a></p></main>
<script src="{api}/widget.js" data-lang="auto" defer></script>
</body></html>"""


def host_app(api: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    def page(request: Request) -> HTMLResponse:
        css = AGGRESSIVE_CSS if request.query_params.get("css") == "aggressive" else ""
        return HTMLResponse(host_page(api, css=css, lang=request.query_params.get("lang", "de")))

    return Starlette(routes=[Route("/", page)])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, search_service: Any,
         corpus_index_dir: Path) -> Iterator[dict[str, str]]:
    """The real API server and a city page on another origin that embeds the widget."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('widget') / 'widget.sqlite3'}"
    host_port = free_port()
    host_origin = f"http://127.0.0.1:{host_port}"
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=db_url,
                        cors_origins=[host_origin])
    app = create_app(settings, search_service=search_service,
                     clock=FakeClock(SATURDAY_EVENING))
    with serve_in_thread(app) as api, serve_in_thread(host_app(api), port=host_port) as host:
        database = Database(db_url)
        with database.write_session() as session:
            token = add_user(session, name="a.schmidt", role="agent", now=SATURDAY_EVENING)[1]
        database.dispose()
        yield {"api": api, "host": host, "agent_token": token}


class Widget:
    """A page with the widget, and the few steps every test takes."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda msg: self.errors.append(msg.text)
                if msg.type == "error" else None)
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message),
                                          dialog.dismiss()))

    def locator(self, selector: str) -> Any:
        return self.page.locator(f"citizen-chat-widget {selector}")

    def open(self) -> None:
        self.locator(".launcher").click()
        self.expect(self.locator(".panel")).to_be_visible()

    @property
    def expect(self) -> Any:
        from playwright.sync_api import expect

        return expect

    def ask(self, text: str) -> Any:
        """Send a message; returns the bot's reply element."""
        before = self.locator(".msg.bot").count()
        self.locator("textarea#cc-input").fill(text)
        self.locator("button.send").click()
        reply = self.locator(".msg.bot").nth(before)
        self.expect(reply).to_be_visible(timeout=20_000)
        return reply

    def active(self) -> dict[str, str]:
        """The focused element inside the widget (focus sits in its shadow root)."""
        result: dict[str, str] = self.page.evaluate("""() => {
            const host = document.querySelector('citizen-chat-widget');
            const node = host && host.shadowRoot.activeElement;
            if (document.activeElement !== host || !node) {
                return {tag: 'outside', text: '', cls: '', name: '', id: '', type: ''};
            }
            return {tag: node.tagName.toLowerCase(), text: (node.textContent || '').trim(),
                    cls: node.className || '', name: node.name || '', id: node.id || '',
                    type: node.type || ''};
        }""")
        return result

    def tab_to(self, predicate: Any, *, shift: bool = False, limit: int = 40) -> dict[str, str]:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if shift else "Tab")
            active = self.active()
            if predicate(active):
                return active
        raise AssertionError(f"keyboard focus never reached the element (last: {active})")


@pytest.fixture
def widget(browser: Any, site: dict[str, str]) -> Iterator[Widget]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="de-DE",
                                  timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(site["host"] + "/")
    widget = Widget(page)
    widget.expect(widget.locator(".launcher")).to_be_visible()
    yield widget
    context.close()
    assert widget.errors == []
    assert widget.dialogs == []


def agent_get(site: dict[str, str], path: str) -> Any:
    response = httpx.get(site["api"] + path,
                         headers={"Authorization": f"Bearer {site['agent_token']}"})
    response.raise_for_status()
    return response.json()


def test_a_german_question_gets_an_answer_with_a_working_source_link(
        widget: Widget, site: dict[str, str]) -> None:
    widget.open()
    banner = widget.locator("#cc-hotline")
    widget.expect(banner).to_contain_text("02151 86-0")
    widget.expect(banner).to_contain_text("Montag")
    assert widget.locator(".title").text_content() == "Bürgerservice-Chat"

    reply = widget.ask("Wie beantrage ich einen Reisepass?")
    assert reply.get_attribute("data-type") == "answer"
    widget.expect(reply).to_contain_text("Reisepass")
    source = reply.locator("a[href*='/articles/reisepass-beantragen']").first
    href = source.get_attribute("href")
    assert href == f"{site['api']}/articles/reisepass-beantragen?lang=de"
    assert source.get_attribute("target") == "_blank"
    assert "noopener" in (source.get_attribute("rel") or "")
    with widget.page.context.expect_page() as opened:
        source.click()
    article = opened.value
    article.wait_for_load_state()
    assert "Reisepass" in article.title()
    article.close()

    reply.get_by_role("button", name="Ja, hilfreich").click()
    widget.expect(reply.locator(".thanks")).to_have_text("Danke für Ihre Rückmeldung.")


def test_switching_to_turkish_gets_a_turkish_answer(widget: Widget) -> None:
    requests: list[dict[str, Any]] = []
    widget.page.on("request", lambda request: requests.append(json.loads(request.post_data))
                   if request.url.endswith("/api/v1/chat") and request.method == "POST" else None)
    widget.open()
    widget.locator("select#cc-lang").select_option("tr")
    widget.expect(widget.locator(".title")).to_have_text("Vatandaş hizmetleri sohbeti")
    widget.expect(widget.locator("#cc-hotline")).to_contain_text("02151 86-0")
    reply = widget.ask("Pasaport nasıl alırım?")
    assert requests[-1]["lang"] == "tr"
    assert reply.get_attribute("lang") == "tr"
    assert reply.get_attribute("data-type") == "answer"
    widget.expect(reply).to_contain_text("Pasaport")
    assert reply.locator("a[href*='lang=tr']").count() >= 1
    widget.expect(reply.locator(".feedback-question")).to_have_text(
        "Bu yanıt işinize yaradı mı?")


def test_out_of_scope_question_opens_a_ticket_found_through_the_api(
        widget: Widget, site: dict[str, str]) -> None:
    tickets_before = agent_get(site, "/api/v1/agent/tickets")["total"]
    widget.open()
    reply = widget.ask(OUT_OF_SCOPE)
    assert reply.get_attribute("data-type") == "escalate"
    reply.get_by_role("button", name="Anliegen senden").click()
    form = reply.locator("form.ticket-form")
    widget.expect(form).to_be_visible()
    assert form.get_by_label("Ihr Anliegen").input_value() == OUT_OF_SCOPE
    privacy = form.locator("a.privacy")
    assert privacy.get_attribute("href") == site["api"] + "/datenschutz"

    # Without contact and consent the form says what is missing and sends nothing.
    form.get_by_role("button", name="Anliegen absenden").click()
    widget.expect(form).to_contain_text(
        "Bitte geben Sie eine E-Mail-Adresse oder eine Telefonnummer an.")
    widget.expect(form).to_contain_text("Bitte bestätigen Sie die Einwilligung.")
    assert agent_get(site, "/api/v1/agent/tickets")["total"] == tickets_before

    form.get_by_label("Name").fill("Erika Mustermann")
    form.get_by_label("E-Mail").fill("erika@example.org")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Anliegen absenden").click()
    confirmation = reply.locator(".confirmation")
    widget.expect(confirmation).to_contain_text("Ihre Vorgangsnummer")
    reference = confirmation.locator(".reference").text_content() or ""
    assert reference.startswith("KR-")

    ticket = agent_get(site, f"/api/v1/agent/tickets/{reference}")
    assert ticket["message"] == OUT_OF_SCOPE
    assert ticket["contact"] == {"email": "erika@example.org", "phone": None,
                                 "name": "Erika Mustermann"}
    assert ticket["preferred_language"] == "de"
    assert ticket["conversation_id"]
    assert [line["role"] for line in ticket["transcript"]] == ["citizen", "assistant"]
    assert ticket["transcript"][0]["text"] == OUT_OF_SCOPE


def test_booking_an_appointment_slot(widget: Widget, site: dict[str, str]) -> None:
    widget.open()
    reply = widget.ask("Ich möchte mit einem Mitarbeiter sprechen, es geht um meinen Reisepass.")
    assert reply.get_attribute("data-type") == "escalate"
    reply.get_by_role("button", name="Termin buchen").click()
    form = reply.locator("form.appointment-form")
    widget.expect(form.locator("select[name=day]")).to_be_visible()
    widget.expect(form.locator("h3")).to_contain_text("Termin buchen:")
    # Saturday evening: the first free day is Monday 12 October.
    assert "Montag, 12. Oktober" in (form.locator("select[name=day] option").first
                                     .text_content() or "")
    times = form.locator(".time label")
    assert times.count() > 3
    second = times.nth(1).text_content()
    form.locator("input[name=slot]").nth(1).click()  # the radio lies over its label
    form.get_by_label("Name").fill("Max Mustermann")
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Termin verbindlich buchen").click()
    confirmation = reply.locator(".confirmation")
    widget.expect(confirmation).to_contain_text("Ihr Termin ist gebucht")
    assert second
    assert second in (confirmation.text_content() or "")
    reference = confirmation.locator(".reference").text_content() or ""
    assert reference.startswith("TA-")
    ics = confirmation.locator("a.ics").get_attribute("href") or ""
    calendar = httpx.get(ics)
    assert calendar.status_code == 200
    assert "BEGIN:VEVENT" in calendar.text
    booked = agent_get(site, "/api/v1/agent/appointments?date=2026-10-12")
    ours = [a for a in booked if a["reference"] == reference]
    assert [a["name"] for a in ours] == ["Max Mustermann"]


def test_reload_keeps_the_conversation_and_restart_clears_it(widget: Widget) -> None:
    widget.open()
    widget.ask("Wie melde ich meinen Hund an?")
    assert widget.locator(".msg").count() == 3  # welcome, question, answer
    widget.page.reload()
    widget.expect(widget.locator(".panel")).to_be_visible()
    widget.expect(widget.locator(".msg.citizen .plain")).to_have_text(
        "Wie melde ich meinen Hund an?")
    assert widget.locator(".msg.bot").count() == 2
    # The follow-up continues the same conversation on the server.
    follow_up = widget.ask("Was kostet das?")
    widget.expect(follow_up).to_contain_text("Hund")

    widget.locator("button.restart").click()
    widget.expect(widget.locator(".msg")).to_have_count(1)
    widget.page.reload()
    widget.expect(widget.locator(".msg")).to_have_count(1)


def test_the_whole_ticket_flow_with_the_keyboard_only(widget: Widget,
                                                     site: dict[str, str]) -> None:
    page = widget.page
    widget.tab_to(lambda a: "launcher" in a["cls"])
    page.keyboard.press("Enter")
    widget.expect(widget.locator(".panel")).to_be_visible()
    assert widget.active()["id"] == "cc-input"
    # Focus is trapped: backwards from the first control lands on the last one.
    first = widget.tab_to(lambda a: a["id"] == "cc-lang", shift=True)
    assert first["id"] == "cc-lang"
    page.keyboard.press("Shift+Tab")
    assert widget.active()["cls"] == "send"
    page.keyboard.press("Tab")
    assert widget.active()["id"] == "cc-lang"

    widget.tab_to(lambda a: a["id"] == "cc-input")
    page.keyboard.type("Ich möchte bitte mit einem Menschen sprechen.")
    page.keyboard.press("Enter")
    reply = widget.locator(".msg.bot").nth(1)
    widget.expect(reply).to_be_visible(timeout=20_000)
    assert reply.get_attribute("data-type") == "escalate"
    widget.tab_to(lambda a: a["text"] == "Anliegen senden", shift=True)
    page.keyboard.press("Enter")
    assert widget.active()["name"] == "name"
    page.keyboard.type("Kim Beispiel")
    page.keyboard.press("Tab")
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    assert widget.active()["name"] == "phone"
    page.keyboard.press("Tab")
    assert widget.active()["name"] == "message"
    page.keyboard.press("Tab")
    assert widget.active()["name"] == "consent"
    page.keyboard.press("Space")
    widget.tab_to(lambda a: a["text"] == "Anliegen absenden")
    page.keyboard.press("Enter")
    confirmation = reply.locator(".confirmation")
    widget.expect(confirmation).to_contain_text("Ihre Vorgangsnummer")
    reference = confirmation.locator(".reference").text_content() or ""
    assert agent_get(site, f"/api/v1/agent/tickets/{reference}")["contact"]["email"] == \
        "kim@example.org"

    page.keyboard.press("Escape")
    widget.expect(widget.locator(".panel")).to_be_hidden()
    assert "launcher" in widget.active()["cls"]
    assert widget.locator(".launcher").get_attribute("aria-expanded") == "false"


def test_markup_in_a_message_is_shown_as_text_and_runs_nothing(widget: Widget) -> None:
    widget.open()
    widget.ask(HOSTILE)
    widget.expect(widget.locator(".msg.citizen .plain")).to_have_text(HOSTILE)
    assert widget.page.evaluate(
        "() => document.querySelector('citizen-chat-widget').shadowRoot"
        ".querySelectorAll('img').length") == 0
    assert widget.page.locator("img").count() == 0
    widget.page.wait_for_timeout(300)  # an onerror handler would have fired by now


def test_arabic_script_messages_are_laid_out_right_to_left(widget: Widget) -> None:
    widget.open()
    reply = widget.ask("چۆن دەتوانم پاسپۆرت وەربگرم؟")
    assert reply.get_attribute("data-type") == "unsupported_language"
    citizen = widget.locator(".msg.citizen")
    assert citizen.get_attribute("dir") == "rtl"
    assert citizen.evaluate("node => getComputedStyle(node).direction") == "rtl"
    assert widget.locator(".msg.bot").last.evaluate(
        "node => getComputedStyle(node).direction") == "ltr"


WIDGET_STYLE_PROBE = """() => {
    const root = document.querySelector('citizen-chat-widget').shadowRoot;
    const props = ['font-family', 'font-size', 'color', 'background-color', 'letter-spacing',
                   'line-height', 'text-transform', 'padding-top', 'margin-top', 'border-top-style',
                   'direction', 'display', 'box-sizing', 'opacity', 'filter', 'transform'];
    const out = {};
    for (const selector of ['.launcher', '.panel', '.header', '.title', '.msg.bot', '.msg.citizen',
                            '#cc-input', 'button.send', 'select#cc-lang']) {
        const node = root.querySelector(selector);
        const style = getComputedStyle(node);
        const box = node.getBoundingClientRect();
        out[selector] = {box: [box.x, box.y, box.width, box.height].map(Math.round),
                         style: props.map(p => style.getPropertyValue(p))};
    }
    return out;
}"""


def test_aggressive_host_css_does_not_change_the_widget(browser: Any,
                                                       site: dict[str, str]) -> None:
    looks = {}
    for css in ("plain", "aggressive"):
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="de-DE")
        page = context.new_page()
        page.goto(f"{site['host']}/?css={css}")
        widget = Widget(page)
        widget.open()
        widget.ask("Wie beantrage ich einen Reisepass?")
        widget.locator("textarea#cc-input").blur()
        looks[css] = page.evaluate(WIDGET_STYLE_PROBE)
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("citizen-chat-widget .panel").screenshot(
            path=str(ARTIFACTS / f"widget-{css}-css.png"))
        context.close()
        assert widget.errors == []
    assert looks["aggressive"] == looks["plain"]


def run_axe(page: Any) -> list[dict[str, Any]]:
    assert AXE.is_file(), f"{AXE} missing: run `make test` (it runs npm ci in {WIDGET_TESTS})"
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("""async () => {
        const results = await axe.run({include: [['citizen-chat-widget']]},
                                      {resultTypes: ['violations']});
        return {violations: results.violations.map(v => ({id: v.id, impact: v.impact,
                 help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))};
    }""")
    violations: list[dict[str, Any]] = result["violations"]
    return violations


@pytest.mark.parametrize(("lang", "question", "out_of_scope"), [
    ("de", "Wie beantrage ich einen Reisepass?", OUT_OF_SCOPE),
    ("tr", "Pasaport nasıl alırım?",
     "Hafta sonu Kuzey Denizi'nde hava nasıl olacak?"),
])
def test_axe_finds_no_serious_or_critical_violations(widget: Widget, lang: str, question: str,
                                                     out_of_scope: str) -> None:
    widget.open()
    if lang != "de":
        widget.locator("select#cc-lang").select_option(lang)
    widget.ask(question)
    escalation = widget.ask(out_of_scope)
    escalation.locator("button.action").first.click()
    widget.expect(escalation.locator("form.ticket-form")).to_be_visible()
    violations = run_axe(widget.page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=1, ensure_ascii=False)


def test_usable_at_320_px_and_at_200_percent_zoom(browser: Any, site: dict[str, str]) -> None:
    # 200% zoom of a 1280 x 800 window leaves 640 x 400 CSS pixels.
    for width, height in ((320, 640), (640, 400)):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="de-DE")
        page = context.new_page()
        page.goto(site["host"] + "/")
        widget = Widget(page)
        widget.open()
        widget.ask("Wie beantrage ich einen Reisepass?")
        geometry = page.evaluate("""() => {
            const root = document.querySelector('citizen-chat-widget').shadowRoot;
            const panel = root.querySelector('.panel').getBoundingClientRect();
            const log = root.querySelector('.log');
            const input = root.querySelector('#cc-input').getBoundingClientRect();
            const send = root.querySelector('button.send').getBoundingClientRect();
            return {panel: [panel.left, panel.top, panel.right, panel.bottom],
                    overflow: log.scrollWidth - log.clientWidth,
                    input: [input.left, input.right, input.bottom], send: send.right};
        }""")
        left, top, right, bottom = geometry["panel"]
        assert left >= 0, geometry
        assert top >= 0, geometry
        assert right <= width, geometry
        assert bottom <= height, geometry
        assert geometry["overflow"] <= 0, geometry
        assert geometry["input"][1] <= width, geometry
        assert geometry["send"] <= width, geometry
        assert geometry["input"][2] <= height, geometry
        context.close()
        assert widget.errors == []


def test_screenshots_of_the_open_widget(browser: Any, site: dict[str, str]) -> None:
    """For the README: `make screenshots` copies them to web_widget/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("widget-desktop.png", {"width": 1280, "height": 860}),
                           ("widget-320px.png", {"width": 320, "height": 640})):
        context = browser.new_context(viewport=viewport, locale="de-DE",
                                      timezone_id="Europe/Berlin")
        page = context.new_page()
        page.goto(site["api"] + "/")  # the demo city page
        widget = Widget(page)
        widget.open()
        widget.ask("Wie beantrage ich einen Reisepass?")
        widget.locator("textarea#cc-input").blur()
        page.screenshot(path=str(SCREENSHOTS / name))
        context.close()
        assert widget.errors == []
        assert (SCREENSHOTS / name).stat().st_size > 10_000


@pytest.fixture(scope="module")
def limited_site(tmp_path_factory: pytest.TempPathFactory, search_service: Any,
                 corpus_index_dir: Path) -> Iterator[dict[str, str]]:
    """Like `site`, with a chat limit of one message an hour per client."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('limited') / 'limited.sqlite3'}"
    host_port = free_port()
    settings = Settings(index_dir=corpus_index_dir, index_poll_seconds=0, database_url=db_url,
                        cors_origins=[f"http://127.0.0.1:{host_port}"],
                        rate_limit_chat="1/hour")
    app = create_app(settings, search_service=search_service,
                     clock=FakeClock(SATURDAY_EVENING))
    with serve_in_thread(app) as api, serve_in_thread(host_app(api), port=host_port) as host:
        yield {"api": api, "host": host}


def test_a_rate_limited_message_is_explained_in_the_citizens_language(
        browser: Any, limited_site: dict[str, str]) -> None:
    strings = json.loads((Path(__file__).parents[2] / "web_widget" / "i18n" / "pl.json")
                         .read_text(encoding="utf-8"))
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Berlin")
    page = context.new_page()
    page.goto(limited_site["host"] + "/?lang=pl")
    widget = Widget(page)
    widget.open()
    widget.locator("select#cc-lang").select_option("pl")
    reply = widget.ask("Jak uzyskać paszport?")
    assert reply.get_attribute("lang") == "pl"

    widget.locator("textarea#cc-input").fill("A ile to kosztuje?")
    widget.locator("button.send").click()
    # Retry-After is about an hour; the widget reads it across origins (CORS exposes it).
    expected = strings["error_rate_limited"].replace("{minutes}", "60")
    widget.expect(widget.locator("#cc-input-error")).to_have_text(expected)
    # Nothing is lost: the message is back in the box to send later.
    widget.expect(widget.locator("textarea#cc-input")).to_have_value("A ile to kosztuje?")
    context.close()
    assert [e for e in widget.errors if "429" not in e] == []
