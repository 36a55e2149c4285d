// Behaviour every page shares, here rather than in inline handlers (the
// Content-Security-Policy allows no inline script). Every form still works without JS.
(function () {
  "use strict";

  function init() {
    // <select data-autosubmit>: choosing an option submits its form (language, log filter).
    for (const select of document.querySelectorAll("select[data-autosubmit]")) {
      select.addEventListener("change", function () {
        select.form.submit();
      });
    }
    // <form data-confirm="question">: asks before submitting (delete).
    for (const form of document.querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
    // The persona state page: filter the memory rows already on the page as the user types.
    const input = document.getElementById("memory-q");
    if (input) {
      const rows = Array.from(document.querySelectorAll("#memory-table tr.memory"));
      input.addEventListener("input", function () {
        const q = input.value.trim().toLowerCase();
        for (const row of rows) row.hidden = q !== "" && !row.textContent.toLowerCase().includes(q);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
