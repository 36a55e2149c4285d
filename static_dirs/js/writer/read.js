/*
 * read.js: the reader page of a published story (/read/<project>/).
 *
 * Opens boot.urls.ws (/ws/read/<project>/, environment/writer/consumers.py ReaderConsumer)
 * and draws every "view" message: the title, the story along this reader's path
 * (view.paragraphs) and the options to go on (view.options) as numbered buttons.
 * A click (or the key 1-9) sends {"type": "choose", "option": <0-based>}: an option
 * the writer (or this reader) already wrote is followed at once and a new view comes;
 * otherwise a step is queued, its text streams in as "piece" messages (shown live,
 * options disabled) and the new view arrives when it is written ("job" messages say
 * how the step goes; a failed one is shown and the options come back). "Back one
 * step" sends {"type": "back"}, "Start over" {"type": "restart"} after a confirm.
 * Error frames are shown in the role=alert box. Reconnects with backoff and pings
 * every 25 s; a 4404 close (unpublished, or no such story) stops reconnecting.
 *
 * Everything the server sends (story text, options, errors) is set with textContent:
 * a model's text never becomes HTML.
 *
 * boot.i18n keys used (English fallbacks below): connecting, offline,
 * confirm_restart, not_found, failed, title_fallback. The page's fixed labels (the
 * buttons, "What happens next?", the writing note) are translated in read.html.
 *
 * Test hooks: document.body.dataset.node (the node shown), .reader ("loading",
 * "ready", "choosing", "writing", "gone").
 */
