// The contacts list: "All" ticks or clears every row's checkbox of the bulk form on this
// page. Delegated from the document, so it keeps working after htmx swaps the list.
document.addEventListener("change", function (event) {
  var all = event.target;
  if (!all.matches || !all.matches("input[data-select-all]")) return;
  var form = all.getAttribute("data-select-all");
  document.querySelectorAll('input[type="checkbox"][form="' + form + '"]').forEach(function (box) {
    box.checked = all.checked;
  });
});
