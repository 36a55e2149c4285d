/*
 * The RISE run page (/training/<pk>/): live status and progress, the metrics table, and
 * the problems with their turns side by side, filtered and paged.
 *
 * Data: boot (json_script "boot": run, detail = training.selectors.run_detail, urls.ws,
 * urls.items, urls.chart, page_size, i18n); boot.urls.ws (/ws/training/<pk>/) sends
 * {"type": "state", run} on connect and when the run ends or waits, and
 * {"type": "progress", run, turn, played} after every turn of a batch; boot.urls.items
 * answers ?filter=&turn=&page= with one page of problems and the counts of every filter.
 * The filter and page live in the address (?filter=fixed&turn=2&page=1), so a reload or
 * a shared link shows the same problems.
 *
 * Model answers are untrusted: every text goes into the DOM with textContent, never HTML.
 *
 * boot.i18n keys: see environment/training/i18n.py (English fallbacks in EN below).
 */
(function () {
  "use strict";

  const bootNode = document.getElementById("boot");
  const boot = bootNode ? JSON.parse(bootNode.textContent) : {};
  const $ = (id) => document.getElementById(id);

  // The same English as environment/training/i18n.py: shown only if boot.i18n lacks a key.
  const EN = {
    connecting: "Connecting…", live: "Live", offline: "Offline, reconnecting…",
    gone: "This run no longer exists.",
    queued: "queued", running: "running", stopped: "stopped", failed: "failed", finished: "finished",
    progress: "%(done)s of %(total)s problems finished · %(turns)s turns played",
    waiting: "Waiting for the model server", waiting_why: "Waiting for the model server: %(why)s",
    no_metrics: "The metrics appear when every problem is finished.",
    all: "All", never: "Never right", fixed_at: "Fixed at turn %(turn)s", broke_at: "Broke at turn %(turn)s",
    no_items: "No problems match this filter.", loading: "Loading…",
    load_failed: "The problems could not be loaded: %(why)s", http_error: "the server answered with an error",
    page: "Page %(page)s of %(pages)s",
    gold: "Gold answer:", turn_n: "Turn %(n)s", answer: "Answer:", no_answer: "no answer",
    right: "right", wrong: "wrong", unreadable: "unreadable",
    fixed: "fixed", broke: "broke", "still wrong": "still wrong", same: "same answer",
    show_text: "What the model wrote", samples: "kept from %(n)s samples",
    solved: "solved", unsolved: "not solved", unplayed: "not played yet",
  };
  const I18N = boot.i18n || {};

  function t(key, params) {
    let text = Object.prototype.hasOwnProperty.call(I18N, key) ? String(I18N[key])
      : Object.prototype.hasOwnProperty.call(EN, key) ? EN[key] : key;
    if (params) text = text.replace(/%\((\w+)\)s/g, (m, name) => (name in params ? String(params[name]) : m));
    return text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // One decimal, except the ends (0%, 100%): keeps the per-turn table narrow enough for a phone.
  const pct = (v) => (typeof v !== "number" ? "–" : v === 0 || v === 1 ? 100 * v + "%" : (100 * v).toFixed(1) + "%");

  // --- run state ---------------------------------------------------------------------

  let status = boot.detail ? boot.detail.state.status : "";
  let metricsShown = false;

  function renderState(run) {
    if (!run) return;
    const before = status;
    status = run.status;
    document.body.dataset.status = run.status;
    const badge = $("run-status");
    badge.textContent = t(run.status);
    badge.className = "badge status-" + run.status;
    const bar = $("progress");
    bar.max = Math.max(1, run.total);
    bar.value = run.finished_items;
    $("progress-text").textContent = t("progress", {
      done: run.finished_items, total: run.total, turns: run.turns_played,
    });
    const waiting = $("waiting");
    waiting.hidden = !run.waiting_since;
    if (run.waiting_since) {
      waiting.textContent = run.waiting_reason ? t("waiting_why", { why: run.waiting_reason }) : t("waiting");
    }
    const error = $("run-error");
    error.hidden = !run.error;
    error.textContent = run.error || "";
    if (run.metrics && !metricsShown) {
      renderMetrics(run.metrics);
      if (before && before !== "finished") {
        // Finished while watching: the chart is drawn from the new metrics, the counts changed.
        $("chart").src = boot.urls.chart + "?v=" + Date.now();
        loadItems(false);
      }
    } else if (!run.metrics) {
      renderMetrics(null);
    }
  }

  function renderMetrics(m) {
    const table = $("metrics-table"), rows = $("metrics-rows"), head = $("headline");
    rows.replaceChildren();
    head.replaceChildren();
    metricsShown = !!m;
    table.hidden = !m;
    $("no-metrics").hidden = !!m;
    $("no-metrics").textContent = m ? "" : t("no_metrics");
    const parallel = $("parallel");
    parallel.hidden = true;
    if (!m) return;
    for (const [name, value] of Object.entries(m.headline || {})) {
      const box = el("div");
      box.append(el("dt", "", name), el("dd", "", pct(value)));
      head.append(box);
    }
    for (let i = 0; i < (m.turns || 0); i++) {
      const tr = el("tr");
      tr.append(el("th", "", i + 1));
      tr.firstChild.scope = "row";
      for (const key of ["accuracy", "m1", "p1"]) tr.append(el("td", "num", pct((m[key] || [])[i])));
      for (const key of ["fixed", "broke", "unreadable"]) {
        const v = (m[key] || [])[i];
        tr.append(el("td", "num", i === 0 && key !== "unreadable" ? "–" : v));
      }
      rows.append(tr);
    }
    if (typeof m.mn_t1 === "number" && typeof m.pn_t1 === "number") {
      const n = m.samples_at_t1;
      parallel.hidden = false;
      parallel.textContent = "m" + n + "@t1 " + pct(m.mn_t1) + " · p" + n + "@t1 " + pct(m.pn_t1);
    }
  }

  // --- problems ----------------------------------------------------------------------

  const query = new URLSearchParams(location.search);
  let view = {
    filter: query.get("filter") || "",
    turn: parseInt(query.get("turn") || "", 10) || null,
    page: Math.max(1, parseInt(query.get("page") || "1", 10) || 1),
  };
  let loading = 0; // serial of the newest request: older answers are ignored
  const open = new Set(); // "<problem>/<turn>" of the answers the reader opened: kept across refreshes

  function itemsUrl() {
    const params = new URLSearchParams();
    if (view.filter) params.set("filter", view.filter);
    if (view.turn && view.filter !== "never") params.set("turn", String(view.turn));
    params.set("page", String(view.page));
    return params;
  }

  function loadItems(note) {
    const serial = ++loading;
    const params = itemsUrl();
    const shown = new URLSearchParams(params);
    if (view.page === 1) shown.delete("page");
    history.replaceState(null, "", location.pathname + (shown.toString() ? "?" + shown : ""));
    if (note) $("items-note").textContent = t("loading");
    fetch(boot.urls.items + "?" + params, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((resp) => resp.json().then((data) => ({ ok: resp.ok, data })))
      .then(({ ok, data }) => {
        if (serial !== loading) return;
        if (!ok) throw new Error(data && data.error ? data.error : t("http_error"));
        renderItems(data);
      })
      .catch((err) => {
        if (serial !== loading) return;
        $("items-note").textContent = t("load_failed", { why: err.message });
      });
  }

  function filterButton(label, count, filter, turn) {
    const button = el("button", "chip");
    button.type = "button";
    button.dataset.filter = filter;
    if (turn) button.dataset.turn = String(turn);
    const pressed = view.filter === filter && (!turn || view.turn === turn);
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    button.append(el("span", "chip-label", label), el("span", "chip-count", count));
    if (!count && !pressed) button.classList.add("empty");
    button.addEventListener("click", () => {
      view = { filter, turn: turn || null, page: 1 };
      loadItems(true);
    });
    return button;
  }

  function renderFilters(data) {
    const box = $("filters");
    box.replaceChildren();
    const c = data.counts;
    box.append(filterButton(t("all"), c.all, "", null), filterButton(t("never"), c.never, "never", null));
    for (const kind of ["fixed", "broke"]) {
      const group = el("span", "chip-group");
      for (let k = 2; k <= data.max_turns; k++) {
        group.append(filterButton(t(kind + "_at", { turn: k }), c[kind][String(k)] || 0, kind, k));
      }
      if (group.childNodes.length) box.append(group);
    }
  }

  function turnCell(item, turn) {
    const reward = turn.reward === 1 ? "right" : turn.reward === 0 ? "wrong" : "unreadable";
    const cell = el("div", "turn reward-" + reward);
    cell.dataset.turn = String(turn.turn);
    if (turn.change) cell.dataset.change = turn.change;
    const top = el("div", "turn-top");
    top.append(el("span", "turn-no", t("turn_n", { n: turn.turn })), el("span", "tag reward " + reward, t(reward)));
    cell.append(top);
    const answer = el("p", "turn-answer");
    answer.append(el("span", "label", t("answer") + " "));
    answer.append(el("strong", turn.answer === null ? "none" : "", turn.answer === null ? t("no_answer") : turn.answer));
    cell.append(answer);
    // Every turn has this line (empty at turn 1) so the cells of a row line up.
    const change = el("p", "turn-change");
    if (turn.change) change.append(el("span", "tag change " + turn.change.replace(" ", "-"), t(turn.change)));
    else if (turn.turn > 1 && !turn.changed) change.append(el("span", "muted", t("same")));
    cell.append(change);
    const meta = el("p", "turn-model muted small", turn.model);
    if (turn.samples > 1) meta.textContent += " · " + t("samples", { n: turn.samples });
    cell.append(meta);
    const details = el("details", "turn-text");
    const key = item.id + "/" + turn.turn;
    details.open = open.has(key);
    details.addEventListener("toggle", () => (details.open ? open.add(key) : open.delete(key)));
    details.append(el("summary", "", t("show_text")), el("pre", "", turn.text));
    cell.append(details);
    return cell;
  }

  function renderItems(data) {
    renderFilters(data);
    const list = $("items");
    list.replaceChildren();
    $("items-note").textContent = data.items.length ? "" : t("no_items");
    for (const item of data.items) {
      const li = el("li", "item" + (item.solved ? " solved" : ""));
      li.dataset.id = item.id;
      const head = el("div", "item-head");
      head.append(el("span", "item-no", "#" + item.position), el("span", "item-id muted small", item.id));
      const state = !item.turns.length ? "unplayed" : item.solved ? "solved" : "unsolved";
      head.append(el("span", "tag outcome " + state, t(state)));
      const gold = el("span", "item-gold small");
      gold.append(el("span", "muted", t("gold") + " "), el("strong", "", item.gold));
      head.append(gold);
      li.append(head);
      const question = el("details", "item-question");
      question.append(el("summary", "", item.question.length > 160 ? item.question.slice(0, 157) + "…" : item.question));
      if (item.question.length > 160) question.append(el("p", "", item.question));
      else question.classList.add("short");
      li.append(question);
      const turns = el("div", "turns");
      turns.style.setProperty("--turns", String(Math.max(1, data.max_turns)));
      for (const turn of item.turns) turns.append(turnCell(item, turn));
      li.append(turns);
      list.append(li);
    }
    list.start = data.offset + 1;
    const pager = $("pager");
    pager.hidden = data.pages <= 1;
    $("page-label").textContent = t("page", { page: data.page, pages: data.pages });
    $("prev").disabled = data.page <= 1;
    $("next").disabled = data.page >= data.pages;
    view.page = data.page;
    if (data.page > data.pages && data.matching) { view.page = data.pages; loadItems(false); }
  }

  $("prev").addEventListener("click", () => { view.page = Math.max(1, view.page - 1); loadItems(true); });
  $("next").addEventListener("click", () => { view.page += 1; loadItems(true); });

  // While the run plays, the page shown follows it: at most one refresh every 2 s.
  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; loadItems(false); }, 2000);
  }

  // --- the websocket -----------------------------------------------------------------

  function onMessage(msg) {
    if (msg.type === "state" || msg.type === "progress") {
      renderState(msg.run);
      if (msg.type === "progress") refreshSoon();
    }
  }

  function onState(kind) {
    const badge = $("conn-state");
    const labels = { connecting: t("connecting"), connected: t("live"), offline: t("offline"), gone: t("gone") };
    badge.textContent = labels[kind] || kind;
    badge.className = "badge " + (kind === "connected" ? "live" : "offline");
    document.body.dataset.conn = kind;
  }

  if (boot.detail) renderState(boot.detail.state);
  loadItems(true);
  window.openLiveSocket(boot.urls.ws, { onMessage, onState });
})();
