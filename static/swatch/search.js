/* Swatch search page: image preview (pick, drop, paste, camera), progressive refinement and
   in-place paging. Everything here is an enhancement: without it the form posts as usual. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var form = document.getElementById("search-form");
  if (!form) return;
  var input = document.getElementById("id_image");
  var camera = document.getElementById("id_camera");
  var zone = document.getElementById("dropzone");
  var figure = zone.querySelector(".preview");
  var previewImg = document.getElementById("preview-img");
  var clearButton = zone.querySelector(".clear-image");
  var objectUrl = null;

  // The previous search's image travels inline in the page; a new image replaces it.
  function forgetPrevious() {
    ["id_image_data", "id_image_token"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.remove();
    });
  }

  function showPreview(file) {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    previewImg.src = objectUrl;
    previewImg.alt = "Your image " + (file.name || "") + " (not stored)";
    figure.hidden = false;
    clearButton.hidden = false;
    zone.classList.add("has-preview");
  }

  function useFile(file) {
    if (!file) return;
    var files = new DataTransfer();
    files.items.add(file);
    input.files = files.files;
    forgetPrevious();
    showPreview(file);
  }

  input.addEventListener("change", function () {
    if (input.files.length) { forgetPrevious(); showPreview(input.files[0]); }
  });
  if (camera) {
    camera.addEventListener("change", function () {
      if (camera.files.length) { useFile(camera.files[0]); camera.value = ""; }
    });
  }
  clearButton.addEventListener("click", function () {
    input.value = "";
    forgetPrevious();
    previewImg.removeAttribute("src");
    figure.hidden = true;
    clearButton.hidden = true;
    zone.classList.remove("has-preview");
  });

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("dragover");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragover"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) useFile(files[0]);
  });
  document.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.items) || [];
    for (var i = 0; i < items.length; i++) {
      if (items[i].kind === "file" && items[i].type.indexOf("image/") === 0) {
        useFile(items[i].getAsFile());
        event.preventDefault();
        return;
      }
    }
  });

  // On phones the filters start folded, so results come first.
  var filters = document.querySelector(".filters-box");
  var narrow = window.matchMedia("(max-width: 760px)");
  if (filters) {
    filters.open = !narrow.matches;
    narrow.addEventListener("change", function () { filters.open = !narrow.matches; });
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.querySelector("#results");
  }

  function fetchResults(queryId, page) {
    var url = "/search/results/?q=" + encodeURIComponent(queryId) + "&page=" + page;
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(fragment);
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  var polling = null;
  function refine() {
    var section = document.getElementById("results");
    if (!section || section.dataset.refinement !== "pending" || polling === section.dataset.queryId) return;
    var queryId = section.dataset.queryId;
    polling = queryId;
    var delay = 700;
    var deadline = Date.now() + 90000;
    (function step() {
      sleep(delay).then(function () {
        var current = document.getElementById("results");
        if (!current || current.dataset.queryId !== queryId) { polling = null; return null; }
        return fetchResults(queryId, current.dataset.page || 1).then(function (fresh) {
          if (!fresh) { polling = null; return; }
          if (fresh.dataset.refinement !== "pending" || Date.now() > deadline) {
            current.replaceWith(fresh);
            polling = null;
            wire();
            return;
          }
          delay = Math.min(delay * 1.4, 3000);
          step();
        });
      }).catch(function () { polling = null; });
    })();
  }

  function wire() {
    var section = document.getElementById("results");
    if (!section) return;
    section.querySelectorAll(".pagination a[data-page]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        section.classList.add("loading");
        section.setAttribute("aria-busy", "true");
        fetchResults(section.dataset.queryId, link.dataset.page).then(function (fresh) {
          if (!fresh) { window.location = link.href; return; }
          section.replaceWith(fresh);
          var heading = fresh.querySelector("h2");
          if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
          fresh.scrollIntoView({ block: "start" });
          wire();
        }).catch(function () { window.location = link.href; });
      });
    });
    refine();
  }
  wire();
})();
