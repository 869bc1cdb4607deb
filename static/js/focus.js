/*
 * Where the keyboard focus goes after htmx swaps part of a page in place.
 *
 * When the element that had the focus (the button just pressed, the field just sent) is
 * replaced, the browser drops the focus to <body>, and a keyboard or screen-reader user is
 * thrown back to the top of the page. So, when the focus was inside what htmx replaces:
 *   1. the first field with an error (aria-invalid) in the new content takes it;
 *   2. otherwise the changed row (the <tr>, <article> or <li> with an id that the request came
 *      from, found again by its id), unless the focus is already inside it;
 *   3. otherwise, if the focus was lost, the swapped region itself.
 * A swap that did not touch the focused element (a list refreshed while one types in its
 * search box, a filter changed), or when nothing had the focus, leaves the focus where it is.
 * A swap nobody asked for (the live dashboard's refresh: its triggering event is not one a
 * person made) only puts the focus back on the control at the same place in the new content.
 * A field whose errors are swapped without it (out of band, into a container marked
 * data-field-errors that its aria-describedby names) has its aria-invalid kept in step.
 * Loaded from base.html; no inline code (the Content-Security-Policy forbids it).
 */
(function () {
  "use strict";

  var ROW = "tr[id], article[id], li[id]";
  var CONTROLS = "a[href], button, input, select, textarea, summary";
  var pending = null;

  function controls(region) {
    return Array.prototype.slice.call(region.querySelectorAll(CONTROLS));
  }

  function focusable(el) {
    if (!el.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    return el;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var target = detail.target;
    if (!detail.shouldSwap || !target) return;
    var active = document.activeElement;
    if (!active || active === document.body || !target.contains(active)) {
      pending = null;
      return;
    }
    var config = detail.requestConfig || {};
    var source = config.elt;
    var row = source && source.closest ? source.closest(ROW) : null;
    if (row && !target.contains(row)) row = null;
    pending = {
      target: target,
      targetId: target.id || "",
      rowId: row ? row.id : "",
      byPerson: Boolean(config.triggeringEvent && config.triggeringEvent.isTrusted),
      place: controls(target).indexOf(active),
    };
  });

  function syncInvalid() {
    document.querySelectorAll("[data-field-errors][id]").forEach(function (box) {
      var fields = document.querySelectorAll('[aria-describedby~="' + box.id + '"]');
      var invalid = box.querySelector(".errorlist") !== null;
      fields.forEach(function (field) {
        if (invalid) field.setAttribute("aria-invalid", "true");
        else field.removeAttribute("aria-invalid");
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function () {
    syncInvalid();
    var state = pending;
    pending = null;
    if (!state) return;
    var region = state.target.isConnected
      ? state.target
      : state.targetId && document.getElementById(state.targetId);
    if (!region) return;
    var active = document.activeElement;
    var lost = !active || active === document.body;
    if (!state.byPerson) {
      var same = lost && state.place >= 0 ? controls(region)[state.place] : null;
      if (same) same.focus({ preventScroll: true });
      return;
    }
    var invalid = region.querySelector('[aria-invalid="true"]');
    if (invalid) {
      invalid.focus();
      return;
    }
    var row = state.rowId && document.getElementById(state.rowId);
    if (row) {
      if (!row.contains(active)) focusable(row).focus();
      return;
    }
    if (lost) focusable(region).focus();
  });
})();
