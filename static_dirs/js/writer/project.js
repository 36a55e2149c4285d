/*
 * project.js: the co-writing page (/writer/<pk>/), RecurrentGPT with a person choosing.
 *
 * Opens boot.urls.ws (/ws/writer/<pk>/) and draws every "view" message: the story at
 * the project's head (paragraphs with their long-term memory summaries), the plans
 * for the next paragraph, the short-term memory, what the last step retrieved, added
 * and dropped, the lorebook, the history tree and the cost. "piece" messages stream
 * the paragraph being written; "job" messages say when a step is queued, runs and
 * ends; "ok" / "error" answer this page's commands; "compare" shows two versions side
 * by side. The protocol is in docs/frontend_api.md ("Writer (RecurrentGPT)").
 *
 * Everything a model or a person wrote is set with textContent (el() below): never
 * parsed as HTML. No inline handlers or style attributes (the CSP forbids them).
 * What the user types survives a re-render (drafts, keyed by what is edited) and a
 * refused command (an "error" keeps the editor open with its text).
 *
 * The connection reconnects with backoff and pings every 25 s; after a reconnect the
 * server sends a fresh view. A close with 4404 (not this user's project) is final.
 *
 * Test hooks: body[data-connected="1"] while the socket is open, body[data-head] the
 * node shown, body[data-busy="1"] while one of the writer's steps is queued or running,
 * body[data-views] how many views arrived.
 *
 * boot.i18n keys: see environment/writer/i18n.py (English fallbacks in EN below).
 */
