/* Swatch search page. Everything here is an enhancement: without it the form posts as usual.
   - the image: pick, drop, paste or the phone's camera; previewed at once; a big photo is
     scaled down here before it is sent (the server's limits are on the form);
   - searches live in the address: a search without an image is a GET of its own address, an
     image search's page puts its address (?q=…&img=1) in the location bar, and paging and the
     browser's Back step through the pages of one answer;
   - filters apply as soon as they change; focus goes to the results after a search;
   - progressive refinement: the refined ranking is swapped in when the analysis is done;
   - a part of the image: a box drawn on it (pointer or keyboard) is sent as `crop`, fractions
     of the image, and the service searches only that part. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var FOCUS_KEY = "swatch-focus";
  var SCALED_SIDE = 2560; // long side of a photo scaled down before upload
  var SCALE_ABOVE_SIDE = 3000;

  var retry = document.getElementById("retry-form");
  if (retry) { document.getElementById("try-again").focus(); }

  var form = document.getElementById("search-form");
  if (!form) return;
  var input = document.getElementById("id_image");
  var camera = document.getElementById("id_camera");
  var zone = document.getElementById("dropzone");
  var figure = zone.querySelector(".preview");
  var previewImg = document.getElementById("preview-img");
  var clearButton = zone.querySelector(".clear-image");
  var maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
  var maxPixels = parseInt(form.dataset.maxPixels || "0", 10);
  var objectUrl = null;
  var preparing = null; // the promise of a photo being scaled down
  var selectPart = document.getElementById("select-part");
  var cropInput = document.getElementById("id_crop");

  // --- the image -------------------------------------------------------------------------
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
    selectPart.hidden = false;
    zone.classList.add("has-preview");
    document.dispatchEvent(new CustomEvent("swatch:image"));
  }

  function setFile(file) {
    var files = new DataTransfer();
    files.items.add(file);
    input.files = files.files;
  }

  function note(text) {
    var el = document.getElementById("scale-note");
    if (!el) {
      el = document.createElement("p");
      el.id = "scale-note";
      el.className = "help";
      el.setAttribute("role", "status");
      zone.querySelector(".pick").appendChild(el);
    }
    el.textContent = text;
  }

  // A photo too big to send as it is (bytes, pixels or sides) is drawn smaller on a canvas and
  // sent as a JPEG. Anything the browser cannot decode is sent as it is: the server says why.
  function scaledDown(file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var w = bitmap.width, h = bitmap.height;
      var tooBig = (maxBytes && file.size > maxBytes) || (maxPixels && w * h > maxPixels) ||
        Math.max(w, h) > SCALE_ABOVE_SIDE;
      if (!tooBig) { bitmap.close(); return file; }
      var scale = SCALED_SIDE / Math.max(w, h);
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(h * scale);
      var context = canvas.getContext("2d");
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          var smaller = new File([blob], name, { type: "image/jpeg" });
          input.dataset.originalSize = w + "x" + h;
          input.dataset.sentSize = canvas.width + "x" + canvas.height;
          note("Scaled down from " + w + " × " + h + " to " + canvas.width + " × " +
            canvas.height + " px in your browser before sending.");
          resolve(smaller);
        }, "image/jpeg", 0.9);
      });
    }).catch(function () { return file; });
  }

  function useFile(file, fromInput) {
    if (!file) return;
    forgetPrevious();
    setCrop(null);
    if (!fromInput) setFile(file);
    showPreview(file);
    preparing = scaledDown(file).then(function (ready) {
      if (ready !== file) { setFile(ready); showPreview(ready); }
      preparing = null;
    });
  }

  input.addEventListener("change", function () {
    if (input.files.length) useFile(input.files[0], true);
  });
  if (camera) {
    camera.addEventListener("change", function () {
      if (camera.files.length) { useFile(camera.files[0], false); camera.value = ""; }
    });
  }
  clearButton.addEventListener("click", function () {
    input.value = "";
    forgetPrevious();
    previewImg.removeAttribute("src");
    setCrop(null);
    figure.hidden = true;
    clearButton.hidden = true;
    selectPart.hidden = true;
    zone.classList.remove("has-preview");
    document.dispatchEvent(new CustomEvent("swatch:image"));
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
    if (files && files.length) useFile(files[0], false);
  });
  document.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.items) || [];
    for (var i = 0; i < items.length; i++) {
      if (items[i].kind === "file" && items[i].type.indexOf("image/") === 0) {
        useFile(items[i].getAsFile(), false);
        event.preventDefault();
        return;
      }
    }
  });

  // --- a part of the image: a box in fractions of it, drawn in a dialog -------------------
  var dialog = document.getElementById("crop-dialog");
  var stage = document.getElementById("crop-stage");
  var cropImg = document.getElementById("crop-img");
  var cropBox = document.getElementById("crop-box");
  var cropSize = document.getElementById("crop-size");
  var cropSearch = document.getElementById("crop-search");
  var mark = document.getElementById("crop-mark");
  var box = null; // {x, y, w, h}, fractions of the image, while the dialog is open
  var MIN_PART = 0.03; // a box narrower than this (3% of a side) is taken as a click, not a box
  var STEP = 0.02;

  function parseCrop(value) {
    var n = (value || "").split(",").map(parseFloat);
    if (n.length !== 4 || n.some(isNaN)) return null;
    return { x: n[0], y: n[1], w: n[2], h: n[3] };
  }

  function setCrop(part) {
    cropInput.value = part ? [part.x, part.y, part.w, part.h].map(function (v) {
      return Math.max(0, Math.min(1, v)).toFixed(4);
    }).join(",") : "";
    showMark();
  }

  // The box on the preview (a square that covers: object-fit cover).
  function showMark() {
    var part = parseCrop(cropInput.value);
    var note = document.getElementById("crop-note");
    var w = previewImg.naturalWidth, h = previewImg.naturalHeight;
    note.hidden = !part;
    if (!part || !w || !h) { mark.hidden = true; return; }
    var fw = previewImg.clientWidth, fh = previewImg.clientHeight;
    var scale = Math.max(fw / w, fh / h);
    var ox = (fw - w * scale) / 2, oy = (fh - h * scale) / 2;
    mark.style.left = ox + part.x * w * scale + "px";
    mark.style.top = oy + part.y * h * scale + "px";
    mark.style.width = part.w * w * scale + "px";
    mark.style.height = part.h * h * scale + "px";
    mark.hidden = false;
  }
  previewImg.addEventListener("load", showMark);

  function clamp(part) {
    var w = Math.min(1, Math.max(MIN_PART, part.w)), h = Math.min(1, Math.max(MIN_PART, part.h));
    return { x: Math.min(1 - w, Math.max(0, part.x)), y: Math.min(1 - h, Math.max(0, part.y)), w: w, h: h };
  }

  function drawBox() {
    cropBox.hidden = !box;
    cropSearch.disabled = !box;
    if (!box) { cropSize.textContent = "No box yet: the whole image would be searched."; return; }
    cropBox.style.left = box.x * 100 + "%";
    cropBox.style.top = box.y * 100 + "%";
    cropBox.style.width = box.w * 100 + "%";
    cropBox.style.height = box.h * 100 + "%";
    cropSize.textContent = "Box: " + Math.round(box.w * 100) + "% wide, " +
      Math.round(box.h * 100) + "% high, from " + Math.round(box.x * 100) + "% across and " +
      Math.round(box.y * 100) + "% down.";
  }

  function fitStage() {
    var w = cropImg.naturalWidth, h = cropImg.naturalHeight;
    if (!w || !h) return;
    var pad = parseFloat(getComputedStyle(dialog).paddingLeft) || 0;
    var room = dialog.clientWidth - 2 * pad - 12; // the focus ring stays inside the dialog
    var scale = Math.min(Math.min(900, room) / w, window.innerHeight * 0.58 / h);
    cropImg.style.width = Math.round(w * scale) + "px";
    cropImg.style.height = Math.round(h * scale) + "px";
  }

  selectPart.addEventListener("click", function () {
    box = parseCrop(cropInput.value);
    cropImg.onload = function () { fitStage(); drawBox(); };
    cropImg.src = previewImg.src;
    dialog.showModal();
    drawBox();
    stage.focus();
  });

  function at(event) {
    var r = cropImg.getBoundingClientRect();
    return {
      x: Math.max(0, Math.min(1, (event.clientX - r.left) / r.width)),
      y: Math.max(0, Math.min(1, (event.clientY - r.top) / r.height))
    };
  }
  var start = null;
  stage.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    event.preventDefault();
    start = at(event);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", function (event) {
    if (!start) return;
    var p = at(event);
    box = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y),
      w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
    drawBox();
  });
  stage.addEventListener("pointerup", function () {
    start = null;
    if (box && (box.w < MIN_PART || box.h < MIN_PART)) box = null;
    drawBox();
  });
  stage.addEventListener("keydown", function (event) {
    var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (event.key === "Enter" && box) { event.preventDefault(); cropSearch.click(); return; }
    var move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    if (!box) box = { x: 0.25, y: 0.25, w: 0.5, h: 0.5 };
    else if (event.shiftKey) box = clamp({ x: box.x, y: box.y, w: box.w + move[0] * STEP, h: box.h + move[1] * STEP });
    else box = clamp({ x: box.x + move[0] * STEP, y: box.y + move[1] * STEP, w: box.w, h: box.h });
    drawBox();
  });

  function searchWith(part) {
    setCrop(part);
    dialog.close();
    form.requestSubmit(document.getElementById("search-button"));
  }
  cropSearch.addEventListener("click", function () { if (box) searchWith(box); });
  document.getElementById("crop-whole").addEventListener("click", function () { searchWith(null); });
  document.getElementById("crop-cancel").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () { selectPart.focus(); });

  // --- searching: GET of the search's address unless an image goes with it ------------------
  function hasImage() {
    return input.files.length > 0 || !!document.getElementById("id_image_data");
  }

  var SKIPPED = { csrfmiddlewaretoken: 1, image: 1, camera: 1, image_data: 1, image_token: 1, crop: 1 };
  function addressOf(submitter) {
    var params = new URLSearchParams();
    new FormData(form, submitter || undefined).forEach(function (value, name) {
      if (SKIPPED[name] || value === "" || (name === "sort" && value === "name")) return;
      params.append(name, value);
    });
    var query = params.toString();
    return "/" + (query ? "?" + query : "");
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!sessionStorage.getItem(FOCUS_KEY)) sessionStorage.setItem(FOCUS_KEY, "results");
    if (preparing) {
      // Wait for the scaled-down photo, then send that.
      event.preventDefault();
      preparing.then(function () { form.requestSubmit(submitter || undefined); });
      return;
    }
    if (hasImage() || (submitter && submitter.name === "clear")) return; // posted
    event.preventDefault();
    window.location.assign(addressOf(submitter));
  });

  function applyFilters(control) {
    sessionStorage.setItem(FOCUS_KEY, control.id || "results");
    form.requestSubmit();
  }
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.closest(".filters") || target.id === "id_sort") applyFilters(target);
  });

  // On phones the filters start folded, so results come first.
  var filters = document.querySelector(".filters-box");
  var narrow = window.matchMedia("(max-width: 760px)");
  if (filters) {
    filters.open = !narrow.matches;
    narrow.addEventListener("change", function () { filters.open = !narrow.matches; });
  }

  // --- the address, and the image of an image search across Back and reloads ----------------
  var PREVIEW_KEY = "swatch-preview:";
  function rememberAddress() {
    var section = document.getElementById("results");
    var address = (section && section.dataset.address) || form.dataset.address;
    if (address && address !== location.pathname + location.search) {
      history.replaceState({ swatch: true }, "", address);
    }
    var data = document.getElementById("id_image_data");
    var token = document.getElementById("id_image_token");
    if (section && section.dataset.queryId && data && token) {
      try {
        sessionStorage.setItem(PREVIEW_KEY + section.dataset.queryId,
          JSON.stringify({ data: data.value, token: token.value, crop: cropInput.value }));
      } catch (e) { /* storage full: the image is simply not kept */ }
    }
  }

  function restorePreview() {
    var params = new URLSearchParams(location.search);
    if (!params.get("q") || !params.get("img") || document.getElementById("id_image_data")) return;
    var kept = sessionStorage.getItem(PREVIEW_KEY + params.get("q"));
    if (!kept) return;
    var saved = JSON.parse(kept);
    [["image_data", saved.data], ["image_token", saved.token]].forEach(function (pair) {
      var el = document.createElement("input");
      el.type = "hidden"; el.name = pair[0]; el.id = "id_" + pair[0]; el.value = pair[1];
      form.appendChild(el);
    });
    previewImg.src = saved.data;
    cropInput.value = saved.crop || "";
    figure.hidden = false;
    clearButton.hidden = false;
    selectPart.hidden = false;
    zone.classList.add("has-preview");
  }

  function restoreFocus() {
    var wanted = sessionStorage.getItem(FOCUS_KEY);
    sessionStorage.removeItem(FOCUS_KEY);
    if (!wanted) return;
    var target = wanted === "results" ? document.getElementById("results-heading")
      : document.getElementById(wanted);
    if (!target) target = document.getElementById("results-heading");
    if (target) target.focus();
  }

  // --- results: refinement, and paging in place with history --------------------------------
  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.querySelector("#results");
  }

  function partialUrl(address) {
    return "/search/results/" + (address.indexOf("?") >= 0 ? address.slice(address.indexOf("?")) : "");
  }

  function fetchResults(address) {
    return fetch(partialUrl(address), { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
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
        return fetchResults(current.dataset.address || "?q=" + queryId).then(function (fresh) {
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

  function showPage(address, push) {
    var section = document.getElementById("results");
    section.classList.add("loading");
    section.setAttribute("aria-busy", "true");
    return fetchResults(address).then(function (fresh) {
      if (!fresh) { window.location = address; return; }
      section.replaceWith(fresh);
      if (push) history.pushState({ swatch: true }, "", address);
      var heading = document.getElementById("results-heading");
      if (heading) heading.focus();
      fresh.scrollIntoView({ block: "start" });
      wire();
    }).catch(function () { window.location = address; });
  }

  function wire() {
    var section = document.getElementById("results");
    if (!section) return;
    if (section.dataset.queryId) {
      section.querySelectorAll(".pagination a[data-page]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          showPage(link.getAttribute("href"), true);
        });
      });
    }
    refine();
  }

  window.addEventListener("popstate", function () {
    var section = document.getElementById("results");
    var q = new URLSearchParams(location.search).get("q");
    if (section && q && section.dataset.queryId === q) {
      showPage(location.pathname + location.search, false);
    } else {
      window.location.reload();
    }
  });

  restorePreview();
  showMark();
  rememberAddress();
  wire();
  restoreFocus();
})();
