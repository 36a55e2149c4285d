/*
 * demo.js: the demo page (/demo/<sim>/<step>/<speed>/). Needs town.js.
 *
 * Fetches the compressed simulation (boot.urls.demo, format 1 of `compress_sim`) once,
 * rebuilds each step's frame with the contract's rule (an agent's value at step s is
 * the last entry with step <= s) and plays from boot.start_step at boot.speed.
 * Speeds 1..5 = 1x, 2x, 4x, 8x, 16x; 1x is one step every 500 ms (town.js Player),
 * i.e. 20 game seconds per real second with 10-second steps; 16x plays a game day in
 * about 4.5 minutes. Conversations show as chat bubbles over the speakers.
 * A 404 from the demo endpoint shows its message (it names the command to run).
 *
 * boot.i18n keys used (English fallbacks below), besides town.js's own
 * (zoom_in, zoom_out, fit_map, follow, unfollow, loading, map_error, no_agents,
 * close, conversation, not_here):
 *   play, pause, demo_missing, demo_load_error, bad_format
 */
(function () {
  "use strict";
  const S = window.SmallvilleTown;
  const boot = S.readBoot();
  S.defaults({
    play: "Play", pause: "Pause",
    demo_missing: "This simulation has not been compressed for the demo yet.",
    demo_load_error: "Could not load the demo.", bad_format: "The demo data has an unknown format.",
  });
  const t = S.t;

  const playBtn = document.getElementById("play-toggle");
  const speedSel = document.getElementById("speed");
  const slider = document.getElementById("scrubber");
  const detail = document.getElementById("persona-detail");

  const town = S.create(boot, { chatBubbles: true, onSelect: onSelect, onFollow: () => renderCard() });
  const panel = S.panelToggle(town);
  const list = S.agentList(document.getElementById("agent-list"), boot.personas, (name) => { town.select(name); town.reveal(name); });
  let shownFrame = null;
  let player = null;

  function fail(msg) {
    town.showMessage(msg, "error");
    playBtn.disabled = true;
    if (speedSel) speedSel.disabled = true;
    slider.disabled = true;
    town.markReady();
  }

  /** The last entry with entry[0] <= step (entries sorted by step), or null. */
  function lastAtOrBefore(entries, step) {
    if (!Array.isArray(entries) || !entries.length) return null;
    let lo = 0, hi = entries.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid][0] <= step) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? null : entries[best];
  }

  function frameBuilder(data) {
    const names = Array.isArray(data.personas) && data.personas.length ? data.personas : Object.keys(data.tracks || {});
    const tracks = {};
    for (const name of names) {
      const tr = (data.tracks || {})[name];
      if (!tr) continue;
      const sorted = (xs) => (Array.isArray(xs) ? xs.filter(Array.isArray).slice().sort((a, b) => a[0] - b[0]) : []);
      tracks[name] = { pos: sorted(tr.pos), act: sorted(tr.act), chat: sorted(tr.chat) };
    }
    const spp = data.sec_per_step || boot.sec_per_step || 10;
    const startTime = data.start_time || boot.start_time;
    let cached = null;
    return function frameAt(step) {
      if (cached && cached.step === step) return cached;
      const agents = {};
      for (const [name, tr] of Object.entries(tracks)) {
        const pos = lastAtOrBefore(tr.pos, step);
        if (!pos) continue;
        const act = lastAtOrBefore(tr.act, step);
        const chat = lastAtOrBefore(tr.chat, step);
        agents[name] = {
          x: pos[1], y: pos[2],
          emoji: act ? act[1] || "" : "",
          action: act ? act[2] || "" : "",
          chat: chat && Array.isArray(chat[1]) && chat[1].length ? chat[1] : null,
        };
      }
      cached = { step, time: S.timeAt(startTime, step * spp), agents };
      return cached;
    };
  }

  function onSelect(name) {
    list.setSelected(name);
    if (name && !panel.isOpen()) panel.open();
    renderCard();
  }

  function renderCard() {
    const name = town.selected;
    S.frameAgentCard(detail, town, name, name && shownFrame ? shownFrame.agents[name] : null);
  }

  function renderState(p) {
    playBtn.textContent = p.playing ? "❚❚ " + t("pause") : "▶ " + t("play");
    playBtn.setAttribute("aria-pressed", p.playing ? "true" : "false");
  }

  async function start() {
    town.showMessage(t("loading"));
    let data;
    try {
      const r = await fetch(boot.urls.demo, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!r.ok) {
        const type = r.headers.get("content-type") || "";
        const msg = type.includes("json") || type.includes("text/plain") ? await S.errorText(r) : "";
        fail(msg || (r.status === 404 ? t("demo_missing") : t("demo_load_error") + ` (${r.status})`));
        return;
      }
      data = await r.json();
    } catch (e) {
      fail(t("demo_load_error"));
      return;
    }
    if (!data || data.format !== 1 || !data.tracks || typeof data.steps !== "number") {
      fail(t("bad_format"));
      return;
    }
    town.showMessage(null);
    const first = typeof data.first_step === "number" ? data.first_step : 0;
    const last = first + Math.max(1, data.steps) - 1;
    const frameAt = frameBuilder(data);
    const begin = S.clamp(typeof boot.start_step === "number" ? boot.start_step : first, first, last);
    slider.min = String(first);
    slider.max = String(last);
    slider.value = String(begin);
    S.setText("last-step", String(last));
    const speed = S.clamp(Number(boot.speed) || 1, 1, 5);
    if (speedSel) speedSel.value = String(speed);
    player = S.player({
      town, first, last, start: begin, speed, frameAt, need() {},
      onStep(frame) {
        shownFrame = frame;
        list.update(frame);
        S.setText("game-time", S.formatTime(frame.time));
        S.setText("step-num", String(frame.step));
        if (document.activeElement !== slider) slider.value = String(frame.step);
        renderCard();
      },
      onState: renderState,
    });
    player.seek(begin);
    player.play();
  }

  // ------------------------------------------------------------ controls
  playBtn.addEventListener("click", () => player && player.toggle());
  if (speedSel) speedSel.addEventListener("change", () => player && player.setSpeed(Number(speedSel.value)));
  let seekTimer = null;
  slider.addEventListener("input", () => {
    S.setText("step-num", slider.value);
    clearTimeout(seekTimer);
    seekTimer = setTimeout(() => player && player.seek(Number(slider.value)), 80);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey || !player) return;
    const tag = e.target && e.target.tagName;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(tag || "") || (e.target && e.target.isContentEditable)) return;
    e.preventDefault();
    player.toggle();
  });

  if (boot.frame) town.setFrame(boot.frame, 0); // drawn at once while the demo data loads
  start();
})();
