/*
 * live.js: the live town page (/simulator_home/<sim>/). Needs town.js.
 *
 * Opens boot.urls.ws, draws every `frame` message, shows the run `state`, reconnects
 * with backoff (then sends {"type": "sync", "since": step}) and pings to keep the
 * connection alive. Play / pause / step POST to boot.urls.control when
 * boot.can_control. The side panel lists the agents; selecting one loads
 * boot.urls.persona (refreshed at most once a second while frames arrive).
 * All text from the server is set with textContent.
 *
 * boot.i18n keys used (English fallbacks below), besides town.js's own
 * (zoom_in, zoom_out, fit_map, follow, unfollow, loading, map_error, no_agents):
 *   playing, paused, connecting, connected, disconnected, calls, tokens,
 *   now, schedule, memories, conversation, no_conversation, no_action, no_schedule,
 *   no_memories, persona_load_error, request_failed, close, minutes, poignancy, before_first_step,
 *   waiting
 * While the runner waits out a model-server outage, the state carries waiting_since
 * and waiting_reason: the run badge then says so and counts the time.
 *
 * While a step runs, `progress` messages say which agent thinks about which purpose
 * and how many model calls (cached ones counted apart) and tokens it took so far
 * (#thinking); a pause asked for meanwhile shows "Pausing after this step…" until the
 * step lands. With boot.can_control, the agent panel has a "talk" box: ask (an
 * interview over the socket; nothing changes) or whisper (it becomes a memory, after
 * the step in flight). Answers come back on the socket; all of it is shown as text.
 * The page's own strings are translated in live.html (#live-strings data-*).
 */
