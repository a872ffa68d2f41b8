/* The curator's review page: keyboard shortcuts (listed on the page), the runner-up types as
   one-click choices, and a confirmation before edits would be thrown away. */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var dirty = false;
  function edited(event) {
    // The "replace the curated description" box and the re-run options are part of the
    // re-run, not an edit.
    if (event.target.id === "id_overwrite_curated") return;
    if (event.target.closest("#rerun-options")) return;
    dirty = true;
  }
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);

  function discards(el) {
    return el && el.hasAttribute("data-discards") && dirty &&
      !window.confirm("Your edits in the form are not saved and would be lost. Go on?");
  }
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-discards]");
    if (discards(el)) event.preventDefault();
  }, true);

  document.querySelectorAll(".runner-up[data-type]").forEach(function (button) {
    button.addEventListener("click", function () {
      var select = document.getElementById("id_material_type");
      select.value = button.dataset.type;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      select.focus();
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (target.closest("input, select, textarea, [contenteditable]")) return;
    var el = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
    if (!el) return;
    event.preventDefault();
    if (discards(el)) return;
    if (el.tagName === "A") { window.location = el.href; return; }
    dirty = false;
    form.requestSubmit(el);
  });
  form.addEventListener("submit", function () { dirty = false; });
})();
