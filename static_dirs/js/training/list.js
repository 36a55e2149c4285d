// /training/: while any run is queued or running, ask /training/runs.json every few
// seconds and write each row's status and progress in place. A run that ends (or a run
// that is new) reloads the page for its metrics and chart, unless someone is typing in
// the form, whose input a reload would lose; the reload then waits for the next poll.
(function () {
  "use strict";
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const strings = boot.strings || {};
  const LIVE = new Set(["queued", "running"]);
  const PERIOD_MS = 4000;
  let reload = false; // kept until it can happen (not while someone types in the form)

  function rows() {
    const found = new Map();
    document.querySelectorAll("#runs tr[data-run]").forEach((tr) => found.set(Number(tr.dataset.run), tr));
    return found;
  }

  function anyLive(map) {
    for (const tr of map.values()) if (LIVE.has(tr.dataset.status)) return true;
    return false;
  }

  function typing() {
    const active = document.activeElement;
    return Boolean(active && active.closest && active.closest("#start-eval"));
  }

  function write(tr, run) {
    const badge = tr.querySelector(".badge");
    if (badge) {
      badge.className = "badge status-" + run.status;
      badge.textContent = strings[run.status] || run.status;
    }
    const bar = tr.querySelector("progress");
    if (bar) {
      bar.max = run.total;
      bar.value = run.finished_items;
      bar.textContent = run.finished_items + "/" + run.total;
    }
    const count = tr.querySelector(".progress-cell .num");
    if (count) count.textContent = run.finished_items + "/" + run.total;
    tr.dataset.status = run.status;
  }

  async function poll() {
    const map = rows();
    if (!anyLive(map) && !reload) return; // nothing plays: stop asking
    if (document.visibilityState === "visible") {
      try {
        const response = await fetch(boot.runs_url, { headers: { Accept: "application/json" } });
        if (response.ok) {
          const data = await response.json();
          for (const run of data.runs) {
            const tr = map.get(run.id);
            if (!tr) {
              reload = true; // a run started elsewhere
              continue;
            }
            const was = tr.dataset.status;
            write(tr, run);
            if (LIVE.has(was) && !LIVE.has(run.status)) reload = true; // ended: metrics and chart
          }
        }
      } catch (err) {
        // Offline for a moment: the next poll tries again.
      }
      if (reload && !typing()) {
        window.location.reload();
        return;
      }
    }
    window.setTimeout(poll, PERIOD_MS);
  }

  window.setTimeout(poll, PERIOD_MS);
})();
