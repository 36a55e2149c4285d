/*
 * town.js: the Smallville town drawn with Phaser 3, shared by the live, replay and
 * demo pages (plain script, no build step; load after phaser.min.js and before the
 * page script).
 *
 * Defines window.SmallvilleTown:
 *   readBoot()               the page's boot dict (from {{ boot|json_script:"boot" }})
 *   create(boot, options)    -> town: setFrame(frame, ms), select(name), follow(name),
 *                               positions(), zoomBy(f), fit(), markReady(), showMessage()
 *   ui helpers               t(key), el(tag, attrs, ...children), formatTime(iso),
 *                            timeAt(startIso, seconds), shortAction(action),
 *                            agentList(...), panelToggle(...), errorText(response)
 *
 * Test hooks: window.smallville = {ready, step, positions() ({name: [x, y]} tiles),
 * select(name), follow(name) (null stops), screenPosition(name) ({x, y} CSS px of the
 * sprite's body), town}; document.body.dataset.ready = "1" once the map and every agent
 * of the first frame are drawn; document.body.dataset.step = the step shown.
 *
 * Everything persona-related (names, actions, chat lines) is drawn with Phaser Text or
 * set with textContent: never parsed as HTML.
 *
 * boot.i18n keys used here (English fallbacks below): zoom_in, zoom_out, fit_map,
 * follow, unfollow, loading, map_error, no_agents, hide_panel, show_panel, and close,
 * conversation, not_here (the replay/demo agent card).
 */