(function () {
  "use strict";

  const EN = {
    connecting: "Connecting…", connected: "Live", offline: "Offline: reconnecting…",
    gone: "This project is not yours or no longer exists.",
    not_connected: "Not connected: your change was not sent. Try again in a moment.",
    ready: "Ready", queued: "Queued…", writing: "Writing…", stopping: "Stopping…",
    waiting: "Waiting for the model server", run_error: "The writer stopped: %(error)s",
    failed: "The last step failed: %(error)s", dismiss: "Dismiss",
    this_step: "This step", project_total: "Project", tokens_one: "%(n)s token", tokens_n: "%(n)s tokens",
    calls_one: "%(n)s call", calls_n: "%(n)s calls", seconds_n: "%(n)s s", steps_one: "%(n)s step",
    steps_n: "%(n)s steps", first_words: "first words after %(n)s s",
    untitled: "Untitled", opening: "The opening is being written…", not_started: "The story has not started yet.",
    paragraph_n: "Paragraph %(n)s", edit: "Edit", edit_paragraph: "Edit paragraph %(n)s", save: "Save",
    cancel: "Cancel", saving: "Saving…", unsaved: "Not saved yet", entry: "Long-term memory",
    edit_summary: "Edit summary", no_summary: "(no summary)",
    write_this: "Write this", plan_n: "Plan %(n)s", no_plans: "No plans yet.",
    busy_note: "A step is being written: wait for it, or stop it.",
    none: "None.", added: "Added", dropped: "Dropped", score: "score %(score)s", paragraph_short: "¶%(n)s",
    lore_fired: "used in the last step",
    no_lore: "No entries yet. An entry enters the prompt when one of its keywords appears in the recent text or the plan.",
    lore_new: "New lorebook entry", lore_edit: "Edit lorebook entry", lore_name: "Name", lore_kind: "Kind",
    lore_text: "Text", lore_keywords: "Keywords (comma-separated)", lore_aliases: "Aliases (comma-separated)",
    keywords: "Keywords", aliases: "Aliases", delete: "Delete",
    lore_delete_confirm: "Delete the lorebook entry %(name)s?",
    kind_character: "Character", kind_place: "Place", kind_fact: "Fact",
    choice: "The simulator chose plan %(n)s: %(reason)s",
    choice_fallback: "(the model's answer was unusable: this is the fallback choice)",
    fallbacks: "These parts of the last step used a fallback (the model's answer was unusable): %(list)s",
    node_init: "Opening", node_step: "Step", node_edit: "Edit", current: "shown", go_to: "Show this version",
    compare_pick: "Pick this version to compare", compare_hint: "Tick two versions, then compare them.",
    version: "Version %(id)s", paragraphs_one: "%(n)s paragraph", paragraphs_n: "%(n)s paragraphs",
    parts_at: "The two versions part at paragraph %(n)s.", same: "The two versions tell the same story.",
  };
  const ACTIVE = ["queued", "running", "cancelling"];
  const LORE_KINDS = ["character", "place", "fact"];
  const PING_MS = 25000;

  const bootNode = document.getElementById("boot");
  const boot = bootNode ? JSON.parse(bootNode.textContent) : {};
  const I18N = boot.i18n || {};
  const lang = document.documentElement.lang || undefined;

  // ------------------------------------------------------------------ helpers
  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(I18N, key) ? String(I18N[key])
      : Object.prototype.hasOwnProperty.call(EN, key) ? EN[key] : key;
    if (vars) s = s.replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  }

  /** "<key>_one" when n is 1, else "<key>_n", with n formatted. */
  function tn(key, n) {
    return t(n === 1 ? key + "_one" : key + "_n", { n: num(n) });
  }

  /** createElement helper: strings become text nodes, never HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k === "dataset") Object.assign(node.dataset, v);
        else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
        else if (k === "hidden" || k === "disabled" || k === "checked" || k === "value") node[k] = k === "value" ? String(v) : Boolean(v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);
  const num = (n) => (typeof n === "number" ? n.toLocaleString(lang) : "–");
  const secs = (n) => (typeof n === "number" ? n.toLocaleString(lang, { maximumFractionDigits: 1 }) : "–");
  const isActive = (j) => !!j && ACTIVE.includes(j.state);

  // ------------------------------------------------------------------ state
  let view = null; // the last "view" message
  let job = null; // the writer's queued or running job, or null
  let liveJob = null; // the job whose streamed text liveText holds
  let liveText = "";
  let stopping = false;
  const ended = new Set(); // jobs known to be over: a late piece must not revive one
  const drafts = new Map(); // what is being edited -> its draft (string, or an object for lore)
  let memoryDirty = false;
  const pending = []; // commands sent and not answered yet: {command, key}
  const awaiting = new Map(); // edits accepted, waiting for the view that shows them -> timer
  let compareSel = [];
  let publishWanted = null; // the box's state until a view confirms it
  const dismissed = new Set();
  const signatures = new Map(); // region -> what it was last drawn from
  let views = 0;

  const ui = {
    title: $("story-title"), name: $("project-name"), type: $("project-type"), conn: $("conn-state"),
    run: $("run-state"), cost: $("cost"), alerts: $("alerts"), outlineBox: $("outline-box"), outline: $("outline"),
    story: $("story"), live: $("live"), livePlan: $("live-plan"), liveText: $("live-text"), stop: $("stop"),
    busyNote: $("busy-note"), choice: $("choice"), plans: $("plans"), ownPlan: $("own-plan"), writeOwn: $("write-own"),
    auto: $("auto"), regenerate: $("regenerate"), memory: $("memory"), saveMemory: $("save-memory"),
    memoryState: $("memory-state"), retrieved: $("retrieved"), changes: $("memory-changes"), fallbacks: $("fallbacks"),
    lore: $("lore"), loreSlot: $("lore-form-slot"), loreAdd: $("lore-add"), tree: $("tree"), compare: $("compare"),
    compareHint: $("compare-hint"), compareView: $("compare-view"), compareNote: $("compare-note"),
    compareColumns: $("compare-columns"), compareClose: $("compare-close"), exports: $("exports"),
    published: $("published"), readRow: $("read-link-row"), readLink: $("read-link"),
  };

  // ------------------------------------------------------------------ alerts
  function showAlert(text, key) {
    if (key && (dismissed.has(key) || ui.alerts.querySelector(`[data-key="${CSS.escape(key)}"]`))) return;
    const box = el("div", { class: "alert", dataset: key ? { key } : null },
      el("p", { text: String(text) }),
      el("button", { type: "button", class: "alert-close", "aria-label": t("dismiss"), title: t("dismiss"),
        onclick: () => { if (key) dismissed.add(key); box.remove(); } }, "×"));
    ui.alerts.appendChild(box);
    while (ui.alerts.children.length > 5) ui.alerts.firstElementChild.remove();
  }

  function clearAlert(key) {
    const box = ui.alerts.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (box) box.remove();
  }

  // ------------------------------------------------------------------ drawing helpers
  /** Redraw `region` with `draw()` only when `signature` changed; keeps the focused field. */
  function redraw(region, signature, draw) {
    if (signatures.get(region) === signature) return;
    signatures.set(region, signature);
    const active = document.activeElement;
    const key = active && active.dataset ? active.dataset.key : null;
    let start = null, end = null;
    if (key && "selectionStart" in active) {
      try { start = active.selectionStart; end = active.selectionEnd; } catch (e) { start = null; }
    }
    draw();
    if (key && document.activeElement !== active) {
      const again = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) {
        again.focus();
        if (start !== null && "setSelectionRange" in again) {
          try { again.setSelectionRange(start, end); } catch (e) { /* not a text field */ }
        }
      }
    }
  }

  function editorSig() {
    return JSON.stringify([...drafts.keys()].sort()) + JSON.stringify(pending.map((p) => p.key));
  }

  function saving(key) {
    return pending.some((p) => p.key === key) || awaiting.has(key);
  }

  /** An edit the server accepted: its editor closes with the view that shows it (or
   * after 1.5 s: an edit that changed nothing is followed by no view). */
  function awaitView(key) {
    awaiting.set(key, setTimeout(() => { finish(key); if (view) renderAll(true); }, 1500));
  }

  function finish(key) {
    clearTimeout(awaiting.get(key));
    awaiting.delete(key);
    if (key === "memory") memoryDirty = false;
    else drafts.delete(key);
  }

  function textEditor(key, initial, rows, label, onSave) {
    if (!drafts.has(key)) drafts.set(key, initial);
    const area = el("textarea", { rows, dataset: { key }, "aria-label": label, value: drafts.get(key) });
    const busy = saving(key);
    return el("div", { class: "editor" },
      area,
      el("div", { class: "row" },
        el("button", { type: "button", class: "button primary", disabled: busy,
          onclick: () => onSave(area.value) }, busy ? t("saving") : t("save")),
        el("button", { type: "button", class: "button",
          onclick: () => { drafts.delete(key); renderAll(true); } }, t("cancel"))));
  }

  // ------------------------------------------------------------------ the view
  function renderAll(force) {
    if (!view) return;
    if (force) signatures.clear();
    renderHeader();
    renderStory();
    renderLive();
    renderPlans();
    renderSide();
    renderTree();
    renderExports();
    renderRun();
  }

  function renderHeader() {
    const story = view.story || {};
    const project = view.project || {};
    ui.title.textContent = story.title || project.name || t("untitled");
    ui.name.textContent = project.name || "";
    ui.type.textContent = project.novel_type || "";
    ui.type.title = project.topic || "";
    const node = view.node, totals = view.totals || {};
    const parts = [];
    if (node && node.cost) {
      const c = node.cost, d = node.details || {};
      const line = [tn("tokens", c.tokens), tn("calls", c.calls), t("seconds_n", { n: secs(c.seconds) })];
      if (typeof d.first_piece_seconds === "number") {
        line.push(t("first_words", { n: d.first_piece_seconds.toLocaleString(lang, { maximumFractionDigits: 2 }) }));
      }
      parts.push(el("div", { class: "cost-row", id: "cost-step" }, el("dt", { text: t("this_step") }), el("dd", { text: line.join(" · ") })));
    }
    parts.push(el("div", { class: "cost-row", id: "cost-total" }, el("dt", { text: t("project_total") }),
      el("dd", { text: [tn("tokens", totals.tokens), tn("calls", totals.calls),
        t("seconds_n", { n: secs(totals.seconds) }), tn("steps", totals.steps)].join(" · ") })));
    ui.cost.replaceChildren(...parts);
    const outline = story.outline || "";
    ui.outlineBox.hidden = !outline;
    ui.outline.textContent = outline;
  }

  function renderStory() {
    const paragraphs = (view.story && view.story.paragraphs) || [];
    redraw("story", JSON.stringify([view.head, paragraphs, editorSig(), isActive(job)]), () => {
      if (!paragraphs.length) {
        ui.story.replaceChildren(el("p", { class: "muted", id: "story-empty",
          text: isActive(job) || !view.head ? t("opening") : t("not_started") }));
        return;
      }
      ui.story.replaceChildren(...paragraphs.map(paragraphView));
    });
  }

  function paragraphView(p) {
    const key = `para:${p.n}`;
    const head = el("div", { class: "para-head" },
      el("span", { class: "para-num", text: t("paragraph_n", { n: p.n + 1 }) }),
      drafts.has(key) ? null : el("button", { type: "button", class: "linklike", "data-act": "edit-para",
        "aria-label": t("edit_paragraph", { n: p.n + 1 }), onclick: () => { drafts.set(key, p.text); renderAll(true); focusKey(key); } },
      t("edit")));
    const body = drafts.has(key)
      ? textEditor(key, p.text, 8, t("edit_paragraph", { n: p.n + 1 }),
        (text) => send({ type: "edit_paragraph", n: p.n, text }, key))
      : el("p", { class: "para-text", text: p.text });
    let entry = null;
    if (p.entry) {
      const ekey = `entry:${p.entry.id}`;
      entry = el("div", { class: "para-entry" },
        el("span", { class: "entry-label", text: t("entry") + ": " }),
        drafts.has(ekey)
          ? textEditor(ekey, p.entry.summary || "", 3, t("edit_summary"),
            (summary) => send({ type: "edit_entry", id: p.entry.id, summary }, ekey))
          : [el("span", { class: "entry-summary", text: p.entry.summary || t("no_summary") }), " ",
            el("button", { type: "button", class: "linklike small", "data-act": "edit-entry",
              onclick: () => { drafts.set(ekey, p.entry.summary || ""); renderAll(true); focusKey(ekey); } }, t("edit_summary"))]);
    }
    return el("article", { class: "para", id: `p-${p.n}`, dataset: { n: String(p.n) } }, head, body, entry);
  }

  function focusKey(key) {
    const field = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (field) field.focus();
  }

  function renderLive() {
    const active = isActive(job);
    ui.live.hidden = !active;
    document.body.dataset.busy = active ? "1" : "0";
    if (!active) { ui.liveText.textContent = ""; return; }
    ui.livePlan.textContent = job.plan || "";
    ui.livePlan.hidden = !job.plan;
    ui.liveText.textContent = liveText;
    ui.liveText.classList.toggle("waiting", !liveText);
    ui.stop.disabled = stopping || job.state === "cancelling";
  }

  function renderPlans() {
    const plans = view.plans || [];
    const busy = isActive(job);
    const head = view.head;
    redraw("plans", JSON.stringify([head, plans, busy, editorSig()]), () => {
      if (!plans.length) {
        ui.plans.replaceChildren(el("li", { class: "muted", text: t("no_plans") }));
      } else {
        ui.plans.replaceChildren(...plans.map((plan, i) => {
          const key = `plan:${head}:${i}`;
          const editing = drafts.has(key);
          const area = editing ? el("textarea", { rows: 3, dataset: { key }, "aria-label": t("plan_n", { n: i + 1 }),
            value: drafts.get(key) }) : null;
          return el("li", { class: "plan-card", dataset: { i: String(i) } },
            editing ? area : el("p", { class: "plan-text", text: plan }),
            el("div", { class: "row" },
              el("button", { type: "button", class: "button primary", "data-act": "write-plan", disabled: busy || saving(key),
                onclick: () => send({ type: "write", plan: area ? area.value : plan }, key) }, t("write_this")),
              editing
                ? el("button", { type: "button", class: "button", onclick: () => { drafts.delete(key); renderAll(true); } }, t("cancel"))
                : el("button", { type: "button", class: "button", "data-act": "edit-plan",
                  onclick: () => { drafts.set(key, plan); renderAll(true); focusKey(key); } }, t("edit"))));
        }));
      }
    });
    ui.busyNote.hidden = !busy;
    ui.busyNote.textContent = busy ? t("busy_note") : "";
    ui.writeOwn.disabled = busy || !head || saving("own");
    ui.auto.disabled = busy || !head;
    const headKind = view.node ? view.node.kind : null;
    ui.regenerate.disabled = busy || !head || headKind === "init" || (view.node && view.node.parent === null);
  }

  function renderSide() {
    // short-term memory: the user's unsaved text wins over the server's
    if (!memoryDirty && ui.memory.value !== (view.memory || "")) ui.memory.value = view.memory || "";
    ui.memoryState.textContent = saving("memory") ? t("saving") : memoryDirty ? t("unsaved") : "";
    ui.saveMemory.disabled = !view.head || saving("memory");

    const d = (view.node && view.node.details) || {};
    const retrieved = Array.isArray(d.retrieved) ? d.retrieved : [];
    ui.retrieved.replaceChildren(...(retrieved.length ? retrieved.map((r) => el("li", null,
      el("span", { class: "tag", text: t("paragraph_short", { n: (r.paragraph ?? 0) + 1 }) }), " ",
      el("span", { class: "muted small", text: t("score", { score: typeof r.score === "number" ? r.score.toFixed(2) : "–" }) }), " ",
      el("span", { text: r.summary || t("no_summary") })))
      : [el("li", { class: "muted", text: t("none") })]));

    const added = Array.isArray(d.memory_added) ? d.memory_added : [];
    const dropped = Array.isArray(d.memory_dropped) ? d.memory_dropped : [];
    const blocks = [];
    if (added.length) blocks.push(el("h4", { text: t("added") }), el("ul", { class: "plain added" }, added.map((a) => el("li", { text: "+ " + a }))));
    if (dropped.length) blocks.push(el("h4", { text: t("dropped") }), el("ul", { class: "plain dropped" }, dropped.map((a) => el("li", { text: "− " + a }))));
    if (!blocks.length) blocks.push(el("p", { class: "muted", text: t("none") }));
    ui.changes.replaceChildren(...blocks);

    const choice = d.choice;
    ui.choice.hidden = !choice;
    ui.choice.textContent = choice
      ? t("choice", { n: (choice.index ?? 0) + 1, reason: choice.reason || "" }) + (choice.fallback ? " " + t("choice_fallback") : "")
      : "";
    const fallbacks = Array.isArray(d.fallbacks) ? d.fallbacks : [];
    ui.fallbacks.hidden = !fallbacks.length;
    ui.fallbacks.textContent = fallbacks.length ? t("fallbacks", { list: fallbacks.join(", ") }) : "";

    renderLore();
  }

  function renderLore() {
    const lore = view.lore || [];
    redraw("lore", JSON.stringify([lore, editorSig()]), () => {
      ui.lore.replaceChildren(...(lore.length ? lore.map((e) => {
        const key = `lore:${e.id}`;
        if (drafts.has(key)) return el("li", { class: "lore-entry editing" }, loreForm(key, e));
        const words = [];
        if ((e.keywords || []).length) words.push(`${t("keywords")}: ${e.keywords.join(", ")}`);
        if ((e.aliases || []).length) words.push(`${t("aliases")}: ${e.aliases.join(", ")}`);
        return el("li", { class: "lore-entry" + (e.fired ? " fired" : ""), dataset: { id: e.id } },
          el("div", { class: "lore-head" },
            el("strong", { class: "lore-name", text: e.name }), " ",
            el("span", { class: "tag", text: t("kind_" + e.kind) }), " ",
            e.fired ? el("span", { class: "tag fired", text: "★ " + t("lore_fired") }) : null),
          el("p", { class: "lore-text", text: e.text }),
          words.length ? el("p", { class: "muted small", text: words.join(" · ") }) : null,
          el("div", { class: "row" },
            el("button", { type: "button", class: "linklike", "data-act": "lore-edit",
              onclick: () => { drafts.set(key, loreDraft(e)); renderAll(true); focusKey(key + ":name"); } }, t("edit")),
            el("button", { type: "button", class: "linklike danger", "data-act": "lore-delete",
              onclick: () => { if (window.confirm(t("lore_delete_confirm", { name: e.name }))) send({ type: "delete_lore", id: e.id }, null); } },
            t("delete"))));
      }) : [el("li", { class: "muted small", text: t("no_lore") })]));
      ui.loreSlot.replaceChildren(drafts.has("lore:new") ? loreForm("lore:new", null) : "");
      ui.loreAdd.hidden = drafts.has("lore:new");
    });
  }

  function loreDraft(e) {
    return { name: e ? e.name : "", kind: e ? e.kind : "character", text: e ? e.text : "",
      keywords: e ? (e.keywords || []).join(", ") : "", aliases: e ? (e.aliases || []).join(", ") : "" };
  }

  function loreForm(key, entry) {
    if (!drafts.has(key)) drafts.set(key, loreDraft(entry));
    const draft = drafts.get(key);
    const field = (name, label, control) => el("label", { class: "lore-field" }, el("span", { text: label }), control);
    const bind = (node, name) => { node.addEventListener("input", () => { draft[name] = node.value; }); return node; };
    const busy = saving(key);
    return el("form", { class: "lore-form", dataset: { key: key + ":form" }, onsubmit: (ev) => {
      ev.preventDefault();
      const out = { name: draft.name, kind: draft.kind, text: draft.text, keywords: draft.keywords, aliases: draft.aliases };
      if (entry) out.id = entry.id;
      send({ type: "save_lore", entry: out }, key);
    } },
    el("h3", { text: entry ? t("lore_edit") : t("lore_new") }),
    field("name", t("lore_name"), bind(el("input", { dataset: { key: key + ":name" }, maxlength: 200, required: true, value: draft.name }), "name")),
    field("kind", t("lore_kind"), bind(el("select", { dataset: { key: key + ":kind" } },
      LORE_KINDS.map((k) => el("option", { value: k, selected: k === draft.kind ? true : null }, t("kind_" + k)))), "kind")),
    field("text", t("lore_text"), bind(el("textarea", { rows: 3, dataset: { key: key + ":text" }, maxlength: 5000, required: true, value: draft.text }), "text")),
    field("keywords", t("lore_keywords"), bind(el("input", { dataset: { key: key + ":keywords" }, value: draft.keywords }), "keywords")),
    field("aliases", t("lore_aliases"), bind(el("input", { dataset: { key: key + ":aliases" }, value: draft.aliases }), "aliases")),
    el("div", { class: "row" },
      el("button", { type: "submit", class: "button primary", disabled: busy }, busy ? t("saving") : t("save")),
      el("button", { type: "button", class: "button", onclick: () => { drafts.delete(key); renderAll(true); } }, t("cancel"))));
  }

  function renderTree() {
    const nodes = view.tree || [];
    const ids = new Set(nodes.map((n) => n.id));
    compareSel = compareSel.filter((id) => ids.has(id));
    redraw("tree", JSON.stringify([view.head, nodes.map((n) => [n.id, n.parent, n.kind, n.label, n.paragraphs]), compareSel]), () => {
      const children = new Map();
      const roots = [];
      for (const n of nodes) {
        if (n.parent !== null && ids.has(n.parent)) {
          if (!children.has(n.parent)) children.set(n.parent, []);
          children.get(n.parent).push(n);
        } else roots.push(n);
      }
      // Depth-first, without recursion (a long story is a deep chain). A chain stays at
      // one indent; the children of a node with several are indented one more.
      const rows = [];
      // A node that starts a branch (one of several children) is marked "↳".
      const stack = roots.slice().reverse().map((n) => [n, roots.length > 1 ? 1 : 0, roots.length > 1]);
      while (stack.length) {
        const [n, depth, fork] = stack.pop();
        rows.push([n, depth, fork]);
        const kids = (children.get(n.id) || []).slice().sort((a, b) => a.id - b.id);
        const many = kids.length > 1;
        for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], many ? depth + 1 : depth, many]);
      }
      ui.tree.replaceChildren(...rows.map(([n, depth, fork]) => {
        const current = n.id === view.head;
        const label = [t("node_" + n.kind), t("paragraph_short", { n: n.paragraphs }), n.label].filter(Boolean).join(" · ");
        const li = el("li", { class: "tree-node kind-" + n.kind + (current ? " current" : "") + (fork ? " fork" : ""),
          dataset: { node: String(n.id), depth: String(depth) },
          "aria-current": current ? "true" : null },
        el("input", { type: "checkbox", class: "pick", "aria-label": t("compare_pick") + ": " + label,
          checked: compareSel.includes(n.id), onchange: (ev) => pick(n.id, ev.target.checked) }),
        el("button", { type: "button", class: "node-go", title: n.label || label, "aria-label": t("go_to") + ": " + label,
          onclick: () => send({ type: "goto", node: n.id }, null) },
        fork ? el("span", { class: "node-fork", "aria-hidden": "true", text: "↳" }) : null,
        el("span", { class: "node-kind", text: t("node_" + n.kind) }),
        el("span", { class: "node-count", text: t("paragraph_short", { n: n.paragraphs }) }),
        el("span", { class: "node-label", text: n.label || "" }),
        current ? el("span", { class: "node-current", text: t("current") }) : null));
        li.style.paddingLeft = Math.min(depth, 12) * 0.9 + "rem";
        return li;
      }));
      ui.compare.disabled = compareSel.length !== 2;
      ui.compareHint.textContent = t("compare_hint");
    });
  }

  function pick(id, on) {
    compareSel = compareSel.filter((x) => x !== id);
    if (on) compareSel.push(id);
    while (compareSel.length > 2) compareSel.shift();
    signatures.delete("tree");
    renderTree();
  }

  function renderExports() {
    for (const link of ui.exports.querySelectorAll("a[data-fmt]")) {
      const fmt = link.dataset.fmt;
      let href = String(boot.urls.export || "").replace("__FMT__", fmt);
      if (fmt !== "json" && view.head) href += "?node=" + encodeURIComponent(view.head);
      link.href = href;
    }
    const published = !!(view.project && view.project.published);
    if (publishWanted === published) publishWanted = null; // the server has it now
    ui.published.checked = publishWanted === null ? published : publishWanted;
    ui.readRow.hidden = !published;
  }

  // ------------------------------------------------------------------ run badge
  let waitTimer = null;

  function renderRun() {
    const run = (view && view.run) || {};
    const since = run.waiting_since ? Date.parse(run.waiting_since) : NaN;
    const waiting = !Number.isNaN(since) && run.state === "playing";
    clearInterval(waitTimer);
    waitTimer = null;
    let kind, text;
    if (waiting) {
      const s = Math.max(0, Math.round((Date.now() - since) / 1000));
      kind = "waiting";
      text = `${t("waiting")} · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      waitTimer = setInterval(renderRun, 1000);
    } else if (isActive(job)) {
      kind = job.state === "queued" ? "paused" : "playing";
      text = job.state === "queued" ? t("queued") : job.state === "cancelling" || stopping ? t("stopping") : t("writing");
    } else {
      kind = "idle";
      text = t("ready");
    }
    ui.run.hidden = false;
    ui.run.className = "badge " + kind;
    ui.run.textContent = text;
    ui.run.title = waiting ? run.waiting_reason || "" : "";
    if (run.error) showAlert(t("run_error", { error: run.error }), "run:" + run.error);
  }

  // ------------------------------------------------------------------ messages
  function onView(msg) {
    view = msg;
    for (const key of [...awaiting.keys()]) finish(key);
    views += 1;
    document.body.dataset.views = String(views);
    document.body.dataset.head = msg.head === null || msg.head === undefined ? "" : String(msg.head);
    const j = msg.job;
    if (isActive(j)) {
      if (liveJob !== j.id) { liveJob = j.id; liveText = j.text || ""; }
      else if ((j.text || "").length > liveText.length) liveText = j.text;
      job = j;
    } else {
      job = null; liveJob = null; liveText = ""; stopping = false;
    }
    if (msg.failed && msg.failed.error) showAlert(t("failed", { error: msg.failed.error }), "failed:" + msg.failed.id);
    renderAll(false);
  }

  function onJob(j) {
    if (!j || j.reader) return;
    if (isActive(j)) {
      if (j.state === "running" && liveJob !== j.id) { liveJob = j.id; liveText = ""; }
      job = j;
    } else {
      ended.add(j.id);
      if (job && job.id !== j.id) { if (view) renderRun(); return; }
      job = null; liveJob = null; liveText = ""; stopping = false;
      if (j.state === "failed" && j.error) showAlert(t("failed", { error: j.error }), "failed:" + j.id);
    }
    if (view) { renderLive(); renderPlans(); renderStory(); renderRun(); }
  }

  function onPiece(msg) {
    if (ended.has(msg.job)) return;
    if (liveJob !== msg.job) { liveJob = msg.job; liveText = ""; }
    if (msg.reset) liveText = "";
    liveText += msg.text || "";
    if (!job || job.id !== msg.job) job = { id: msg.job, state: "running", plan: job && job.id === msg.job ? job.plan : "" };
    if (view) { renderLive(); renderRun(); }
  }

  function settle(msg, ok) {
    const i = pending.findIndex((p) => p.command === msg.command);
    if (i < 0) return null;
    const [p] = pending.splice(i, 1);
    if (ok && p.key) {
      if (p.key === "own") ui.ownPlan.value = "";
      else if (p.key.startsWith("plan:")) drafts.delete(p.key);
      else awaitView(p.key);
    }
    return p;
  }

  function onOk(msg) {
    settle(msg, true);
    if (msg.command === "stop") stopping = true;
    if (msg.command === "write" || msg.command === "auto" || msg.command === "regenerate") {
      // The job message says so too; until then show the step as queued.
      if (!isActive(job) && msg.job) job = { id: msg.job, state: "queued", plan: "" };
    }
    if (view) renderAll(true);
  }

  function onError(msg) {
    const p = msg.command ? settle(msg, false) : null;
    if (msg.command === "publish") publishWanted = null;
    showAlert(msg.error || "error", null);
    if (p || msg.command) renderAll(true);
  }

  function onCompare(msg) {
    const a = msg.a || {}, b = msg.b || {};
    const common = typeof msg.common === "number" ? msg.common : 0;
    const column = (side) => el("div", { class: "compare-col" },
      el("h3", { text: [t("version", { id: side.id }), t("node_" + side.kind), side.label].filter(Boolean).join(" · ") }),
      el("p", { class: "muted small", text: [side.title, tn("paragraphs", (side.paragraphs || []).length)].filter(Boolean).join(" · ") }),
      el("ol", { class: "compare-paras" }, (side.paragraphs || []).map((p, i) =>
        el("li", { class: i < common ? "same" : "differs", text: p.text }))));
    const la = (a.paragraphs || []).length, lb = (b.paragraphs || []).length;
    ui.compareNote.textContent = common === la && common === lb ? t("same") : t("parts_at", { n: common + 1 });
    ui.compareColumns.replaceChildren(column(a), column(b));
    ui.compareView.hidden = false;
    ui.compareView.scrollIntoView({ block: "start" });
  }

  // ------------------------------------------------------------------ commands
  function send(msg, key) {
    if (!live.send(msg)) {
      showAlert(t("not_connected"), null);
      return false;
    }
    if (msg.type !== "ping" && msg.type !== "view") {
      pending.push({ command: msg.type, key: key || null });
      if (key && view) renderAll(true);
    }
    return true;
  }

  ui.stop.addEventListener("click", () => { if (send({ type: "stop" }, null)) { stopping = true; renderLive(); renderRun(); } });
  ui.writeOwn.addEventListener("click", () => {
    const plan = ui.ownPlan.value.trim();
    if (!plan) { ui.ownPlan.focus(); return; }
    send({ type: "write", plan }, "own");
  });
  ui.auto.addEventListener("click", () => send({ type: "auto" }, null));
  ui.regenerate.addEventListener("click", () => send({ type: "regenerate" }, null));
  ui.memory.addEventListener("input", () => { memoryDirty = true; ui.memoryState.textContent = t("unsaved"); });
  ui.saveMemory.addEventListener("click", () => send({ type: "edit_memory", memory: ui.memory.value }, "memory"));
  ui.loreAdd.addEventListener("click", () => { drafts.set("lore:new", loreDraft(null)); renderAll(true); focusKey("lore:new:name"); });
  ui.compare.addEventListener("click", () => {
    if (compareSel.length !== 2) return;
    const [a, b] = compareSel.slice().sort((x, y) => x - y);
    send({ type: "compare", a, b }, null);
  });
  ui.compareClose.addEventListener("click", () => { ui.compareView.hidden = true; ui.compareColumns.replaceChildren(); });
  ui.published.addEventListener("change", () => {
    const wanted = ui.published.checked;
    if (send({ type: "publish", published: wanted }, null)) publishWanted = wanted;
    else ui.published.checked = !wanted;
  });
  // Drafts follow typing (a redraw puts them back).
  document.addEventListener("input", (ev) => {
    const key = ev.target && ev.target.dataset ? ev.target.dataset.key : null;
    if (key && drafts.has(key) && typeof drafts.get(key) === "string") drafts.set(key, ev.target.value);
  });

  // ------------------------------------------------------------------ websocket
  function setConn(kind) {
    ui.conn.className = "badge " + (kind === "connected" ? "playing" : kind === "connecting" ? "paused" : "offline");
    ui.conn.textContent = t(kind);
    document.body.dataset.connected = kind === "connected" ? "1" : "0";
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "view": onView(msg); break;
      case "piece": onPiece(msg); break;
      case "job": onJob(msg.job); break;
      case "ok": onOk(msg); break;
      case "error": onError(msg); break;
      case "compare": settle({ command: "compare" }, true); onCompare(msg); break;
      default: break; // pong
    }
  }

  function onState(kind) {
    if (kind !== "gone") { setConn(kind); return; }
    setConn("offline");
    ui.conn.textContent = t("gone");
    showAlert(t("gone"), "gone");
  }

  // Commands in flight get no answer when the link drops (their editors keep the
  // text); the fresh view after reconnecting tells what was done.
  const onDrop = () => { pending.length = 0; };

  ui.run.hidden = true; // until the first view says what the writer is doing
  const live = window.openLiveSocket(boot.urls.ws, { onMessage, onState, onDrop }, { pingMs: PING_MS });
})();
