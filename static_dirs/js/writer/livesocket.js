/*
 * One JSON websocket that stays open, shared by the co-writing and reader pages.
 *
 *   const live = openLiveSocket("/ws/writer/7/", {
 *     onMessage(msg) {},   // every JSON object the server sends ("pong" included)
 *     onState(kind) {},    // "connecting" (first try), "connected", "offline" (lost; retrying), "gone" (4404)
 *     onDrop() {},         // the link was lost (commands in flight get no answer)
 *   });
 *   live.send({ type: "write", plan }) -> false when not connected
 *
 * Reconnects with capped exponential backoff and jitter (1 s .. 30 s), at once when the
 * browser comes back online or the tab is shown again; pings every 25 s and treats
 * a link silent for more than two pings as dead. A 4404 close (no such project, or
 * not yours) is final: no reconnect.
 */
(function () {
  "use strict";

  window.openLiveSocket = function (path, handlers, options) {
    const pingMs = (options && options.pingMs) || 25000;
    const on = handlers || {};
    let ws = null, attempts = 0, connectedOnce = false, reconnectTimer = null, pingTimer = null;
    let lastMsgAt = 0, gone = false;

    function url() {
      if (/^wss?:/.test(path)) return path;
      return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
    }

    function state(kind) { if (on.onState) on.onState(kind); }

    function connect() {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      if (gone) return;
      state(connectedOnce ? "offline" : "connecting");
      let sock;
      try { sock = new WebSocket(url()); } catch (e) { scheduleReconnect(); return; }
      ws = sock;
      sock.onopen = () => {
        attempts = 0;
        lastMsgAt = Date.now();
        connectedOnce = true;
        state("connected");
        clearInterval(pingTimer);
        pingTimer = setInterval(keepalive, pingMs);
      };
      sock.onmessage = (ev) => {
        lastMsgAt = Date.now();
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        if (msg && typeof msg === "object" && on.onMessage) on.onMessage(msg);
      };
      sock.onclose = (ev) => {
        if (ws !== sock) return;
        if (ev.code === 4404) {
          gone = true;
          ws = null;
          clearInterval(pingTimer);
          state("gone");
          return;
        }
        dropped();
      };
      sock.onerror = () => { /* onclose follows */ };
    }

    function dropped() {
      clearInterval(pingTimer);
      pingTimer = null;
      if (ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; try { ws.close(); } catch (e) { /* closed */ } }
      ws = null;
      if (on.onDrop) on.onDrop();
      state("offline");
      scheduleReconnect();
    }

    function scheduleReconnect() {
      if (reconnectTimer || gone) return;
      const delay = Math.min(30000, 1000 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      attempts = Math.min(attempts + 1, 6);
      reconnectTimer = setTimeout(connect, delay);
    }

    function keepalive() {
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - lastMsgAt > 2 * pingMs + 10000) { dropped(); return; } // no pong: the link is dead
      ws.send(JSON.stringify({ type: "ping" }));
    }

    function send(msg) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(msg));
      return true;
    }

    window.addEventListener("online", () => { if (!ws && !gone) { attempts = 0; connect(); } });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !ws && !gone) { attempts = 0; connect(); }
    });

    connect();
    return { send, isOpen: () => !!ws && ws.readyState === WebSocket.OPEN };
  };
})();