(function () {
  "use strict";

  const DEFAULT_I18N = {
    zoom_in: "Zoom in",
    zoom_out: "Zoom out",
    fit_map: "Whole map",
    follow: "Follow",
    unfollow: "Stop following",
    loading: "Loading…",
    map_error: "The map could not be loaded.",
    no_agents: "No agents",
    close: "Close",
    conversation: "Conversation",
    not_here: "Not in this step.",
    hide_panel: "Hide panel",
    show_panel: "Show panel",
  };

  const DIRS = { down: 0, left: 1, right: 2, up: 3 };
  // Fonts (css/fonts.css): "Color Emoji Web" first, for emoji only (the system's colour
  // emoji font, else our Twemoji file); the system's fonts; then "Noto Sans SC Web" (our
  // Chinese subsets) for characters no system font has.
  const FONT = '"Color Emoji Web", system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", ' +
    '"Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC Web", sans-serif';
  const MAX_TWEEN_TILES = 6;      // farther jumps (scrubbing, reconnects) teleport
  const ACTION_ZOOM = 0.3;        // at or above (the first view): action texts, where they fit
  const SECTOR_ZOOM = 0.9;        // below: building names on
  const ARENA_ZOOM = 1.1;         // at or above: arena names on
  const NAME_ZOOM = 1.6;          // at or above: full names instead of short labels
  const MAX_ZOOM = 4;
  const FIRST_MIN_ZOOM = 0.3;
  // Labels are scaled by 1 / zoom, so they reach the canvas 1:1: render them at that size.
  const TEXT_RESOLUTION = 1;     // the first view never starts farther out than this
  const COLORS = [0xe6194b, 0x3cb44b, 0x4363d8, 0xf58231, 0x911eb4, 0x46f0f0, 0xf032e6,
    0xbcf60c, 0x008080, 0x9a6324, 0x800000, 0x808000, 0x000075, 0xffe119];

  let BOOT = null;
  let I18N = {};

  // ---------------------------------------------------------------- small helpers
  function readBoot() {
    if (BOOT) return BOOT;
    const node = document.getElementById("boot");
    BOOT = node ? JSON.parse(node.textContent) : {};
    I18N = BOOT.i18n || {};
    return BOOT;
  }

  function t(key) {
    if (Object.prototype.hasOwnProperty.call(I18N, key)) return String(I18N[key]);
    if (Object.prototype.hasOwnProperty.call(DEFAULT_I18N, key)) return DEFAULT_I18N[key];
    return key;
  }

  /** Register English fallbacks for a page's own keys (the boot's i18n wins). */
  function defaults(map) {
    for (const k of Object.keys(map)) if (!(k in DEFAULT_I18N)) DEFAULT_I18N[k] = map[k];
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
        else if (k === "hidden" || k === "disabled") node[k] = Boolean(v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  function pageLang() {
    return document.documentElement.lang || navigator.language || "en";
  }

  /** Game times are naive ISO strings ("2023-02-13T07:02:00"): read and show them as UTC
   * so the browser's time zone (and its DST) never shifts them. */
  function parseGameTime(iso) {
    if (!iso) return NaN;
    const s = String(iso);
    return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(s) ? s : s + "Z");
  }

  function timeAt(startIso, seconds) {
    const ms = parseGameTime(startIso);
    if (Number.isNaN(ms)) return "";
    return new Date(ms + seconds * 1000).toISOString().slice(0, 19);
  }

  const timeFormats = {};
  function formatTime(iso) {
    const ms = parseGameTime(iso);
    if (Number.isNaN(ms)) return iso ? String(iso) : "";
    const lang = pageLang();
    if (!timeFormats[lang]) {
      const opts = { timeZone: "UTC", weekday: "short", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      try { timeFormats[lang] = new Intl.DateTimeFormat(lang, opts); }
      catch (e) { timeFormats[lang] = new Intl.DateTimeFormat("en", opts); }
    }
    return timeFormats[lang].format(new Date(ms));
  }

  /** "brewing coffee @ the Ville:Hobbs Cafe:cafe:counter" -> "brewing coffee" (short). */
  function shortAction(action, max) {
    max = max || 30;
    let s = String(action || "");
    const at = s.indexOf(" @ ");
    if (at >= 0) s = s.slice(0, at);
    s = s.replace(/\s+/g, " ").trim();
    return s.length > max ? s.slice(0, max - 1).trimEnd() + "…" : s;
  }

  function initialsOf(name) {
    return labelCandidates(name)[0];
  }

  /** Short labels for a name, shortest first, ending with the whole name: "Mei Lin" ->
   * ML, MeL, MeiL, Mei Lin; a one-word name (林小梅) -> 林小, 林小梅. */
  function labelCandidates(name) {
    const full = String(name || "?").trim().replace(/\s+/g, " ") || "?";
    const parts = full.split(" ").map((w) => Array.from(w));  // code points, not UTF-16 halves
    const out = [];
    const add = (x) => { if (x && !out.includes(x)) out.push(x); };
    if (parts.length === 1) {
      for (let i = 2; i <= parts[0].length; i++) add(parts[0].slice(0, i).join(""));
    } else {
      const first = parts[0], last = parts[parts.length - 1][0].toUpperCase();
      add(first[0].toUpperCase() + last);
      for (let i = 2; i <= first.length; i++) add(first[0].toUpperCase() + first.slice(1, i).join("") + last);
    }
    add(full);
    return out;
  }

  /** A short label per name, unique across the names and the same for the same names in
   * any order: labels that two names share are lengthened (ML -> MeL, MaL) until unique. */
  function uniqueLabels(names) {
    const sorted = Array.from(new Set((names || []).map(String))).sort();
    const cands = new Map(sorted.map((n) => [n, labelCandidates(n)]));
    const level = new Map(sorted.map((n) => [n, 0]));
    const label = (n) => { const c = cands.get(n); return c[Math.min(level.get(n), c.length - 1)]; };
    for (let round = 0; round < 64; round++) {
      const groups = new Map();
      for (const n of sorted) {
        const l = label(n);
        if (!groups.has(l)) groups.set(l, []);
        groups.get(l).push(n);
      }
      let bumped = false;
      for (const members of groups.values()) {
        if (members.length < 2) continue;
        for (const n of members) {
          if (level.get(n) < cands.get(n).length - 1) { level.set(n, level.get(n) + 1); bumped = true; }
        }
      }
      if (!bumped) break;
    }
    const out = new Map();
    for (const n of sorted) out.set(n, label(n));
    // Names that are still equal after every lengthening (only possible for names that
    // differ in spacing alone) get a number.
    const seen = new Map();
    for (const n of sorted) {
      const l = out.get(n);
      const k = (seen.get(l) || 0) + 1;
      seen.set(l, k);
      if (k > 1) out.set(n, l + k);
    }
    return out;
  }

  /** Greedy label placement: rectangles {x, y, w, h} (world px) taken so far. */
  class Placer {
    constructor() { this.rects = []; }
    free(r) {
      for (const o of this.rects) {
        if (r.x < o.x + o.w && o.x < r.x + r.w && r.y < o.y + o.h && o.y < r.y + r.h) return false;
      }
      return true;
    }
    take(r) { this.rects.push(r); return r; }
  }

  function truncate(s, max) {
    s = String(s || "");
    return s.length > max ? s.slice(0, max - 1).trimEnd() + "…" : s;
  }

  /** The error message of a failed fetch: the JSON "error"/"detail"/"message" field, a
   * short plain-text body, or the HTTP status. */
  async function errorText(response) {
    let msg = "";
    try {
      const type = response.headers.get("content-type") || "";
      if (type.includes("json")) {
        const data = await response.json();
        msg = data && (data.error || data.detail || data.message) || "";
      } else if (type.includes("text/plain")) {
        msg = (await response.text()).trim().slice(0, 500);
      }
    } catch (e) { /* fall through */ }
    return msg || `${response.status} ${response.statusText || ""}`.trim();
  }

  // ------------------------------------------------------------------ the scene
  const IDLE_NAP_MS = 1500;  // stop rendering after this long without movement or input

  class TownScene extends Phaser.Scene {
    constructor(town) {
      super({ key: "town" });
      this.town = town;
      this.agents = new Map();      // name -> agent record
      this.failedSheets = new Set();
      this.mapFailed = false;
      this.keys = new Set();
      this.convos = new Map();      // conversation key -> {lines, members, since}
    }

    preload() {
      const boot = this.town.boot;
      this.load.on("loaderror", (file) => {
        if (file.key === "map" || file.key === "tiles") this.mapFailed = true;
        else if (file.key.startsWith("sheet:")) this.failedSheets.add(file.key);
      });
      if (boot.map_url) this.load.tilemapTiledJSON("map", boot.map_url);
      if (boot.tileset_url) this.load.image("tiles", boot.tileset_url);
      (boot.personas || []).forEach((p, i) => {
        if (p.sheet) this.load.spritesheet("sheet:" + i, p.sheet, { frameWidth: 32, frameHeight: 32 });
        else this.failedSheets.add("sheet:" + i);
      });
    }

    create() {
      const boot = this.town.boot;
      this.ts = boot.tile_size || 32;
      this.cameras.main.setBackgroundColor("#2d3436");
      this.buildMap();
      this.shortLabels = uniqueLabels((boot.personas || []).map((p) => p.name));
      (boot.personas || []).forEach((p, i) => this.addAgent(p, i));
      this.setupInput();
      this.scale.on("resize", () => this.onResize());
      this.onResize();
      this.town._sceneReady(this);
    }

    // ---- map
    buildMap() {
      this.worldW = 140 * this.ts;
      this.worldH = 100 * this.ts;
      this.sectorLabels = [];
      this.arenaLabels = [];
      if (this.mapFailed || !this.cache.tilemap.exists("map")) {
        this.mapFailed = true;
        this.town.showMessage(t("map_error"), "error");
        return;
      }
      const map = this.make.tilemap({ key: "map" });
      this.map = map;
      this.worldW = map.widthInPixels;
      this.worldH = map.heightInPixels;
      const tilesets = [];
      if (this.textures.exists("tiles")) {
        for (const data of map.tilesets) {
          const set = map.addTilesetImage(data.name, "tiles");
          if (set) tilesets.push(set);
          break; // one embedded tileset, one image
        }
      }
      const order = ["ground", "walls", "furniture"];
      const names = map.layers.map((l) => l.name);
      const rest = names.filter((n) => !order.includes(n) && n !== "collisions");
      let depth = 0;
      for (const name of order.concat(rest).concat(["collisions"])) {
        if (!names.includes(name) || !tilesets.length) continue;
        const layer = map.createLayer(name, tilesets, 0, 0);
        if (!layer) continue;
        layer.setDepth(depth++);
        if (name === "collisions") layer.setVisible(false);
      }
      const labelStyle = (size, color) => ({
        fontFamily: FONT, fontSize: size + "px", fontStyle: "bold", color: color,
        stroke: "#1e272e", strokeThickness: 4, align: "center",
        resolution: TEXT_RESOLUTION,
      });
      const sectors = map.getObjectLayer("sectors");
      for (const o of (sectors && sectors.objects) || []) {
        if (!o.name) continue;
        const txt = this.add.text(o.x + (o.width || 0) / 2, o.y + (o.height || 0) / 2, o.name,
          Object.assign(labelStyle(15, "#fff8e1"), { wordWrap: { width: 170 } }));
        txt.setOrigin(0.5, 1).setDepth(50);
        txt.areaWidth = o.width || 0;
        txt.area = { x: o.x, y: o.y, w: o.width || 0, h: o.height || 0 };
        this.sectorLabels.push(txt);
      }
      const arenas = map.getObjectLayer("arenas");
      for (const o of (arenas && arenas.objects) || []) {
        if (!o.name) continue;
        const txt = this.add.text(o.x + (o.width || 0) / 2, o.y + 3, o.name,
          Object.assign(labelStyle(11, "#ffffff"), { strokeThickness: 3 }));
        txt.setOrigin(0.5, 0).setDepth(49).setAlpha(0.8);
        txt.areaWidth = o.width || 0;
        this.arenaLabels.push(txt);
      }
    }

    // ---- agents
    ensureSheet(key, index) {
      if (this.textures.exists(key) && !this.failedSheets.has(key)) return;
      // A missing sheet gets a plain coloured token so the agent is still drawn.
      if (this.textures.exists(key)) this.textures.remove(key);
      const tex = this.textures.createCanvas(key, 96, 128);
      const ctx = tex.getContext();
      const color = "#" + COLORS[index % COLORS.length].toString(16).padStart(6, "0");
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 3; c++) {
          const x = c * 32 + 16, y = r * 32 + 16;
          ctx.fillStyle = color;
          ctx.beginPath(); ctx.arc(x, y + (c === 1 ? 0 : 1), 11, 0, Math.PI * 2); ctx.fill();
          ctx.strokeStyle = "#1e272e"; ctx.lineWidth = 2; ctx.stroke();
          tex.add(r * 3 + c, 0, c * 32, r * 32, 32, 32);
        }
      }
      tex.refresh();
    }

    addAgent(persona, index) {
      const key = "sheet:" + index;
      this.ensureSheet(key, index);
      const name = String(persona.name);
      for (const [dir, row] of Object.entries(DIRS)) {
        const akey = `walk:${index}:${dir}`;
        if (!this.anims.exists(akey)) {
          this.anims.create({
            key: akey, repeat: -1, frameRate: 8,
            frames: [row * 3, row * 3 + 1, row * 3 + 2, row * 3 + 1].map((f) => ({ key, frame: f })),
          });
        }
      }
      const sprite = this.add.sprite(0, 0, key, 1).setOrigin(0.5, 1).setVisible(false);
      const ring = this.add.ellipse(0, 0, 30, 12).setStrokeStyle(3, 0xffd32a).setVisible(false);
      const textStyle = {
        fontFamily: FONT, fontSize: "12px", color: "#ffffff",
        backgroundColor: "rgba(30,39,46,0.72)", padding: { x: 4, y: 2 },
        resolution: TEXT_RESOLUTION,
      };
      const action = this.add.text(0, 0, "", textStyle).setOrigin(0.5, 1).setVisible(false);
      const tag = this.add.text(0, 0, name,
        Object.assign({}, textStyle, { fontStyle: "bold", backgroundColor: "rgba(47,111,79,0.9)" }))
        .setOrigin(0.5, 1).setVisible(false);
      const bubble = this.add.text(0, 0, "", {
        fontFamily: FONT, fontSize: "12px", color: "#222222", backgroundColor: "#ffffff",
        padding: { x: 6, y: 4 }, wordWrap: { width: 200, useAdvancedWrap: true },
        resolution: TEXT_RESOLUTION,
      }).setOrigin(0.5, 1).setVisible(false);
      const agent = {
        name, index, key, sprite, ring, action, tag, bubble,
        initials: (this.shortLabels && this.shortLabels.get(name)) || initialsOf(name),
        tile: null, dir: "down", tween: null, present: false,
        actionText: "", fullAction: "", emoji: "", chat: null,
      };
      this.agents.set(name, agent);
      return agent;
    }

    agentFor(name) {
      let a = this.agents.get(name);
      if (a) return a;
      a = this.addAgent({ name }, this.agents.size);
      // A name the boot did not list: short labels stay unique across the whole town.
      this.shortLabels = uniqueLabels(Array.from(this.agents.keys()));
      for (const b of this.agents.values()) b.initials = this.shortLabels.get(b.name) || initialsOf(b.name);
      return a;
    }

    applyFrame(frame, duration) {
      const seen = new Set();
      const agentsData = (frame && frame.agents) || {};
      for (const [name, data] of Object.entries(agentsData)) {
        if (!data || typeof data.x !== "number" || typeof data.y !== "number") continue;
        const a = this.agentFor(name);
        seen.add(name);
        this.moveAgent(a, data.x, data.y, duration);
        a.emoji = data.emoji || "";
        a.fullAction = data.action || "";
        a.actionText = shortAction(a.fullAction);
        a.chat = Array.isArray(data.chat) && data.chat.length ? data.chat : null;
        a.present = true;
      }
      for (const a of this.agents.values()) {
        if (!seen.has(a.name)) {
          a.present = false;
          a.chat = null;
          if (a.tween) { a.tween.stop(); a.tween = null; }
        }
        a.sprite.setVisible(a.present);
      }
      this.updateConversations();
      this.updateLabels(true);
    }

    moveAgent(a, tx, ty, duration) {
      const ts = this.ts;
      const px = tx * ts + ts / 2, py = (ty + 1) * ts;
      const from = a.tile;
      a.tile = [tx, ty];
      if (a.tween) { a.tween.stop(); a.tween = null; }
      if (!from || !a.present) {
        a.sprite.setPosition(px, py);
        a.sprite.anims.stop();
        a.sprite.setFrame(DIRS[a.dir] * 3 + 1);
        a.sprite.setDepth(100 + py / 100);
        return;
      }
      const dx = tx - from[0], dy = ty - from[1];
      if (dx === 0 && dy === 0) {
        // Still standing; snap in case an earlier tween was cut short.
        a.sprite.setPosition(px, py);
        a.sprite.anims.stop();
        a.sprite.setFrame(DIRS[a.dir] * 3 + 1);
        return;
      }
      a.dir = Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? "right" : "left") : (dy > 0 ? "down" : "up");
      if (Math.abs(dx) + Math.abs(dy) > MAX_TWEEN_TILES || !(duration > 16)) {
        a.sprite.setPosition(px, py);
        a.sprite.anims.stop();
        a.sprite.setFrame(DIRS[a.dir] * 3 + 1);
        a.sprite.setDepth(100 + py / 100);
        return;
      }
      a.sprite.play(`walk:${a.index}:${a.dir}`, true);
      a.tween = this.tweens.add({
        targets: a.sprite, x: px, y: py, duration: duration, ease: "Linear",
        onUpdate: () => a.sprite.setDepth(100 + a.sprite.y / 100),
        onComplete: () => {
          a.tween = null;
          a.sprite.anims.stop();
          a.sprite.setFrame(DIRS[a.dir] * 3 + 1);
        },
      });
    }

    // ---- chat bubbles: a conversation's lines take turns over its speakers' heads
    updateConversations() {
      if (!this.town.options.chatBubbles) return;
      const now = this.time.now;
      const live = new Set();
      for (const a of this.agents.values()) {
        if (!a.present || !a.chat) continue;
        const first = a.chat[0];
        const key = JSON.stringify(first);
        live.add(key);
        let c = this.convos.get(key);
        if (!c) { c = { since: now, lines: a.chat, members: new Set() }; this.convos.set(key, c); }
        if (a.chat.length > c.lines.length) c.lines = a.chat;
        c.members.add(a.name);
      }
      for (const key of Array.from(this.convos.keys())) if (!live.has(key)) this.convos.delete(key);
    }

    bubbleFor(now) {
      const shown = new Map(); // agent name -> text
      for (const c of this.convos.values()) {
        const lines = c.lines.filter((l) => Array.isArray(l) && l.length >= 2);
        if (!lines.length) continue;
        const durations = lines.map((l) => clamp(1500 + String(l[1]).length * 45, 2000, 6000));
        const total = durations.reduce((s, d) => s + d, 0) + 1500;
        let at = (now - c.since) % total, i = 0;
        while (i < lines.length && at >= durations[i]) { at -= durations[i]; i++; }
        if (i >= lines.length) continue; // the pause between rounds
        const [speaker, text] = lines[i];
        let who = this.agents.get(String(speaker));
        if (!who || !who.present) who = this.agents.get(Array.from(c.members)[0]);
        if (!who || !who.present) continue;
        shown.set(who.name, truncate(String(text), 140));
      }
      return shown;
    }

    // ---- labels follow their sprites at a constant screen size, and never overlap
    /* Every label is placed in one greedy pass (Placer), most important first, each at
     * the first of its candidate spots that covers nothing placed before it, else hidden:
     *   1. the focused agent (selected, else hovered): name tag with emoji, action, chat;
     *   2. building (sector) names, while zoomed out;
     *   3. every other agent's tag: emoji bubble + unique short label (name when near);
     *   4. chat lines, then 5. action texts (from ACTION_ZOOM on), then 6. room names.
     * Candidates are in screen px around the sprite (scaled to world px by 1 / zoom). */
    updateLabels(force) {
      const cam = this.cameras.main;
      const zoom = cam.zoom;
      const s = 1 / zoom;
      if (force || this._lastZoom !== zoom || this._lastW !== cam.width || this._lastH !== cam.height) {
        this._lastZoom = zoom;
        this._lastW = cam.width;
        this._lastH = cam.height;
        this.applyBounds();
        // Building names wrap to their building's width on screen (at least ~5 letters).
        for (const l of this.sectorLabels) {
          const wrap = Math.round(clamp(l.areaWidth * zoom, 56, 170));
          const size = wrap < 110 ? 12 : 15;
          if (l.wrapAt !== wrap || l.sizeAt !== size) {
            l.wrapAt = wrap; l.sizeAt = size;
            l.setFontSize(size + "px").setWordWrapWidth(wrap, false);
          }
        }
      }
      const focus = this.focused();
      const bubbles = this.town.options.chatBubbles ? this.bubbleFor(this.time.now) : null;
      const placer = new Placer();
      const placed = [];   // [kind, owner, text object] in placement order (test hook)
      const rectOf = (obj, cx, bottom) => {
        const w = obj.width * s, h = obj.height * s;
        return { x: cx - w / 2, y: bottom - h, w, h };
      };
      // Put `obj` (origin 0.5, 1) at the first free candidate [cx, bottom]; `force`: at the
      // first one even if taken (the focused agent wins).
      const put = (obj, candidates, depth, kind, owner, forced) => {
        let spot = null;
        for (const [cx, bottom] of candidates) {
          const r = rectOf(obj, cx, bottom);
          if (placer.free(r)) { spot = r; break; }
        }
        if (!spot && forced && candidates.length) spot = rectOf(obj, candidates[0][0], candidates[0][1]);
        if (!spot) { obj.setVisible(false); return null; }
        placer.take(spot);
        obj.setScale(s).setPosition(spot.x + spot.w / 2, spot.y + spot.h).setDepth(depth).setVisible(true);
        placed.push([kind, owner, obj]);
        return spot;
      };
      const shown = [];
      for (const a of this.agents.values()) {
        if (a.present && a.sprite.visible) shown.push(a);
        else { a.action.setVisible(false); a.tag.setVisible(false); a.ring.setVisible(false); a.bubble.setVisible(false); }
      }
      const tagSpots = (a) => {
        const x = a.sprite.x, head = a.sprite.y - 32, h = a.tag.height * s, w = a.tag.width * s;
        const side = w / 2 + 12 * s;
        return [[x, head - 1 * s], [x, head - h - 2 * s], [x + side, head + 14 * s], [x - side, head + 14 * s],
          [x + w * 0.6, head - h - 2 * s], [x - w * 0.6, head - h - 2 * s], [x, head - 2 * h - 3 * s],
          [x, a.sprite.y + h + 2 * s]];
      };
      const aboveOrBeside = (obj, r) => {
        const w = obj.width * s, h = obj.height * s, cx = r.x + r.w / 2;
        return [[cx, r.y - 1 * s], [cx, r.y + r.h + h + 1 * s], [r.x + r.w + w / 2 + 2 * s, r.y + r.h],
          [r.x - w / 2 - 2 * s, r.y + r.h], [cx, r.y - h - 2 * s]];
      };
      const setTag = (a, isFocus) => {
        const base = isFocus || zoom >= NAME_ZOOM ? a.name : a.initials;
        const text = (a.emoji ? a.emoji + " " : "") + base;
        if (a.tag.text !== text) a.tag.setText(text);
        const sel = a.name === this.town.selected;
        const bg = sel ? "rgba(196,118,0,0.95)" : isFocus ? "rgba(30,39,46,0.92)" : "rgba(47,111,79,0.9)";
        if (a.tagBg !== bg) { a.tagBg = bg; a.tag.setBackgroundColor(bg); }
      };
      const setAction = (a, max) => {
        const text = shortAction(a.fullAction, max);
        if (a.action.text !== text) a.action.setText(text);
        return text !== "";
      };
      const spots = new Map();  // agent -> its tag's rect
      // 1. the focused agent
      const fa = focus && this.agents.get(focus);
      if (fa && shown.includes(fa)) {
        setTag(fa, true);
        const r = put(fa.tag, tagSpots(fa), 5002, "tag", fa.name, true);
        spots.set(fa, r);
        let top = r;
        if (setAction(fa, 60)) {
          top = put(fa.action, aboveOrBeside(fa.action, r), 5002, "action", fa.name, true) || top;
        } else fa.action.setVisible(false);
        const line = bubbles && bubbles.get(fa.name);
        if (line) {
          if (fa.bubble.text !== line) fa.bubble.setText(line);
          put(fa.bubble, aboveOrBeside(fa.bubble, top), 5003, "chat", fa.name, true);
        } else fa.bubble.setVisible(false);
      }
      // 2. building names (fixed spots inside the building)
      const sectorsOn = zoom < SECTOR_ZOOM;
      for (const l of this.sectorLabels) {
        if (!sectorsOn) { l.setVisible(false); continue; }
        const A = l.area, h = l.height * s, cx = A.x + A.w / 2, mid = A.y + A.h / 2 + h / 2;
        put(l, [[cx, mid], [cx, mid - h], [cx, mid + h], [cx, A.y + h + 2 * s], [cx, A.y + A.h - 2 * s]],
          50, "building", l.text, false);
        l.setScale(s);
      }
      // 3. the other agents' tags (emoji bubble + short label), top of the screen first
      const others = shown.filter((a) => a !== fa).sort((p, q) => p.sprite.y - q.sprite.y || p.index - q.index);
      for (const a of others) {
        setTag(a, false);
        spots.set(a, put(a.tag, tagSpots(a), 4000 + a.sprite.y / 100, "tag", a.name, false));
        a.ring.setVisible(false);
      }
      // 4. chat lines, 5. actions: only next to a placed tag
      for (const a of others) {
        const r = spots.get(a);
        const line = bubbles && bubbles.get(a.name);
        if (r && line) {
          if (a.bubble.text !== line) a.bubble.setText(line);
          const b = put(a.bubble, aboveOrBeside(a.bubble, r), 5001, "chat", a.name, false);
          if (b) spots.set(a, { x: Math.min(r.x, b.x), y: b.y, w: Math.max(r.x + r.w, b.x + b.w) - Math.min(r.x, b.x), h: r.y + r.h - b.y });
        } else a.bubble.setVisible(false);
      }
      for (const a of others) {
        const r = spots.get(a);
        if (r && zoom >= ACTION_ZOOM && setAction(a, 30)) put(a.action, aboveOrBeside(a.action, r), 4000 + a.sprite.y / 100, "action", a.name, false);
        else a.action.setVisible(false);
      }
      // 6. room names
      for (const l of this.arenaLabels) {
        const k = Math.min(s, 1);
        if (zoom < ARENA_ZOOM || l.width * k > l.areaWidth) { l.setVisible(false); continue; }
        const r = { x: l.x - l.width * k / 2, y: l.y, w: l.width * k, h: l.height * k };
        l.setScale(k);
        if (placer.free(r)) { placer.take(r); l.setVisible(true); placed.push(["room", l.text, l]); }
        else l.setVisible(false);
      }
      for (const a of shown) {
        const sel = a.name === this.town.selected;
        a.ring.setVisible(sel).setPosition(a.sprite.x, a.sprite.y - 3).setDepth(a.sprite.depth - 0.001);
      }
      this.placedLabels = placed;
    }

    /** The agent whose labels win: the selected one, else the one under the pointer. */
    focused() {
      const sel = this.town.selected;
      if (sel && this.agents.has(sel) && this.agents.get(sel).present) return sel;
      return this.hovered && this.agents.has(this.hovered) ? this.hovered : null;
    }

    /** Every label on screen, for tests: {kind, owner, text, x, y, w, h} in CSS px. */
    labelRects() {
      const cam = this.cameras.main;
      const rect = this.game.canvas.getBoundingClientRect();
      const kx = rect.width / this.game.scale.width, ky = rect.height / this.game.scale.height;
      return (this.placedLabels || []).filter(([, , o]) => o.visible).map(([kind, owner, o]) => {
        const b = o.getBounds();
        return {
          kind, owner: String(owner), text: o.text,
          x: rect.left + ((b.x - cam.worldView.x) * cam.zoom + cam.x) * kx,
          y: rect.top + ((b.y - cam.worldView.y) * cam.zoom + cam.y) * ky,
          w: b.width * cam.zoom * kx, h: b.height * cam.zoom * ky,
        };
      });
    }

    // ---- camera
    minZoom() {
      const cam = this.cameras.main;
      return Math.min(cam.width / this.worldW, cam.height / this.worldH, 1);
    }

    /** Camera bounds: the world, widened to the view where the view is larger, so a
     * zoomed-out town sits in the middle instead of the top-left corner. */
    applyBounds() {
      const cam = this.cameras.main;
      const vw = cam.width / cam.zoom, vh = cam.height / cam.zoom;
      const bx = this.worldW < vw ? (this.worldW - vw) / 2 : 0;
      const by = this.worldH < vh ? (this.worldH - vh) / 2 : 0;
      cam.setBounds(bx, by, Math.max(this.worldW, vw), Math.max(this.worldH, vh));
    }

    setZoomAt(zoom, sx, sy) {
      const cam = this.cameras.main;
      zoom = clamp(zoom, this.minZoom(), MAX_ZOOM);
      if (sx === undefined) { sx = cam.width / 2; sy = cam.height / 2; }
      const wx = cam.scrollX + cam.width / 2 + (sx - cam.width / 2) / cam.zoom;
      const wy = cam.scrollY + cam.height / 2 + (sy - cam.height / 2) / cam.zoom;
      cam.setZoom(zoom);
      if (!this.town.following) {
        cam.scrollX = wx - cam.width / 2 - (sx - cam.width / 2) / zoom;
        cam.scrollY = wy - cam.height / 2 - (sy - cam.height / 2) / zoom;
      }
      this.updateLabels(true);
    }

    panBy(dxScreen, dyScreen) {
      const cam = this.cameras.main;
      if (this.town.following) this.town.follow(null);
      cam.scrollX += dxScreen / cam.zoom;
      cam.scrollY += dyScreen / cam.zoom;
    }

    centerOn(wx, wy) {
      this.cameras.main.centerOn(wx, wy);
    }

    fitTiles(tiles) {
      const cam = this.cameras.main;
      const ts = this.ts;
      if (!tiles.length) { this.fitWorld(); return; }
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (const [x, y] of tiles) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
      const pad = 5;
      const w = (x1 - x0 + 1 + 2 * pad) * ts, h = (y1 - y0 + 1 + 2 * pad) * ts;
      const fit = Math.min(cam.width / w, cam.height / h);
      let cx = (x0 + x1 + 1) / 2 * ts, cy = (y0 + y1 + 1) / 2 * ts;
      if (fit < FIRST_MIN_ZOOM) {
        // Too spread out for a small screen: start near the agent closest to the middle.
        let best = tiles[0], bd = Infinity;
        for (const [x, y] of tiles) {
          const d = (x * ts - cx) ** 2 + (y * ts - cy) ** 2;
          if (d < bd) { bd = d; best = [x, y]; }
        }
        cx = best[0] * ts + ts / 2; cy = best[1] * ts;
      }
      cam.setZoom(clamp(Math.max(fit, Math.min(FIRST_MIN_ZOOM, 1)), this.minZoom(), 1.5));
      this.updateLabels(true);
      cam.centerOn(cx, cy);
    }

    fitWorld() {
      const cam = this.cameras.main;
      cam.setZoom(this.minZoom());
      this.updateLabels(true);
      cam.centerOn(this.worldW / 2, this.worldH / 2);
    }

    onResize() {
      const cam = this.cameras.main;
      if (cam.zoom < this.minZoom()) cam.setZoom(this.minZoom());
      this.updateLabels(true);
    }

    setupInput() {
      const input = this.input;
      input.addPointer(1); // two touch points: pinch zoom
      let down = null;     // {x, y, moved, pinched}
      let pinch = null;    // {dist, mx, my}
      input.on("pointerdown", (p) => {
        // Phaser keeps the browser's focus change from happening: let go of a focused
        // control (a select, the scrubber) so the arrow keys pan the map again.
        const focused = document.activeElement;
        if (focused && focused !== document.body && focused.blur) focused.blur();
        const n = this.activeTouches();
        if (n <= 1 || !down) down = { x: p.x, y: p.y, moved: false, pinched: false };
        if (n >= 2) { down.pinched = true; pinch = null; }
      });
      input.on("pointermove", (p) => {
        if (!p.isDown || !down) return;
        const p1 = input.pointer1, p2 = input.pointer2;
        if (p1 && p2 && p1.isDown && p2.isDown) {
          const dist = Phaser.Math.Distance.Between(p1.x, p1.y, p2.x, p2.y);
          const mx = (p1.x + p2.x) / 2, my = (p1.y + p2.y) / 2;
          if (pinch && pinch.dist > 0) {
            this.panBy(pinch.mx - mx, pinch.my - my);
            this.setZoomAt(this.cameras.main.zoom * dist / pinch.dist, mx, my);
          }
          pinch = { dist, mx, my };
          down.moved = true; down.pinched = true;
          return;
        }
        if (down.pinched) return;
        if (!down.moved && Phaser.Math.Distance.Between(p.x, p.y, down.x, down.y) > 6) down.moved = true;
        if (down.moved) this.panBy(p.prevPosition.x - p.x, p.prevPosition.y - p.y);
      });
      input.on("pointerup", (p) => {
        if (down && !down.moved && !down.pinched) this.clickAt(p.x, p.y);
        if (this.activeTouches() === 0) { down = null; pinch = null; }
        else pinch = null;
      });
      input.on("gameout", () => { /* keep drag state; pointerup outside still ends it */ });
      input.on("wheel", (p, objs, dx, dy) => {
        const f = Math.exp(-clamp(dy, -300, 300) * 0.0015);
        this.setZoomAt(this.cameras.main.zoom * f, p.x, p.y);
      });
      const editable = (el) => el && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));
      const panKeys = { ArrowLeft: 1, ArrowRight: 1, ArrowUp: 1, ArrowDown: 1, a: 1, d: 1, w: 1, s: 1, A: 1, D: 1, W: 1, S: 1 };
      this._onKeyDown = (e) => {
        if (e.ctrlKey || e.metaKey || e.altKey || editable(e.target)) return;
        if (panKeys[e.key]) { this.keys.add(e.key.length === 1 ? e.key.toLowerCase() : e.key); e.preventDefault(); }
        else if (e.key === "+" || e.key === "=") { this.setZoomAt(this.cameras.main.zoom * 1.25); e.preventDefault(); }
        else if (e.key === "-" || e.key === "_") { this.setZoomAt(this.cameras.main.zoom / 1.25); e.preventDefault(); }
      };
      this._onKeyUp = (e) => { this.keys.delete(e.key.length === 1 ? e.key.toLowerCase() : e.key); };
      this._onBlur = () => this.keys.clear();
      window.addEventListener("keydown", this._onKeyDown);
      window.addEventListener("keyup", this._onKeyUp);
      window.addEventListener("blur", this._onBlur);
      this.events.once("destroy", () => {
        window.removeEventListener("keydown", this._onKeyDown);
        window.removeEventListener("keyup", this._onKeyUp);
        window.removeEventListener("blur", this._onBlur);
      });
    }

    activeTouches() {
      let n = 0;
      for (const p of this.input.manager.pointers) if (p.isDown) n++;
      return n;
    }

    hover(agent) {
      const name = agent ? agent.name : null;
      if (name === this.hovered) return;
      this.hovered = name;
      this.updateLabels(true);
    }

    clickAt(sx, sy) {
      const best = this.agentAt(sx, sy);
      if (best) this.town.select(best.name, true);
    }

    /** The agent drawn at a screen point (within a ~44 px touch target), or null. */
    agentAt(sx, sy) {
      const cam = this.cameras.main;
      const wp = cam.getWorldPoint(sx, sy);
      const tol = Math.max(0, 22 / cam.zoom - 16); // at least ~44px touch targets
      let best = null, bestD = Infinity;
      for (const a of this.agents.values()) {
        if (!a.present) continue;
        const cx = a.sprite.x, cy = a.sprite.y - 16;
        const dx = Math.abs(wp.x - cx), dy = Math.abs(wp.y - cy);
        if (dx <= 16 + tol && dy <= 16 + tol) {
          const d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = a; }
        }
      }
      return best;
    }

    /** Draw every text again, e.g. once a web font (emoji, Chinese) has loaded: canvas
     * text keeps the glyphs it was first drawn with. */
    refreshTexts() {
      for (const obj of this.children.list) {
        if (obj instanceof Phaser.GameObjects.Text) obj.style.update(true);
      }
      this.updateLabels(true);
    }

    update(time, delta) {
      // Nap when nothing moves: a software-rendered WebGL canvas redrawing 60 times a
      // second costs a whole CPU core, which the simulation itself needs. Any input,
      // frame, selection or resize wakes the loop again (Town.wake).
      const cam = this.cameras.main;
      const busy = this.keys.size || this.tweens.getTweens().length || this.activeTouches() ||
        (cam.panEffect && cam.panEffect.isRunning) || (cam.zoomEffect && cam.zoomEffect.isRunning);
      const now = performance.now();
      if (busy) this.town.lastActive = now;
      else if (now - this.town.lastActive > IDLE_NAP_MS) this.town.nap();
      if (this.keys.size) {
        const k = this.keys;
        const v = 700 * delta / 1000;
        let dx = 0, dy = 0;
        if (k.has("ArrowLeft") || k.has("a")) dx -= v;
        if (k.has("ArrowRight") || k.has("d")) dx += v;
        if (k.has("ArrowUp") || k.has("w")) dy -= v;
        if (k.has("ArrowDown") || k.has("s")) dy += v;
        if (dx || dy) this.panBy(dx, dy);
      }
      this.updateLabels(false);
    }
  }

  // ---------------------------------------------------------------- the town
  class Town {
    constructor(boot, options) {
      this.boot = boot;
      this.options = Object.assign({ chatBubbles: true, onSelect: null, onFollow: null }, options || {});
      this.container = this.options.container || document.getElementById("town-map");
      this.scene = null;
      this.pending = null;    // [frame, duration] before the scene exists
      this.frame = null;
      this.step = null;
      this.selected = null;
      this.following = null;
      this.isReady = false;
      this.framed = false;    // camera fitted to the agents once
      this.readyWaiters = [];
      this.lastActive = performance.now();
      this.napping = false;
      this.buildOverlay();
      this.game = new Phaser.Game({
        type: Phaser.AUTO,
        parent: this.container,
        backgroundColor: "#2d3436",
        pixelArt: true,
        banner: false,
        audio: { noAudio: true },
        scale: {
          mode: Phaser.Scale.RESIZE,
          width: Math.max(1, this.container.clientWidth),
          height: Math.max(1, this.container.clientHeight),
        },
        input: { keyboard: false, mouse: { preventDefaultWheel: true }, touch: { capture: true } },
        scene: new TownScene(this),
      });
      const hooks = {
        ready: false,
        step: null,
        town: this,
        positions: () => this.positions(),
        select: (name) => this.select(name, true),
        follow: (name) => this.follow(name),
        screenPosition: (name) => this.screenPosition(name),
        wake: () => this.wake(),
        napping: () => this.napping,
        labels: () => (this.scene ? this.scene.labelRects() : []),
        shortLabels: () => (this.scene ? Object.fromEntries(this.scene.shortLabels) : {}),
        fontsRefreshed: 0,
      };
      window.smallville = hooks;
      this.hooks = hooks;
      const wake = () => this.wake();
      for (const type of ["pointerdown", "pointermove", "wheel", "touchstart", "touchmove"]) {
        this.container.addEventListener(type, wake, { capture: true, passive: true });
      }
      window.addEventListener("keydown", wake, { capture: true });
      window.addEventListener("resize", wake);
      // Hovering an agent (a mouse, not a finger: a tap selects) shows its name and action
      // on top of every other label.
      this.container.addEventListener("pointermove", (e) => {
        if (!this.scene || e.pointerType === "touch" || e.buttons) return;
        const rect = this.game.canvas.getBoundingClientRect();
        if (!rect.width || !rect.height) return;
        const x = (e.clientX - rect.left) * this.game.scale.width / rect.width;
        const y = (e.clientY - rect.top) * this.game.scale.height / rect.height;
        this.scene.hover(this.scene.agentAt(x, y));
      }, { passive: true });
      this.container.addEventListener("pointerleave", () => { if (this.scene) this.scene.hover(null); });
      // Canvas text does not redraw itself when a font arrives: redraw every label once a
      // web font (css/fonts.css: emoji, Chinese) has loaded.
      this.refreshFonts = () => {
        if (!this.scene) return;
        this.scene.refreshTexts();
        hooks.fontsRefreshed++;
        this.wake();
      };
      if (document.fonts && document.fonts.addEventListener) {
        document.fonts.addEventListener("loadingdone", this.refreshFonts);
      }
      this.emojiAsked = new Set();
    }

    /** Stop the render loop until something changes (see TownScene.update). */
    nap() {
      if (this.napping || !this.isReady) return;
      this.napping = true;
      this.game.loop.sleep();
    }

    /** Start rendering again (input, a new frame, a selection, a resize). */
    wake() {
      this.lastActive = performance.now();
      if (!this.napping) return;
      this.napping = false;
      this.game.loop.wake();
    }

    buildOverlay() {
      const c = this.container;
      this.message = el("p", { class: "town-message", role: "status", hidden: true });
      const btn = (text, label, onclick, extra) => el("button", Object.assign({
        type: "button", class: "town-zoom-btn", title: label, "aria-label": label, onclick,
      }, extra || {}), text);
      this.followBtn = el("button", {
        type: "button", class: "town-follow-btn", hidden: true, "aria-pressed": "false",
        onclick: () => this.follow(this.following ? null : this.selected),
      }, t("follow"));
      this.overlay = el("div", { class: "town-overlay" },
        btn("+", t("zoom_in"), () => this.zoomBy(1.4), { "data-zoom": "in" }),
        btn("−", t("zoom_out"), () => this.zoomBy(1 / 1.4), { "data-zoom": "out" }),
        btn("⤢", t("fit_map"), () => this.fit(), { "data-zoom": "fit" }),
        this.followBtn);
      c.appendChild(this.overlay);
      c.appendChild(this.message);
    }

    showMessage(text, kind) {
      if (!text) { this.message.hidden = true; this.message.textContent = ""; return; }
      this.message.textContent = text;
      this.message.className = "town-message" + (kind ? " " + kind : "");
      this.message.hidden = false;
    }

    _sceneReady(scene) {
      this.scene = scene;
      if (this.pending) {
        const [f, d] = this.pending;
        this.pending = null;
        this.setFrame(f, d);
      } else if (scene.mapFailed) {
        this.markReady();
      }
    }

    /** Show a frame; agents walk to their new tiles over `duration` ms (0: jump). */
    setFrame(frame, duration) {
      if (!frame) return;
      this.wake();
      this.frame = frame;
      this.step = frame.step;
      this.hooks.step = frame.step;
      document.body.dataset.step = String(frame.step);
      if (!this.scene) { this.pending = [frame, 0]; return; }
      this.scene.applyFrame(frame, duration || 0);
      this.loadEmoji(frame);
      if (!this.framed) {
        this.framed = true;
        const tiles = Object.values(frame.agents || {}).filter((a) => a && typeof a.x === "number").map((a) => [a.x, a.y]);
        this.scene.fitTiles(tiles);
      }
      if (this.following) this.follow(this.following);
      if (!this.isReady) this.markReady();
    }

    /** Ask for the emoji face of the frame's emoji (the system's colour emoji font through
     * local(), else our file), then draw the labels again: canvas text does not wait for
     * a font. The Chinese subsets come when the page's text first needs them. */
    loadEmoji(frame) {
      if (!document.fonts || !document.fonts.load) return;
      let fresh = "";
      for (const d of Object.values((frame && frame.agents) || {})) {
        const e = d && d.emoji ? String(d.emoji) : "";
        if (e && !this.emojiAsked.has(e)) { this.emojiAsked.add(e); fresh += e; }
      }
      if (!fresh) return;
      document.fonts.load('12px "Color Emoji Web"', fresh).then((faces) => {
        if (faces && faces.length) this.refreshFonts();
      }, () => {});
    }

    /** Flag the page ready after the next rendered frame (also on error paths). */
    markReady() {
      if (this.isReady) return;
      this.isReady = true;
      if (this.scene && !this.framed) { this.framed = true; this.scene.fitWorld(); }
      const done = () => {
        this.hooks.ready = true;
        document.body.dataset.ready = "1";
        for (const w of this.readyWaiters.splice(0)) w();
      };
      if (this.scene) this.game.events.once("postrender", done);
      else done();
    }

    whenReady() {
      return new Promise((resolve) => (this.hooks.ready ? resolve() : this.readyWaiters.push(resolve)));
    }

    positions() {
      const out = {};
      if (!this.scene) return out;
      for (const a of this.scene.agents.values()) if (a.present && a.tile) out[a.name] = [a.tile[0], a.tile[1]];
      return out;
    }

    /** Where an agent's sprite (the middle of its body) is, in CSS px of the viewport. */
    screenPosition(name) {
      const a = this.scene && this.scene.agents.get(String(name));
      if (!a || !a.present) return null;
      const cam = this.scene.cameras.main;
      const rect = this.game.canvas.getBoundingClientRect();
      const kx = rect.width / this.game.scale.width, ky = rect.height / this.game.scale.height;
      return {
        x: rect.left + ((a.sprite.x - cam.worldView.x) * cam.zoom + cam.x) * kx,
        y: rect.top + ((a.sprite.y - 16 - cam.worldView.y) * cam.zoom + cam.y) * ky,
      };
    }

    agentData(name) {
      return (this.frame && this.frame.agents && this.frame.agents[name]) || null;
    }

    select(name, notify) {
      this.wake();
      name = name === null || name === undefined ? null : String(name);
      if (name !== null && this.scene && !this.scene.agents.has(name)) return false;
      this.selected = name;
      this.followBtn.hidden = !name && !this.following;
      if (this.following && name && this.following !== name) this.follow(name);
      if (this.scene) this.scene.updateLabels(true);
      if (notify !== false && this.options.onSelect) this.options.onSelect(name);
      if (name && notify !== false) this.reveal(name, true); // e.g. now under the opened panel
      return true;
    }

    follow(name) {
      this.wake();
      const cam = this.scene && this.scene.cameras.main;
      if (!name) {
        this.following = null;
        if (cam) cam.stopFollow();
      } else {
        const a = this.scene && this.scene.agents.get(String(name));
        if (!a) return false;
        if (this.selected !== a.name) this.select(a.name, true);
        this.following = a.name;
        cam.startFollow(a.sprite, false, 0.15, 0.15, 0, 16);
      }
      this.followBtn.textContent = this.following ? t("unfollow") : t("follow");
      this.followBtn.setAttribute("aria-pressed", this.following ? "true" : "false");
      this.followBtn.hidden = !this.selected && !this.following;
      if (this.options.onFollow) this.options.onFollow(this.following);
      return true;
    }

    /** Pan to an agent (without following it), keeping it clear of a side panel that
     * covers the bottom of the map (phones). */
    reveal(name, onlyIfHidden) {
      const a = this.scene && this.scene.agents.get(String(name));
      if (!a || !a.present || this.following) return;
      const cam = this.scene.cameras.main;
      let covered = 0;
      const panel = document.getElementById("town-panel");
      if (panel && panel.offsetParent !== null && getComputedStyle(panel).position === "absolute") {
        const m = this.container.getBoundingClientRect(), p = panel.getBoundingClientRect();
        if (p.top > m.top && p.top < m.bottom) covered = m.bottom - p.top;
      }
      if (onlyIfHidden) {
        const v = cam.worldView;
        const margin = 24 / cam.zoom;
        const bottom = v.y + v.height - covered / cam.zoom;
        if (a.sprite.x > v.x + margin && a.sprite.x < v.x + v.width - margin &&
            a.sprite.y - 32 > v.y + margin && a.sprite.y < bottom - margin) return;
      }
      cam.centerOn(a.sprite.x, a.sprite.y - 16 + covered / 2 / cam.zoom);
    }

    zoomBy(f) { if (this.scene) this.scene.setZoomAt(this.scene.cameras.main.zoom * f); }
    fit() { if (this.scene) { this.follow(null); this.scene.fitWorld(); } }
    resize() {
      this.wake();
      // Read the parent's new size first: refresh() alone would size the canvas from the
      // old one and then record the new one, so Phaser's own check would miss it.
      if (this.game && this.game.scale) { this.game.scale.getParentBounds(); this.game.scale.refresh(); }
    }
  }

  // ------------------------------------------------------- shared page widgets
  /** The side panel's agent list: portrait, name, emoji + action; click selects. */
  function agentList(container, personas, onPick) {
    const items = new Map();
    const list = el("ul", { class: "agent-list" });
    for (const p of personas || []) {
      const status = el("span", { class: "agent-status" });
      const button = el("button", { type: "button", class: "agent-item", "aria-pressed": "false",
        onclick: () => onPick(p.name) },
      p.portrait ? el("img", { class: "agent-portrait", src: p.portrait, alt: "", width: 40, height: 40, loading: "lazy" })
        : el("span", { class: "agent-portrait" }),
      el("span", { class: "agent-text" }, el("span", { class: "agent-name", text: p.name }), status));
      items.set(p.name, { button, status, last: null });
      list.appendChild(el("li", null, button));
    }
    container.appendChild(list);
    return {
      update(frame) {
        const agents = (frame && frame.agents) || {};
        for (const [name, it] of items) {
          const d = agents[name];
          const text = d ? ((d.emoji ? d.emoji + " " : "") + shortAction(d.action, 60) + (d.chat ? " 💬" : "")).trim() : "";
          if (text !== it.last) { it.last = text; it.status.textContent = text; it.status.title = d ? String(d.action || "") : ""; }
        }
      },
      setSelected(name) {
        for (const [n, it] of items) {
          const on = n === name;
          it.button.setAttribute("aria-pressed", on ? "true" : "false");
          it.button.classList.toggle("selected", on);
          if (on && it.button.scrollIntoView) it.button.scrollIntoView({ block: "nearest" });
        }
      },
    };
  }

  /** The side panel toggle: collapsed by default below 700px wide. */
  function panelToggle(town) {
    const layout = document.getElementById("town-layout");
    const button = document.getElementById("panel-toggle");
    if (!layout || !button) return { open() {} };
    const set = (open) => {
      layout.classList.toggle("panel-collapsed", !open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.title = open ? t("hide_panel") : t("show_panel");
      if (town) setTimeout(() => town.resize(), 0);
    };
    set(!window.matchMedia("(max-width: 699px)").matches);
    button.addEventListener("click", () => set(layout.classList.contains("panel-collapsed")));
    return { open: () => set(true), close: () => set(false),
      isOpen: () => !layout.classList.contains("panel-collapsed") };
  }

  /* Playback of stored steps (replay and demo pages).
   * Speed levels 1..5 play 1x, 2x, 4x, 8x, 16x, where 1x is one step every 500 ms
   * (with the default 10 s steps: 20 game seconds per real second, a game hour in
   * 3 minutes; 16x shows a game day in about 4.5 minutes).
   * options: town, first, last, start, speed, frameAt(step) -> frame | null while not
   * loaded, need(step) (asked to load what comes next), onStep(frame), onState(). */
  const BASE_STEP_MS = 500;
  class Player {
    constructor(o) {
      this.o = o;
      this.first = o.first;
      this.last = o.last;
      this.step = clamp(o.start, o.first, o.last);
      this.level = clamp(Math.round(o.speed || 1), 1, 5);
      this.playing = false;
      this.buffering = false;
      this.shown = null;     // the step on screen
      this.wanted = null;    // a step waiting for its frame (seek/start)
      this.acc = 0;
      this.prevT = 0;
      this._tick = (ts) => this.tick(ts);
    }
    get stepMs() { return BASE_STEP_MS / 2 ** (this.level - 1); }
    setSpeed(level) { this.level = clamp(Math.round(level) || 1, 1, 5); this.emit(); }
    setLast(last) { if (typeof last === "number" && last > this.last) { this.last = last; this.emit(); } }
    emit() { if (this.o.onState) this.o.onState(this); }
    show(step, duration) {
      const f = this.o.frameAt(step);
      if (!f) { this.wanted = step; this.o.need(step); return false; }
      this.wanted = null;
      this.step = step;
      this.shown = step;
      this.o.town.setFrame(f, duration);
      if (this.o.onStep) this.o.onStep(f, this);
      return true;
    }
    seek(step) {
      step = clamp(Math.round(step), this.first, this.last);
      this.step = step;
      this.acc = 0;
      this.o.need(step);
      this.show(step, 0);
      this.emit();
    }
    play() {
      if (this.playing || this.last < this.first) return;
      if (this.step >= this.last) this.seek(clamp(this.o.start, this.first, this.last));
      this.playing = true;
      this.acc = 0;
      this.prevT = performance.now();
      requestAnimationFrame(this._tick);
      this.emit();
    }
    pause() { this.playing = false; this.buffering = false; this.emit(); }
    toggle() { if (this.playing) this.pause(); else this.play(); }
    /** Re-try a step that was waiting for data (call after a chunk arrives). */
    poke() { if (this.wanted !== null) this.show(this.wanted, 0); }
    tick(ts) {
      if (!this.playing) return;
      const dt = Math.min(1000, Math.max(0, ts - this.prevT));
      this.prevT = ts;
      this.acc += dt;
      const ms = this.stepMs;
      let buffering = false;
      if (this.wanted !== null) { this.poke(); if (this.wanted !== null) { buffering = true; this.acc = 0; } }
      let moves = 0;
      while (!buffering && this.acc >= ms && moves < 8) {
        if (this.step >= this.last) { this.pause(); return; }
        const next = this.step + 1;
        if (!this.o.frameAt(next)) { this.o.need(next); buffering = true; this.acc = ms; break; }
        this.acc -= ms;
        moves++;
        this.show(next, Math.min(ms, BASE_STEP_MS));
      }
      if (moves >= 8) this.acc = 0; // a long stall: do not race to catch up
      this.o.need(this.step + 1);
      if (buffering !== this.buffering) { this.buffering = buffering; this.emit(); }
      requestAnimationFrame(this._tick);
    }
  }

  /** The replay/demo side panel card of the selected agent, from the frame alone:
   * portrait, name, close + follow buttons, emoji + action, place, chat lines, and
   * optional extra nodes (links). */
  function frameAgentCard(node, town, name, data, extras) {
    if (!name) { node.hidden = true; node.replaceChildren(); node.cardKey = null; return; }
    const following = town.following === name;
    // Rebuilt only when something shown changes: during fast playback a card rebuilt
    // every step would swallow clicks on its buttons.
    const key = JSON.stringify([name, following, data ? [data.emoji, data.action, data.chat] : null]);
    if (node.cardKey === key && !node.hidden) return;
    node.cardKey = key;
    const p = ((town.boot && town.boot.personas) || []).find((x) => x.name === name) || { name };
    const parts = [
      el("div", { class: "persona-head" },
        p.portrait ? el("img", { src: p.portrait, alt: "", width: 56, height: 56 }) : null,
        el("h2", { text: name }),
        el("button", { type: "button", class: "button", "aria-label": t("close"), title: t("close"),
          onclick: () => town.select(null) }, "✕")),
      el("div", { class: "persona-actions" },
        el("button", { type: "button", class: "button", "aria-pressed": following ? "true" : "false",
          onclick: () => town.follow(following ? null : name) }, following ? t("unfollow") : t("follow")),
        extras || null),
    ];
    if (data) {
      const action = String(data.action || "");
      const at = action.indexOf(" @ ");
      parts.push(el("p", { class: "persona-now" },
        ((data.emoji ? data.emoji + " " : "") + (at >= 0 ? action.slice(0, at) : action)).trim(),
        at >= 0 ? el("span", { class: "where", text: action.slice(at + 3) }) : null));
      if (Array.isArray(data.chat) && data.chat.length) {
        parts.push(el("h3", { text: t("conversation") }));
        parts.push(el("ul", { class: "chat-log" }, data.chat.map((line) =>
          el("li", null, el("span", { class: "speaker", text: String(line[0]) + ":" }), String(line[1] ?? "")))));
      }
    } else {
      parts.push(el("p", { class: "panel-note", text: t("not_here") }));
    }
    node.replaceChildren(...parts);
    node.hidden = false;
  }

  function setText(id, text) {
    const node = typeof id === "string" ? document.getElementById(id) : id;
    if (node && node.textContent !== text) node.textContent = text;
  }

  window.SmallvilleTown = {
    readBoot, t, defaults, el, setText, clamp, formatTime, timeAt, shortAction, initialsOf, uniqueLabels, FONT,
    truncate, errorText, agentList, panelToggle, frameAgentCard, BASE_STEP_MS,
    player(options) { return new Player(options); },
    create(boot, options) { readBoot(); return new Town(boot || readBoot(), options); },
  };
})();
