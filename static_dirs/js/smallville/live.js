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
 */
(function () {
  "use strict";
  const S = window.SmallvilleTown;
  const boot = S.readBoot();
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
  function showFrame(frame, stats) {
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
    if (stats) {
      const nf = (n) => (typeof n === "number" ? n.toLocaleString(document.documentElement.lang || undefined) : "–");
      S.setText("stats", `${t("calls")}: ${nf(stats.calls)} · ${t("tokens")}: ${nf(stats.tokens)}`);
    }
    if (town.selected) scheduleRefresh();
  }

  // ------------------------------------------------------------- run state
  let waitingSince = null, waitTimer = null;

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
      if (msg.type === "frame") showFrame(msg.frame, msg.stats);
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

    detail.replaceChildren(...parts);
    detail.hidden = false;
    if (detail.parentElement) detail.parentElement.scrollTop = scroll;
  }

  // ------------------------------------------------------------------ start
  setRunState(runState);
  if (boot.frame) showFrame(boot.frame, null);
  else town.markReady();
  connect();
})();
