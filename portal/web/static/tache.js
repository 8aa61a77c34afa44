// Follows a running import job without reloading the page every few seconds (a timed reload fails
// WCAG 2.2.1 / RGAA 13.1): every 3 s, fetch this same page and update the progress bar, the
// status line (role=status, announced politely) and the title in place; once the job has ended,
// load the page once to show its outcome. Without JavaScript, « Actualiser maintenant » does it.
(function () {
  "use strict";
  var RUNNING = "en cours";
  var section = document.getElementById("tache");
  if (!section || section.getAttribute("data-etat") !== RUNNING) {
    return;
  }

  function update(next) {
    var bar = document.getElementById("avancement");
    var nextBar = next.getElementById("avancement");
    if (bar && nextBar && nextBar.hasAttribute("max")) {
      bar.max = nextBar.max;
      bar.value = nextBar.value;
      bar.textContent = nextBar.textContent;
    }
    var steps = document.getElementById("etapes");
    var nextSteps = next.getElementById("etapes");
    if (steps && nextSteps && steps.textContent !== nextSteps.textContent) {
      steps.textContent = nextSteps.textContent;
    }
    document.title = next.title;
  }

  function poll() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(new Error(String(response.status)));
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var nextSection = next.getElementById("tache");
        if (!nextSection || nextSection.getAttribute("data-etat") !== RUNNING) {
          window.location.reload();
          return;
        }
        update(next);
        window.setTimeout(poll, 3000);
      })
      .catch(function () {
        // the portal or the network hiccuped: try again, less often
        window.setTimeout(poll, 10000);
      });
  }

  window.setTimeout(poll, 3000);
})();
