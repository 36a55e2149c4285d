// Behaviour every page shares, here rather than in inline handlers (the
// Content-Security-Policy allows no inline script). Every form still works without JS.
(function () {
  "use strict";

  // The site menu on narrow screens (base.html): the button shows and hides the nav.
  // Without JS the button stays hidden and the nav is shown as it is (it wraps).
  function initMenu() {
    const toggle = document.getElementById("nav-toggle");
    const nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    const header = toggle.closest(".site-header") || toggle.parentElement;
    header.classList.add("has-menu");
    toggle.hidden = false;
    const isOpen = function () {
      return toggle.getAttribute("aria-expanded") === "true";
    };
    const setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    };
    toggle.addEventListener("click", function () {
      setOpen(!isOpen());
    });
    // Escape closes it and gives the focus back to the button.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && isOpen()) {
        setOpen(false);
        toggle.focus();
      }
    });
    // A click or the focus (Tab past the last item) leaving the header closes it.
    document.addEventListener("click", function (event) {
      if (isOpen() && !header.contains(event.target)) setOpen(false);
    });
    header.addEventListener("focusout", function (event) {
      if (isOpen() && event.relatedTarget && !header.contains(event.relatedTarget)) setOpen(false);
    });
    // Widening the window past the breakpoint shows the nav in line again: start closed.
    const wide = window.matchMedia("(min-width: 700px)");
    const onWide = function () {
      if (wide.matches) setOpen(false);
    };
    if (wide.addEventListener) wide.addEventListener("change", onWide);
  }

  function init() {
    initMenu();
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
