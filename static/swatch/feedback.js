/* Votes on result cards ("Good match" / "Not what I meant") sent in the background: the card
   stays where it is and says the vote was kept. The buttons sit in the search form and post it
   to the feedback address without this script. Delegated from the document: the results
   section is replaced when the refined ranking arrives. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.vote") : null;
    if (!button || !window.fetch) return;
    event.preventDefault();
    var group = button.closest(".feedback");
    var status = group.querySelector(".vote-status");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new FormData();
    body.append("vote", button.value);
    if (token) body.append("csrfmiddlewaretoken", token.value);
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      body: body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) {
        status.textContent = (result.data.error && result.data.error.message) || "Not saved.";
        return;
      }
      group.querySelectorAll("button.vote").forEach(function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      group.dataset.voted = result.data.kind;
      status.textContent = "Thanks, noted.";
    }).catch(function () { status.textContent = "Not saved; try again."; });
  });
})();
