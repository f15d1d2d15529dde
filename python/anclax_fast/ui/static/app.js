// anclax-fast dashboard: live updates over server-sent events, and row selection.
// Hand-written and dependency-free; the pages work without it (they are complete HTML).
"use strict";

(function () {
  const live = document.querySelector("[data-live][data-live-src]");
  const state = document.querySelector("[data-live-state]");

  // A person selecting rows or reading an open traceback must not have the page change under them.
  function busy(region) {
    return region.querySelector("input[data-select]:checked") !== null;
  }

  function swap(region, html) {
    const open = Array.from(region.querySelectorAll("details[open][id]"), (d) => d.id);
    region.innerHTML = html;
    for (const id of open) {
      const details = document.getElementById(id);
      if (details) details.open = true;
    }
    bindSelection(region);
  }

  function bindSelection(scope) {
    const all = scope.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", () => {
        for (const box of scope.querySelectorAll("input[data-select]")) box.checked = all.checked;
      });
    }
  }

  bindSelection(document);

  if (live && window.EventSource) {
    let pending = null;
    const source = new EventSource(live.dataset.liveSrc);
    source.addEventListener("open", () => {
      if (state) {
        state.hidden = false;
        state.classList.remove("offline");
        state.textContent = "live";
      }
    });
    source.addEventListener("error", () => {
      if (state) {
        state.classList.add("offline");
        state.textContent = "reconnecting";
      }
    });
    source.addEventListener("update", (event) => {
      if (busy(live)) {
        pending = event.data;
        if (state) state.textContent = "paused while rows are selected";
        return;
      }
      pending = null;
      swap(live, event.data);
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || "0") + 1);
    });
    live.addEventListener("change", () => {
      if (pending !== null && !busy(live)) {
        swap(live, pending);
        pending = null;
        if (state) state.textContent = "live";
      }
    });
  }
})();