(function () {
  "use strict";
  const S = window.SmallvilleTown;
  const boot = S.readBoot();
  const strings = document.getElementById("live-strings");
  if (strings) {
    const camel = { "step-n": "step_n", "all-cached": "all_cached", "talk-help": "talk_help", "talk-label": "talk_label",
      "you-asked": "you_asked", "you-whispered": "you_whispered", "whisper-queued": "whisper_queued",
      "whisper-applied": "whisper_applied", "whisper-failed": "whisper_failed", "talk-offline": "talk_offline",
      "talk-empty": "talk_empty" };
    const map = {};
    for (const attr of strings.attributes) {
      if (!attr.name.startsWith("data-")) continue;
      const key = attr.name.slice(5);
      map[camel[key] || key] = attr.value;
    }
    S.defaults(map);
  }
  S.defaults({
    thinking: "Thinking", pausing: "Pausing after this step…", step_n: "step", cached: "cached",
    all_cached: "all cached", talk: "Talk to this agent",
    talk_help: "Ask a question (the agent answers from its memories; nothing changes), or whisper a thought that becomes one of its memories.",
    talk_label: "Your question or whisper", ask: "Ask", whisper: "Whisper", you_asked: "You asked",
    you_whispered: "You whispered", answering: "Thinking about an answer…",
    whisper_queued: "Queued: it becomes a memory after the step in flight.", whisper_applied: "Now a memory, at step {step}.",
    whisper_failed: "The whisper failed", talk_offline: "Not connected; try again in a moment.",
    talk_empty: "Write something first.",
  });
  S.defaults({
    playing: "Playing", paused: "Paused",
    connecting: "Connecting…", connected: "Live", disconnected: "Disconnected; reconnecting…",
    calls: "model calls", tokens: "tokens",
    now: "Now", schedule: "Today's schedule", memories: "Recent memories", conversation: "Conversation",
    no_conversation: "Not talking to anyone.", no_action: "No current action.", no_schedule: "No schedule yet.",
    no_memories: "No memories yet.", persona_load_error: "Could not load this agent.",
    request_failed: "The request failed.", close: "Close", minutes: "min", poignancy: "poignancy",
    before_first_step: "before the first step", waiting: "Waiting for the model server",
  });
  const t = S.t, el = S.el;

  const errorBox = document.getElementById("town-error");
  const runBadge = document.getElementById("run-state");
  const connBadge = document.getElementById("conn-state");
  const detail = document.getElementById("persona-detail");
  const controls = document.getElementById("town-controls");

  let shownStep = boot.frame && typeof boot.frame.step === "number" ? boot.frame.step : -1;
  let runState = boot.state || "paused";
  let stateError = null, controlError = null;
  let lastFrameAt = 0;

  const town = S.create(boot, { onSelect: onSelect, onFollow: () => renderFollow() });
  const panel = S.panelToggle(town);
  const list = S.agentList(document.getElementById("agent-list"), boot.personas, (name) => { town.select(name); town.reveal(name); });
  if (!(boot.personas || []).length) document.getElementById("agent-list").appendChild(el("p", { class: "panel-note", text: t("no_agents") }));

  // ------------------------------------------------------------------ frames
  const nf = (n) => (typeof n === "number" ? n.toLocaleString(document.documentElement.lang || undefined) : "–");

  /** "calls: 5 · tokens: 1,234 · 2 cached", or "calls: 5 · all cached" (never "0 tokens"). */
  function callsText(calls, tokens, cached) {
    const parts = [`${t("calls")}: ${nf(calls)}`];
    if (calls > 0 && cached >= calls) parts.push(t("all_cached"));
    else {
      parts.push(`${t("tokens")}: ${nf(tokens)}`);
      if (cached > 0) parts.push(`${nf(cached)} ${t("cached")}`);
    }
    return parts.join(" · ");
  }

  function showFrame(frame, stats, cached) {
    if (!frame || typeof frame.step !== "number") return;
    if (frame.step < shownStep) return; // an older frame arriving late
    const now = performance.now();
    const gap = lastFrameAt ? now - lastFrameAt : 0;
    lastFrameAt = now;
    const duration = frame.step === shownStep ? 0 : S.clamp(gap * 0.9, 120, 800);
    shownStep = frame.step;
    town.setFrame(frame, duration);
    list.update(frame);
    S.setText("game-time", S.formatTime(frame.time));
    const stepNode = document.getElementById("step-num");
    S.setText(stepNode, frame.step < 0 ? "–" : String(frame.step));
    if (stepNode) stepNode.title = frame.step < 0 ? t("before_first_step") : "";
    if (stats) S.setText("stats", callsText(stats.calls, stats.tokens, typeof cached === "number" ? cached : 0));
    if (town.selected) scheduleRefresh();
    // The frame is the step committed: it is no longer in flight, whichever of the
    // runner's two senders (frames, progress) the page hears from first.
    if (progress.running && typeof progress.step === "number" && frame.step >= progress.step) setProgress({ running: false });
  }

  // ------------------------------------------------------------- run state
  let waitingSince = null, waitTimer = null;
  let progress = { running: false }, spinTimer = null, spin = 0;
  const thinkingNode = document.getElementById("thinking");
  const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

  /** A step in flight: who thinks about what, calls and tokens so far, for how long. */
  function setProgress(p) {
    const was = progress.running;
    const next = p && typeof p === "object" ? p : { running: false };
    // A count sent before the step's frame can arrive after it: that step has landed.
    if (next.running && typeof next.step === "number" && next.step <= shownStep) return;
    progress = next;
    if (progress.running && !spinTimer) spinTimer = setInterval(renderProgress, 250);
    if (!progress.running && spinTimer) { clearInterval(spinTimer); spinTimer = null; }
    renderProgress();
    if (was !== !!progress.running) renderRunBadge();
  }

  function renderProgress() {
    if (!thinkingNode) return;
    if (!progress.running) { thinkingNode.hidden = true; thinkingNode.textContent = ""; delete document.body.dataset.thinking; return; }
    spin = (spin + 1) % SPINNER.length;
    const since = progress.since ? Date.parse(progress.since) : NaN;
    const secs = Number.isNaN(since) ? null : Math.max(0, Math.round((Date.now() - since) / 1000));
    const parts = [`${SPINNER[spin]} ${t("thinking")}: ${t("step_n")} ${nf(progress.step)}`];
    if (progress.item) parts.push(String(progress.item));
    if (progress.purpose) parts.push(String(progress.purpose));
    parts.push(callsText(progress.calls || 0, progress.tokens || 0, progress.cached || 0));
    if (secs !== null) parts.push(`${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`);
    thinkingNode.textContent = parts.join(" · ");
    thinkingNode.hidden = false;
    document.body.dataset.thinking = String(progress.step);
  }

  function setRunState(state) {
    if (state !== "playing" && state !== "paused") return;
    runState = state;
    renderRunBadge();
    updateButtons(false);
  }

  function setWaiting(since, reason) {
    const at = since ? Date.parse(since) : NaN;
    waitingSince = Number.isNaN(at) ? null : at;
    runBadge.title = waitingSince !== null ? reason || "" : "";
    clearInterval(waitTimer);
    waitTimer = waitingSince !== null ? setInterval(renderRunBadge, 1000) : null;
    renderRunBadge();
  }

  function renderRunBadge() {
    runBadge.dataset.state = runState;
    if (runState === "paused" && progress.running) {
      // The pause lands after the step in flight: say so until it does.
      runBadge.className = "badge waiting";
      runBadge.dataset.state = "pausing";
      runBadge.textContent = t("pausing");
      return;
    }
    if (waitingSince !== null && runState === "playing") {
      const secs = Math.max(0, Math.round((Date.now() - waitingSince) / 1000));
      const mm = String(Math.floor(secs / 60)), ss = String(secs % 60).padStart(2, "0");
      runBadge.className = "badge waiting";
      runBadge.textContent = `${t("waiting")} · ${mm}:${ss}`;
      return;
    }
    runBadge.className = "badge " + runState;
    runBadge.textContent = t(runState);
  }
  setWaiting(boot.waiting_since, boot.waiting_reason);

  function renderErrors() {
    const msgs = [stateError, controlError].filter(Boolean);
    errorBox.textContent = msgs.join("\n");
    errorBox.hidden = !msgs.length;
  }

  let busy = false;
  function updateButtons(pending) {
    if (!controls) return;
    busy = pending;
    for (const b of controls.querySelectorAll("button[data-action]")) {
      const a = b.dataset.action;
      b.disabled = pending || (a === "play" && runState === "playing") ||
        (a === "pause" && runState === "paused") || (a === "step" && runState === "playing");
    }
  }

  function csrfToken() {
    for (const part of document.cookie ? document.cookie.split(";") : []) {
      const [k, ...v] = part.trim().split("=");
      if (k === "csrftoken") return decodeURIComponent(v.join("="));
    }
    return boot.csrf_token || "";
  }

  async function control(action) {
    if (busy) return;
    updateButtons(true);
    try {
      const r = await fetch(boot.urls.control, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        body: new URLSearchParams({ action }),
      });
      let data = null;
      try { data = await r.clone().json(); } catch (e) { data = null; }
      if (data && data.state) setRunState(data.state);
      if (!r.ok) controlError = (data && (data.error || data.detail)) || await S.errorText(r);
      else controlError = (data && data.error) || null;
    } catch (e) {
      controlError = t("request_failed");
    } finally {
      updateButtons(false);
      renderErrors();
    }
  }

  if (controls) {
    if (!boot.can_control) controls.remove();
    else controls.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-action]");
      if (b) control(b.dataset.action);
    });
  }

  // ------------------------------------------------------------- websocket
  let ws = null, attempts = 0, connectedOnce = false, reconnectTimer = null, pingTimer = null, lastMsgAt = 0;

  function setConn(kind) {
    connBadge.className = "badge " + (kind === "connected" ? "playing" : kind === "connecting" ? "paused" : "offline");
    connBadge.textContent = t(kind);
  }

  function wsUrl() {
    const u = boot.urls.ws;
    if (/^wss?:/.test(u)) return u;
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + u;
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    setConn(connectedOnce ? "disconnected" : "connecting");
    let sock;
    try { sock = new WebSocket(wsUrl()); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    sock.onopen = () => {
      attempts = 0;
      lastMsgAt = Date.now();
      setConn("connected");
      if (connectedOnce) send({ type: "sync", since: shownStep });
      connectedOnce = true;
      clearInterval(pingTimer);
      pingTimer = setInterval(keepalive, 20000);
    };
    sock.onmessage = (ev) => {
      lastMsgAt = Date.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "frame") showFrame(msg.frame, msg.stats, msg.cached);
      else if (msg.type === "progress") setProgress(msg);
      else if (msg.type === "interview" || msg.type === "whisper" || msg.type === "talk_error") talkReply(msg);
      else if (msg.type === "state") {
        setRunState(msg.state);
        setWaiting(msg.waiting_since, msg.waiting_reason);
        stateError = msg.error || null;
        renderErrors();
      } else if (msg.type === "error") {
        console.warn("server:", msg.error);
      }
    };
    sock.onclose = () => { if (ws === sock) dropped(); };
    sock.onerror = () => { /* onclose follows */ };
  }

  function dropped() {
    clearInterval(pingTimer);
    pingTimer = null;
    if (ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; try { ws.close(); } catch (e) { /* closed */ } }
    ws = null;
    setConn("disconnected");
    for (const [id, p] of pending) talkReply({ type: "talk_error", id, error: t("talk_offline") });
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const delay = Math.min(30000, 1000 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
    attempts = Math.min(attempts + 1, 6);
    reconnectTimer = setTimeout(connect, delay);
  }

  function keepalive() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastMsgAt > 50000) { dropped(); return; } // no pong: the link is dead
    send({ type: "ping" });
  }

  window.addEventListener("online", () => { if (!ws) { attempts = 0; connect(); } });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !ws) { attempts = 0; connect(); }
  });

  // -------------------------------------------------------- persona panel
  let fetchCtl = null, lastFetch = 0, refreshTimer = null, lastJson = null;

  function onSelect(name) {
    list.setSelected(name);
    lastJson = null;
    if (!name) { detail.hidden = true; detail.replaceChildren(); return; }
    if (!panel.isOpen()) panel.open();
    renderSkeleton(name);
    refresh();
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    const wait = Math.max(0, 1000 - (performance.now() - lastFetch));
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, wait);
  }

  async function refresh() {
    const name = town.selected;
    if (!name) return;
    if (fetchCtl) fetchCtl.abort();
    const ctl = new AbortController();
    fetchCtl = ctl;
    lastFetch = performance.now();
    try {
      const r = await fetch(boot.urls.persona.replace("__NAME__", encodeURIComponent(name)), {
        signal: ctl.signal, credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (!r.ok) throw new Error(await S.errorText(r));
      const data = await r.json();
      if (town.selected !== name) return;
      const json = JSON.stringify(data);
      if (json !== lastJson) { lastJson = json; renderDetail(name, data); }
    } catch (e) {
      if (e.name === "AbortError" || town.selected !== name) return;
      lastJson = null;
      renderDetail(name, null, e.message);
    } finally {
      if (fetchCtl === ctl) fetchCtl = null;
    }
  }

  function persona(name) {
    return (boot.personas || []).find((p) => p.name === name) || { name };
  }

  let followBtn = null;
  function renderFollow() {
    if (!followBtn) return;
    const on = town.following === town.selected && !!town.selected;
    followBtn.textContent = on ? t("unfollow") : t("follow");
    followBtn.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function head(name) {
    const p = persona(name);
    followBtn = el("button", { type: "button", class: "button", "aria-pressed": "false",
      onclick: () => town.follow(town.following === name ? null : name) });
    renderFollow();
    return [
      el("div", { class: "persona-head" },
        p.portrait ? el("img", { src: p.portrait, alt: "", width: 56, height: 56 }) : null,
        el("h2", { text: name }),
        el("button", { type: "button", class: "button", "aria-label": t("close"), title: t("close"),
          onclick: () => town.select(null) }, "✕")),
      el("div", { class: "persona-actions" }, followBtn),
    ];
  }

  function renderSkeleton(name) {
    detail.replaceChildren(...head(name), el("p", { class: "panel-note", text: t("loading") }));
    detail.hidden = false;
  }

  function renderDetail(name, data, error) {
    const scroll = detail.parentElement ? detail.parentElement.scrollTop : 0;
    const parts = head(name);
    if (!data) {
      parts.push(el("p", { class: "error", text: t("persona_load_error") + (error ? " (" + error + ")" : "") }));
      detail.replaceChildren(...parts);
      detail.hidden = false;
      return;
    }
    // now
    parts.push(el("h3", { text: t("now") }));
    const act = data.action;
    if (act && (act.description || act.emoji)) {
      const when = [act.start ? S.formatTime(act.start) : "", act.minutes ? `${act.minutes} ${t("minutes")}` : ""].filter(Boolean).join(" · ");
      parts.push(el("p", { class: "persona-now" },
        ((act.emoji ? act.emoji + " " : "") + (act.description || "")).trim(),
        act.address ? el("span", { class: "where", text: String(act.address) }) : null,
        when ? el("span", { class: "where", text: when }) : null));
    } else parts.push(el("p", { class: "panel-note", text: t("no_action") }));

    // conversation
    parts.push(el("h3", { text: t("conversation") }));
    if (Array.isArray(data.chat) && data.chat.length) {
      parts.push(el("ul", { class: "chat-log" }, data.chat.map((line) =>
        el("li", null, el("span", { class: "speaker", text: String(line[0]) + ":" }), String(line[1] ?? "")))));
    } else parts.push(el("p", { class: "panel-note", text: t("no_conversation") }));

    // schedule
    parts.push(el("h3", { text: t("schedule") }));
    const sched = Array.isArray(data.schedule) ? data.schedule : [];
    if (sched.length) {
      parts.push(el("ol", { class: "schedule" }, sched.map((b) => {
        const subs = b.current && Array.isArray(b.subtasks) && b.subtasks.length
          ? el("ol", { class: "subtasks" }, b.subtasks.map((s) => el("li", { class: s.current ? "current" : null,
            "aria-current": s.current ? "step" : null },
          el("span", { class: "time", text: String(s.start || "") }), String(s.activity || ""))))
          : null;
        return el("li", { class: b.current ? "current" : null, "aria-current": b.current ? "step" : null,
          title: b.minutes ? `${b.minutes} ${t("minutes")}` : null },
        el("span", { class: "time", text: String(b.start || "") }), el("span", { text: String(b.activity || "") }), subs);
      })));
    } else parts.push(el("p", { class: "panel-note", text: t("no_schedule") }));

    // memories
    parts.push(el("h3", { text: t("memories") }));
    const mems = Array.isArray(data.memories) ? data.memories : [];
    if (mems.length) {
      parts.push(el("ul", { class: "memories" }, mems.map((m) => el("li", null,
        el("span", { class: "meta", text: [m.kind, S.formatTime(m.created),
          typeof m.poignancy === "number" ? `${t("poignancy")} ${m.poignancy}` : ""].filter(Boolean).join(" · ") }),
        String(m.description || "")))));
    } else parts.push(el("p", { class: "panel-note", text: t("no_memories") }));

    const talk = talkBox(name);
    if (talk) parts.push(talk.node);
    // Moving the talk box into the new panel would drop the focus of a half-typed text.
    const focused = talk && talk.node.contains(document.activeElement) ? document.activeElement : null;
    const sel = focused && typeof focused.selectionStart === "number" ? [focused.selectionStart, focused.selectionEnd] : null;
    detail.replaceChildren(...parts);
    if (focused) {
      focused.focus({ preventScroll: true });
      if (sel) focused.setSelectionRange(sel[0], sel[1]);
    }
    detail.hidden = false;
    if (detail.parentElement) detail.parentElement.scrollTop = scroll;
  }

  // ------------------------------------------------------- talk to an agent
  // One box per agent, kept across panel refreshes (so a half-typed text survives).
  const talks = new Map();
  const pending = new Map(); // id -> { entry, kind }
  const whisperEntries = new Map(); // whisper id -> entry
  let talkSeq = 0;

  function talkBox(name) {
    if (!boot.can_control) return null;
    let box = talks.get(name);
    if (box) return box;
    const input = el("textarea", { id: "talk-text", rows: 3, maxlength: 1000, "aria-label": t("talk_label"), placeholder: t("talk_label") });
    const note = el("p", { class: "panel-note talk-note", role: "status", text: "" });
    const log = el("ol", { class: "talk-log", "aria-live": "polite" });
    const ask = el("button", { type: "button", class: "button primary", "data-talk": "interview", text: t("ask") });
    const whisper = el("button", { type: "button", class: "button", "data-talk": "whisper", text: t("whisper") });
    const node = el("section", { class: "talk", "aria-label": t("talk") },
      el("h3", { text: t("talk") }), el("p", { class: "panel-note", text: t("talk_help") }),
      input, el("div", { class: "persona-actions" }, ask, whisper), note, log);
    box = { node, input, note, log, ask, whisper, busy: false };
    ask.addEventListener("click", () => talkSend(name, "interview"));
    whisper.addEventListener("click", () => talkSend(name, "whisper"));
    talks.set(name, box);
    return box;
  }

  function setTalkBusy(box, busy) {
    box.busy = busy;
    box.ask.disabled = busy;
    box.whisper.disabled = busy;
  }

  function talkSend(name, kind) {
    const box = talks.get(name);
    if (!box || box.busy) return;
    const text = box.input.value.trim();
    box.note.textContent = "";
    if (!text) { box.note.textContent = t("talk_empty"); return; }
    if (!ws || ws.readyState !== WebSocket.OPEN) { box.note.textContent = t("talk_offline"); return; }
    const id = `t${++talkSeq}`;
    const said = el("p", { class: "talk-said" }, el("strong", { text: (kind === "interview" ? t("you_asked") : t("you_whispered")) + ": " }), text);
    const reply = el("p", { class: "talk-reply muted", text: kind === "interview" ? t("answering") : "…" });
    const entry = el("li", { class: "talk-entry", dataset: { kind, state: "pending" } }, said, reply);
    entry.replyNode = reply;
    box.log.prepend(entry);
    pending.set(id, { entry, kind, box, name });
    setTalkBusy(box, true);
    send(kind === "interview" ? { type: kind, id, persona: name, question: text, history: interviewHistory(name) }
      : { type: kind, id, persona: name, text });
    box.input.value = "";
  }

  const histories = new Map(); // agent -> [[question, answer], ...] of this page's interview
  function interviewHistory(name) { return (histories.get(name) || []).slice(-6); }

  function showWhisper(entry, w) {
    if (!entry || !w) return;
    entry.dataset.state = w.status;
    if (w.status === "applied") entry.replyNode.textContent = t("whisper_applied").replace("{step}", nf(w.step));
    else if (w.status === "failed") entry.replyNode.textContent = `${t("whisper_failed")}: ${w.error || ""}`;
    else entry.replyNode.textContent = t("whisper_queued");
  }

  function talkReply(msg) {
    const mine = msg.id !== undefined && msg.id !== null ? pending.get(msg.id) : undefined;
    if (msg.type === "whisper" && msg.whisper) {
      if (mine) { whisperEntries.set(msg.whisper.id, mine.entry); pending.delete(msg.id); setTalkBusy(mine.box, false); }
      const entry = whisperEntries.get(msg.whisper.id);
      const current = entry ? entry.dataset.state : null;
      // A broadcast "applied" may arrive before the direct answer: never step back to "queued".
      if (entry && !(current === "applied" && msg.whisper.status === "queued")) showWhisper(entry, msg.whisper);
      if (msg.whisper.status === "applied" && town.selected === msg.whisper.persona) { lastJson = null; scheduleRefresh(); }
      return;
    }
    if (!mine) return;
    pending.delete(msg.id);
    setTalkBusy(mine.box, false);
    if (msg.type === "talk_error") {
      mine.entry.dataset.state = "error";
      mine.entry.replyNode.className = "talk-reply error";
      mine.entry.replyNode.textContent = String(msg.error || t("request_failed"));
      return;
    }
    mine.entry.dataset.state = "answered";
    mine.entry.replyNode.className = "talk-reply";
    mine.entry.replyNode.replaceChildren(el("strong", { text: `${mine.name}: ` }), String(msg.answer || ""));
    const h = histories.get(mine.name) || [];
    h.push([String(msg.question || ""), String(msg.answer || "")]);
    histories.set(mine.name, h.slice(-6));
  }

  // ------------------------------------------------------------------ start
  setRunState(runState);
  if (boot.frame) showFrame(boot.frame, null);
  else town.markReady();
  connect();
})();