(function () {
  "use strict";

  const bootNode = document.getElementById("boot");
  const boot = bootNode ? JSON.parse(bootNode.textContent) : {};
  const I18N = boot.i18n || {};
  const DEFAULTS = {
    connecting: "Connecting…",
    offline: "Disconnected; reconnecting…",
    confirm_restart: "Start over from the beginning of the story?",
    not_found: "This story cannot be read here: it is not published, or it has not begun yet.",
    failed: "The next part could not be written. Choose again, or choose another option.",
    title_fallback: "A story",
  };

  function t(key) {
    return Object.prototype.hasOwnProperty.call(I18N, key) ? String(I18N[key]) : DEFAULTS[key] || key;
  }

  const $ = (id) => document.getElementById(id);
  const article = $("reader");
  const titleEl = $("story-title");
  const connEl = $("conn-state");
  const errorEl = $("reader-error");
  const storyEl = $("story");
  const writingEl = $("writing");
  const writingText = $("writing-text");
  const choicesEl = $("choices");
  const optionsEl = $("options");
  const noOptionsEl = $("no-options");
  const backBtn = $("back");
  const restartBtn = $("restart");
  const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  let view = null;          // the last "view" message
  let writingJob = null;    // id of this reader's step being written (null: none)
  let choosing = false;     // a choose/back/restart sent, its answer not back yet
  let scrollToNew = false;  // after a choice: bring the new paragraph into view
  let gone = false;         // closed with 4404: stop reconnecting
  const ended = new Set();  // jobs that finished, failed or were stopped: late pieces are dropped
  let chosenPlan = null;    // the option being followed or written (marked while busy)

  // ------------------------------------------------------------------ drawing
  function setState() {
    const state = gone ? "gone" : !view ? "loading" : writingJob !== null ? "writing" : choosing ? "choosing" : "ready";
    document.body.dataset.reader = state;
    article.setAttribute("aria-busy", state === "loading" || state === "writing" ? "true" : "false");
    const locked = state !== "ready";
    if (!locked) chosenPlan = null;
    for (const b of optionsEl.querySelectorAll("button")) {
      b.disabled = locked;
      b.classList.toggle("chosen", locked && chosenPlan !== null && b.dataset.plan === chosenPlan);
    }
    const canBack = !!(view && view.can_go_back) && !gone;
    backBtn.disabled = !canBack || choosing;
    restartBtn.disabled = !(canBack || writingJob !== null) || choosing || gone;
    writingEl.hidden = writingJob === null;
  }

  function showError(text) {
    errorEl.textContent = text || "";
    errorEl.hidden = !text;
  }

  function renderStory(paragraphs) {
    const existing = Array.from(storyEl.children);
    let same = 0;
    while (same < existing.length && same < paragraphs.length && existing[same].textContent === String(paragraphs[same])) same++;
    for (const p of existing.slice(same)) p.remove();
    let first = null;
    for (const text of paragraphs.slice(same)) {
      const p = document.createElement("p");
      p.textContent = String(text);
      if (view && existing.length) p.className = "fresh";
      storyEl.appendChild(p);
      if (!first) first = p;
    }
    return { first, grew: paragraphs.length > existing.length && same === existing.length };
  }

  function renderOptions(options) {
    const buttons = options.map((text, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "option";
      b.dataset.option = String(i);
      b.dataset.plan = String(text);
      const num = document.createElement("span");
      num.className = "option-num";
      num.textContent = `${i + 1}.`;
      const body = document.createElement("span");
      body.className = "option-text";
      body.textContent = String(text);
      b.append(num, " ", body);
      return b;
    });
    optionsEl.replaceChildren(...buttons);
    choicesEl.hidden = !options.length;
    noOptionsEl.hidden = !!options.length;
  }

  function showView(msg) {
    const firstView = !view;
    const prevNode = view ? view.node : null;
    const paragraphs = Array.isArray(msg.paragraphs) ? msg.paragraphs : [];
    const options = Array.isArray(msg.options) ? msg.options : [];
    const name = msg.project && msg.project.name ? String(msg.project.name) : "";
    const title = msg.title ? String(msg.title) : name || t("title_fallback");
    titleEl.textContent = title;
    document.title = title;
    if (msg.project && msg.project.language) {
      const lang = msg.project.language === "zh" ? "zh-Hans" : String(msg.project.language);
      for (const node of [titleEl, storyEl, writingText, optionsEl]) node.lang = lang;
    }
    view = msg;
    const { first, grew } = renderStory(paragraphs);
    renderOptions(options);
    document.body.dataset.node = String(msg.node);

    const job = msg.job && typeof msg.job === "object" ? msg.job : null;
    if (job && (job.state === "queued" || job.state === "running")) {
      if (typeof job.plan === "string") chosenPlan = job.plan;
      startWriting(job.id, job.text || "", false);
    } else {
      stopWriting();
    }
    if (msg.failed && msg.failed.error && !job) showError(`${t("failed")} (${msg.failed.error})`);
    else if (msg.node !== prevNode && !firstView) showError("");
    choosing = false;
    setState();
    if (!firstView && grew && first && scrollToNew) {
      const top = first.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.6) first.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
    }
    scrollToNew = false;
  }

  function startWriting(jobId, text, reveal) {
    const fresh = writingJob !== jobId;
    writingJob = jobId;
    if (fresh || text.length > writingText.textContent.length) writingText.textContent = text;
    showError("");
    setState();
    if (fresh && reveal) writingEl.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
  }

  function stopWriting() {
    writingJob = null;
    writingText.textContent = "";
  }

  function onPiece(msg) {
    if (ended.has(msg.job)) return;
    if (writingJob !== msg.job) startWriting(msg.job, "", true);
    if (msg.reset) writingText.textContent = "";
    writingText.textContent += String(msg.text || "");
  }

  function onJob(job) {
    if (!job || typeof job !== "object") return;
    if (job.state === "queued" || job.state === "running") {
      if (typeof job.plan === "string" && job.plan) chosenPlan = job.plan;
      startWriting(job.id, writingJob === job.id ? writingText.textContent : "", true);
      return;
    }
    ended.add(job.id);
    if (writingJob !== job.id) return;
    // done: the new view follows (writer.changed); failed or cancelled: back to the choices.
    if (job.state === "failed") {
      stopWriting();
      showError(job.error ? `${t("failed")} (${job.error})` : t("failed"));
    } else if (job.state !== "done") {
      stopWriting(); // cancelling, cancelled: "back" or "start over" stopped it
    }
    setState();
  }

  function onReply(msg) {
    if (msg.command === "choose" && typeof msg.job === "number") {
      choosing = false;
      if (ended.has(msg.job)) { setState(); return; }
      startWriting(msg.job, writingJob === msg.job ? writingText.textContent : "", true);
      return;
    }
    // "written" and back/restart: the new view follows at once and ends `choosing`.
  }

  // ----------------------------------------------------------------- commands
  function choose(i) {
    if (!view || choosing || writingJob !== null || gone) return;
    if (!send({ type: "choose", option: i })) return;
    chosenPlan = String(view.options[i]);
    choosing = true;
    scrollToNew = true;
    showError("");
    setState();
  }

  optionsEl.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-option]");
    if (b && !b.disabled) choose(Number(b.dataset.option));
  });

  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
    const target = e.target;
    if (target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))) return;
    if (!/^[1-9]$/.test(e.key)) return;
    const b = optionsEl.querySelector(`button[data-option="${Number(e.key) - 1}"]`);
    if (b && !b.disabled) {
      e.preventDefault();
      b.focus();
      choose(Number(e.key) - 1);
    }
  });

  backBtn.addEventListener("click", () => {
    if (backBtn.disabled || !send({ type: "back" })) return;
    choosing = true;
    setState();
  });

  restartBtn.addEventListener("click", () => {
    if (restartBtn.disabled || !window.confirm(t("confirm_restart"))) return;
    if (!send({ type: "restart" })) return;
    choosing = true;
    setState();
    window.scrollTo({ top: 0, behavior: reducedMotion ? "auto" : "smooth" });
  });

  // ---------------------------------------------------------------- websocket
  function setConn(kind) {
    connEl.textContent = kind ? t(kind) : "";
    connEl.hidden = !kind;
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "view": showView(msg); break;
      case "piece": onPiece(msg); break;
      case "job": onJob(msg.job); break;
      case "ok": onReply(msg); break;
      case "error":
        if (msg.command) { choosing = false; setState(); }
        showError(String(msg.error || ""));
        break;
      default: break; // "pong"
    }
  }

  function onState(kind) {
    if (kind === "gone") {
      gone = true;
      setConn(null);
      if (!view) { storyEl.replaceChildren(); choicesEl.hidden = true; }
      showError(t("not_found"));
      setState();
      return;
    }
    // While reading, a live link needs no badge; while loading it says "connecting".
    setConn(kind === "connected" ? null : kind === "connecting" && view ? "offline" : kind);
    if (kind === "offline") { choosing = false; setState(); }
  }

  function send(msg) {
    return live.send(msg);
  }

  // --------------------------------------------------------------------- start
  setState();
  const live = window.openLiveSocket(boot.urls && boot.urls.ws ? boot.urls.ws : "", { onMessage, onState });
})();
