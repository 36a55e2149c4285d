"""Talk to the town from the live page: interview an agent and whisper to it (§8).

The server answers on the bundled model, over the page's websocket; a whisper becomes
a memory of the agent (shown as text, never run, on the live panel and the persona
state page), and only users with the run permission see the talk box.
"""

from __future__ import annotations

from urllib.parse import quote

from reverie import services
from reverie.models import MemoryNode, Whisper
from tests.e2e.helpers import wait_for_town

BASE = "base_the_ville_isabella_maria_klaus"
MARIA = "Maria Lopez"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> I left my keys at Hobbs Cafe'
NO_XSS = "() => window.__xss === undefined && !document.querySelector('img[src=\"x\"]')"
MODEL_TIMEOUT_MS = 180_000  # an answer on the bundled model, on a busy 2-core machine


def open_agent(page, sim_name: str, agent: str) -> None:
    page.goto(f"/simulator_home/{sim_name}/")
    wait_for_town(page)
    page.wait_for_function("() => document.getElementById('conn-state').textContent.length > 0")
    page.wait_for_function("() => document.getElementById('conn-state').className.includes('playing')")
    page.locator("#agent-list .agent-item", has_text=agent).first.click()
    page.wait_for_selector("#persona-detail .talk")


def test_whisper_becomes_a_memory_shown_as_text_and_interview_answers(signed_in_page):
    page = signed_in_page
    sim = services.fork(BASE, "e2e-talk")
    open_agent(page, sim.name, MARIA)
    talk = page.locator("#persona-detail .talk")

    # an empty text is refused on the page, nothing is sent
    talk.locator("[data-talk=whisper]").click()
    assert "Write something first." in talk.locator(".talk-note").inner_text()

    # whisper, with markup in it
    talk.locator("textarea").fill(XSS)
    talk.locator("[data-talk=whisper]").click()
    page.wait_for_function(
        "() => (document.querySelector('#persona-detail .talk-entry') || {dataset: {}}).dataset.state === 'applied'",
        timeout=MODEL_TIMEOUT_MS,
    )
    entry = talk.locator(".talk-entry").first
    assert XSS in entry.inner_text() and "Now a memory, at step 0" in entry.inner_text()
    row = Whisper.objects.get(simulation=sim)
    assert row.status == "applied" and row.text == XSS and row.author == page.user.username
    node = MemoryNode.objects.get(persona__simulation=sim, persona__name=MARIA, node_id=row.node_id)
    assert node.description == XSS and node.step == 0
    # the panel's memories refresh with it, as text
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('#persona-detail .memories li')]"
        ".some((li) => li.textContent.includes(t))",
        arg=XSS,
        timeout=15_000,
    )
    assert page.evaluate(NO_XSS)

    # interview: an answer from the model, and nothing stored
    memories = MemoryNode.objects.filter(persona__simulation=sim).count()
    talk.locator("textarea").fill("Where did you leave your keys?")
    talk.locator("[data-talk=interview]").click()
    assert talk.locator("[data-talk=interview]").is_disabled()  # one at a time
    page.wait_for_function(
        "() => (document.querySelector('#persona-detail .talk-entry') || {dataset: {}}).dataset.state === 'answered'",
        timeout=MODEL_TIMEOUT_MS,
    )
    answered = talk.locator(".talk-entry").first.locator(".talk-reply").inner_text()
    assert answered.startswith(f"{MARIA}:") and len(answered) > len(MARIA) + 2
    assert MemoryNode.objects.filter(persona__simulation=sim).count() == memories

    # the persona state page lists the whisper and marks its memory, as text
    page.goto(f"/replay_persona_state/{sim.name}/0/{quote(MARIA, safe='')}/")
    whispers = page.locator("#whispers")
    assert XSS in whispers.inner_text() and "memory #" in whispers.inner_text()
    marked = page.locator("#memory-table tr[data-whisper]")
    assert marked.count() == 1 and XSS in marked.inner_text() and "whisper" in marked.inner_text()
    assert page.evaluate(NO_XSS)
    assert page.page_errors == [] and page.console_errors == []


def test_no_talk_box_without_the_run_permission(new_page, make_user):
    from tests.e2e.helpers import login

    sim = services.fork(BASE, "e2e-talk-watch")
    anonymous = new_page()
    watcher = new_page()
    login(watcher, make_user("e2e-watcher", permissions=()))
    for page in (anonymous, watcher):
        page.goto(f"/simulator_home/{sim.name}/")
        wait_for_town(page)
        page.locator("#agent-list .agent-item", has_text=MARIA).first.click()
        page.wait_for_selector("#persona-detail h3")
        assert page.locator("#persona-detail .talk").count() == 0
        # and the socket refuses a hand-made whisper
        reply = page.evaluate(
            """(name) => new Promise((resolve) => {
                const ws = new WebSocket(`ws://${location.host}/ws/sim/${encodeURIComponent(name)}/`);
                ws.onmessage = (ev) => { const m = JSON.parse(ev.data);
                  const hi = {type: 'whisper', persona: 'Maria Lopez', text: 'hi', id: 1};
                  if (m.type === 'frame') ws.send(JSON.stringify(hi));
                  if (m.type === 'talk_error') { resolve(m); ws.close(); } };
            })""",
            sim.name,
        )
        assert reply["id"] == 1 and "permission" in reply["error"]
    assert not Whisper.objects.exists()
