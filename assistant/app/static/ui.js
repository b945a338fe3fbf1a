// Citation links [n] open the matching card in the sources panel; on a phone (< 640 px) the
// card opens under the reply instead, since the panel is far below. "copy" buttons copy a quote
// with its reference. Event delegation: the chat and the panel re-render on every reply.
(function () {
  var NARROW = window.matchMedia("(max-width: 639.98px)");
  // The page has no channel from strings.yaml to this script; these follow <html lang>.
  var TEXT = {
    en: { close: "Close", back: "Back to the reply" },
    fr: { close: "Fermer", back: "Retour à la réponse" }
  };
  var inline = null;    // the card open under a reply: {box, row, cite, id}
  var returnTo = null;  // the [n] a keyboard user opened a panel card from: {cite, id}

  function say(key) {
    return (TEXT[document.documentElement.lang] || TEXT.en)[key];
  }

  function highlight(card) {
    document.querySelectorAll(".source.active").forEach(function (el) {
      el.classList.remove("active");
    });
    var details = card.closest("details");
    if (details) details.open = true;
    card.classList.add("active");
  }

  function backButton(label) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "src-back";
    button.textContent = label;
    return button;
  }

  // The reply's [n] again: Gradio may have re-rendered the message since it was opened.
  function focusCite(cite, id) {
    if (!cite || !cite.isConnected) {
      cite = document.querySelector('#chat a.cite[href="#' + id + '"]');
    }
    if (cite) cite.focus();
  }

  // Wide screens: the card in the panel, as always; a keyboard user is taken to it, with a
  // way back to the reply.
  function showSource(id, cite, byKeyboard) {
    var card = document.getElementById(id);
    if (!card) return false;
    highlight(card);
    card.scrollIntoView({ block: "nearest" });
    if (byKeyboard) {
      document.querySelectorAll(".source > .src-back").forEach(function (b) { b.remove(); });
      card.insertBefore(backButton(say("back")), card.firstChild);
      card.tabIndex = -1;
      card.focus({ preventScroll: true });
      returnTo = { cite: cite, id: id };
    }
    return true;
  }

  function backToReply(button) {
    var target = returnTo;
    returnTo = null;
    if (button) button.remove();
    if (target) focusCite(target.cite, target.id);
  }

  // Narrow screens: a copy of the panel's card right after the reply (and its buttons).
  function openInline(id, cite) {
    var card = document.getElementById(id);
    var row = cite.closest(".message-row");
    if (!card || !row) return false;
    var again = inline && inline.id === id && inline.box.isConnected;
    closeInline(false);
    if (again) return true;  // a second tap on the same [n] folds its card away
    highlight(card);
    var clone = card.cloneNode(true);
    clone.removeAttribute("id");
    clone.classList.remove("active");
    clone.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
    clone.querySelectorAll(".src-back").forEach(function (el) { el.remove(); });
    clone.querySelectorAll("details").forEach(function (d) {
      if (d.querySelector("mark.quote")) d.open = true;  // the quote is what was asked for
    });
    var box = document.createElement("section");
    box.className = "src-inline";
    box.id = "inline-" + id;
    box.tabIndex = -1;
    var head = card.querySelector(".src-head");
    box.setAttribute("aria-label", head ? head.textContent : cite.textContent);
    box.appendChild(backButton(say("close")));
    box.appendChild(clone);
    var next = row.nextElementSibling;
    var after = next && next.classList.contains("message-buttons") ? next : row;
    after.insertAdjacentElement("afterend", box);
    cite.setAttribute("aria-expanded", "true");
    cite.setAttribute("aria-controls", box.id);
    inline = { box: box, row: row, cite: cite, id: id };
    box.scrollIntoView({ block: "nearest" });
    showQuote(clone);
    box.focus({ preventScroll: true });
    return true;
  }

  // The inline card's surrounding text is a short scroll box (ui.css) started at the quote, so
  // the quote and the Close button are on screen together.
  function showQuote(card) {
    var context = card.querySelector(".src-context");
    var mark = context && context.querySelector("mark.quote");
    if (!mark || context.scrollHeight <= context.clientHeight) return;
    context.tabIndex = 0;  // a scroll box must be reachable from the keyboard
    context.scrollTop = Math.max(0, mark.offsetTop - 8);
  }

  function closeInline(giveFocusBack) {
    if (!inline) return;
    var open = inline;
    inline = null;
    open.box.remove();
    open.cite.setAttribute("aria-expanded", "false");
    if (giveFocusBack) focusCite(open.cite, open.id);
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
    // A new conversation removes the reply an open card belongs to: the card goes with it.
    if (inline && !inline.row.isConnected) closeInline(false);
    var banner = document.querySelector("#care-banner [data-lang]");
    var lang = banner && banner.getAttribute("data-lang");
    if (lang && document.documentElement.lang !== lang) document.documentElement.lang = lang;
  }
  new MutationObserver(syncLang).observe(document.documentElement,
                                         { childList: true, subtree: true });

  function onCite(cite, event) {
    var href = cite.getAttribute("href") || "";
    if (href.charAt(0) !== "#") return;
    event.preventDefault();
    event.stopPropagation();
    var id = href.slice(1);
    // detail is 0 for a click made with Enter on a focused link, not with a pointer.
    if (!(NARROW.matches && openInline(id, cite))) showSource(id, cite, event.detail === 0);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target) return;
    var cite = target.closest("a.cite");
    if (cite) {
      onCite(cite, event);
      return;
    }
    var back = target.closest("button.src-back");
    if (back) {
      event.preventDefault();
      if (back.closest(".src-inline")) closeInline(true);
      else backToReply(back);
      return;
    }
    var copy = target.closest("button.copy-quote");
    if (copy) {
      event.preventDefault();
      copyText(copy.getAttribute("data-copy") || "", copy);
    }
  }, true);

  // Escape leaves a card the way its button does.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    if (inline && event.target.closest(".src-inline")) {
      closeInline(true);
    } else if (returnTo && event.target.closest(".source")) {
      backToReply(event.target.closest(".source").querySelector(".src-back"));
    }
  });
})();
