// The dashboard's live numbers: every few seconds, while the tab is visible, ask htmx to
// refresh the [data-live] region (its hx-trigger is the custom "live-tick" event), and say
// how long ago the numbers came. A static file, not an inline script or an hx-trigger
// condition, because the Content-Security-Policy allows neither inline code nor eval.
(function () {
  "use strict";
  var received = Date.now();
  var timer = null;

  function region() {
    return document.querySelector("[data-live]");
  }

  function visible() {
    return document.visibilityState === "visible";
  }

  function showAge() {
    var status = document.querySelector("[data-live-age]");
    if (!status) return;
    var seconds = Math.max(0, Math.floor((Date.now() - received) / 1000));
    status.textContent = "Updated " + seconds + " s ago";
  }

  function schedule() {
    var live = region();
    window.clearTimeout(timer);
    timer = null;
    if (!live || !visible()) return; // Hidden: no timer, so no requests, until visible again.
    timer = window.setTimeout(tick, Number(live.dataset.liveEvery) || 5000);
  }

  function tick() {
    var live = region();
    if (live && visible() && window.htmx) window.htmx.trigger(live, "live-tick");
    schedule();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target === region()) {
      received = Date.now();
      showAge();
    }
  });
  document.addEventListener("visibilitychange", function () {
    // Back on the tab: the numbers may be old, refresh them at once.
    if (visible()) tick();
    else schedule();
  });
  window.setInterval(showAge, 1000);
  showAge();
  schedule();
})();
