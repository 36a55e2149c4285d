/*
 * replay.js: the replay page (/replay/<sim>/<step>/). Needs town.js.
 *
 * Loads stored frames from boot.urls.frames ("?from=N&count=200") in chunks ahead of
 * playback and plays from boot.start_step to boot.last_step (the scrubber reaches any
 * stored step 0..last_step). Speeds 1..5 = 1x, 2x, 4x, 8x, 16x with 1x = one step
 * every 500 ms (town.js Player). The selected agent's card links to its persona
 * state page at the step shown (boot.urls.persona_state).
 *
 * boot.i18n keys used (English fallbacks below), besides town.js's own
 * (zoom_in, zoom_out, fit_map, follow, unfollow, loading, map_error, no_agents,
 * close, conversation, not_here):
 *   play, pause, buffering, end_of_replay, no_steps, frames_load_error, persona_state
 */
(function () {
  "use strict";
  const S = window.SmallvilleTown;
  const boot = S.readBoot();
  S.defaults({
    play: "Play", pause: "Pause", buffering: "Loading steps…", end_of_replay: "End of the stored steps.",
    no_steps: "This simulation has no stored steps yet.",
    frames_load_error: "Could not load the steps.", persona_state: "Memory and plans at this step",
  });
  const t = S.t, el = S.el;
  const CHUNK = 200;

  const errorBox = document.getElementById("town-error");
  const playBtn = document.getElementById("play-toggle");
  const speedSel = document.getElementById("speed");
  const slider = document.getElementById("scrubber");
  const detail = document.getElementById("persona-detail");
  const status = document.getElementById("play-state");

  const first = 0;
  let last = typeof boot.last_step === "number" ? boot.last_step : -1;
  const start = S.clamp(typeof boot.start_step === "number" ? boot.start_step : 0, first, Math.max(first, last));

  const frames = new Map();   // step -> frame
  const chunks = new Map();   // chunk start -> "loading" | "loaded" | failure time
  let shownFrame = null;

  const town = S.create(boot, { onSelect: onSelect, onFollow: () => renderCard() });
  const panel = S.panelToggle(town);
  const list = S.agentList(document.getElementById("agent-list"), boot.personas, (name) => { town.select(name); town.reveal(name); });

  // ------------------------------------------------------------ the data
  const chunkOf = (s) => Math.floor(s / CHUNK) * CHUNK;

  function frameAt(step) {
    const f = frames.get(step);
    if (f) return f;
    if (chunks.get(chunkOf(step)) !== "loaded") return null;
    // A step missing from a loaded chunk: everyone stays where they were.
    for (let s = step - 1; s >= chunkOf(step) - CHUNK && s >= first; s--) {
      const g = frames.get(s);
      if (g) return { step, time: S.timeAt(boot.start_time, step * (boot.sec_per_step || 10)), agents: g.agents };
    }
    return { step, time: S.timeAt(boot.start_time, step * (boot.sec_per_step || 10)), agents: {} };
  }

  function need(step) {
    if (step > last || step < first) return;
    load(chunkOf(step));
    if (step + CHUNK / 2 <= last) load(chunkOf(step + CHUNK / 2)); // keep half a chunk ahead
  }

  async function load(c) {
    if (c > last) return;
    const st = chunks.get(c);
    if (st === "loading" || st === "loaded") return;
    if (typeof st === "number" && performance.now() - st < 3000) return; // failed: retry later
    chunks.set(c, "loading");
    try {
      const sep = boot.urls.frames.includes("?") ? "&" : "?";
      const r = await fetch(`${boot.urls.frames}${sep}from=${c}&count=${CHUNK}`,
        { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!r.ok) throw new Error(await S.errorText(r));
      const data = await r.json();
      for (const f of data.frames || []) if (f && typeof f.step === "number") frames.set(f.step, f);
      chunks.set(c, "loaded");
      if (typeof data.last_step === "number" && data.last_step > last) {
        last = data.last_step;
        slider.max = String(last);
        S.setText("last-step", String(last));
        player.setLast(last);
      }
      showError(null);
      player.poke();
    } catch (e) {
      chunks.set(c, performance.now());
      showError(t("frames_load_error") + (e && e.message ? " (" + e.message + ")" : ""));
      if (!shownFrame) town.markReady(); // nothing to draw: do not keep tests waiting
    }
  }

  function showError(msg) {
    errorBox.textContent = msg || "";
    errorBox.hidden = !msg;
  }

  // ------------------------------------------------------------ playback
  const player = S.player({
    town, first, last: Math.max(first, last), start, speed: Number(speedSel && speedSel.value) || 1,
    frameAt, need,
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

  function renderState(p) {
    playBtn.textContent = p.playing ? "❚❚ " + t("pause") : "▶ " + t("play");
    playBtn.setAttribute("aria-pressed", p.playing ? "true" : "false");
    const atEnd = !p.playing && p.shown !== null && p.shown >= p.last && p.last > first;
    status.textContent = p.buffering ? t("buffering") : atEnd ? t("end_of_replay") : "";
    status.hidden = !status.textContent;
  }

  // ------------------------------------------------------------ the panel
  function onSelect(name) {
    list.setSelected(name);
    if (name && !panel.isOpen()) panel.open();
    renderCard();
  }

  const stateLink = el("a", { class: "button", id: "persona-state-link" }, t("persona_state"));
  function renderCard() {
    const name = town.selected;
    if (!name) { S.frameAgentCard(detail, town, null); return; }
    const step = shownFrame ? shownFrame.step : start;
    stateLink.href = boot.urls.persona_state.replace("__STEP__", String(step)).replace("__NAME__", encodeURIComponent(name));
    S.frameAgentCard(detail, town, name, shownFrame && shownFrame.agents ? shownFrame.agents[name] : null, stateLink);
  }

  // ------------------------------------------------------------ controls
  slider.min = String(first);
  slider.max = String(Math.max(first, last));
  slider.value = String(start);
  let seekTimer = null;
  slider.addEventListener("input", () => {
    S.setText("step-num", slider.value);
    clearTimeout(seekTimer);
    seekTimer = setTimeout(() => player.seek(Number(slider.value)), 120);
  });
  slider.addEventListener("change", () => { clearTimeout(seekTimer); player.seek(Number(slider.value)); });
  playBtn.addEventListener("click", () => player.toggle());
  if (speedSel) speedSel.addEventListener("change", () => player.setSpeed(Number(speedSel.value)));
  document.addEventListener("keydown", (e) => {
    if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target && e.target.tagName;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(tag || "") || (e.target && e.target.isContentEditable)) return;
    e.preventDefault();
    player.toggle();
  });

  // ------------------------------------------------------------------ start
  renderState(player);
  if (last < first) {
    slider.disabled = true;
    playBtn.disabled = true;
    town.showMessage(t("no_steps"));
    town.markReady();
    return;
  }
  if (boot.frame && boot.frame.step === start) frames.set(start, boot.frame);
  player.seek(start);
})();
