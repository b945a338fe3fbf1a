// Citation links [n] open the matching card in the sources panel; "copy" buttons copy a quote
// with its reference. Event delegation: the chat and the panel re-render on every reply.
(function () {
  function showSource(id) {
    var card = document.getElementById(id);
    if (!card) return false;
    document.querySelectorAll(".source.active").forEach(function (el) {
      el.classList.remove("active");
    });
    var details = card.closest("details");
    if (details) details.open = true;
    card.classList.add("active");
    card.scrollIntoView({ block: "nearest" });
    return true;
  }

  function copyText(text, button) {
    function done(ok) {
      var old = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", old);
      button.textContent = ok ? button.getAttribute("data-done") || "Copied" : "Copy failed";
      setTimeout(function () { button.textContent = old; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () {
        done(fallbackCopy(text));
      });
    } else {
      done(fallbackCopy(text));
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  // <html lang> follows the interface language, which the server writes on the care banner.
  // A new emergency alert is brought on screen: on a phone it may be below the fold.
  var shownAlert = null;
  function showAlert() {
    var alert = document.querySelector("#emergency-alert .emergency-alert");
    if (alert && alert !== shownAlert) {
      shownAlert = alert;
      alert.scrollIntoView({ block: "start" });
    }
  }

  function syncLang() {
    showAlert();
    var banner = document.querySelector("#care-banner [data-lang]");
    var lang = banner && banner.getAttribute("data-lang");
    if (lang && document.documentElement.lang !== lang) document.documentElement.lang = lang;
  }
  new MutationObserver(syncLang).observe(document.documentElement,
                                         { childList: true, subtree: true });

  document.addEventListener("click", function (event) {
    var cite = event.target.closest && event.target.closest("a.cite");
    if (cite) {
      var href = cite.getAttribute("href") || "";
      if (href.charAt(0) === "#") {
        event.preventDefault();
        event.stopPropagation();
        showSource(href.slice(1));
      }
      return;
    }
    var copy = event.target.closest && event.target.closest("button.copy-quote");
    if (copy) {
      event.preventDefault();
      copyText(copy.getAttribute("data-copy") || "", copy);
    }
  }, true);
})();
