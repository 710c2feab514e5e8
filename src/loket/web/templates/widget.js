/* loket widget loader: <script src="https://LOKET/widget.js" data-lang="fr" data-audience="business"
   data-color="#0b4f9c" async></script>. Works under a strict CSP on the host page: no inline script
   or style, styles are set through the CSSOM. The chat itself runs in an iframe from loket. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.URL) return;
  var labels = {{ labels|tojson }};
  var origin = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var wanted = [data.lang, document.documentElement.lang, navigator.language];
  var lang = "nl";
  for (var i = 0; i < wanted.length; i++) {
    var code = (wanted[i] || "").slice(0, 2).toLowerCase();
    if (labels[code]) { lang = code; break; }
  }
  var text = labels[lang];
  var colour = /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(data.color || "") ? data.color : "#0b4f9c";

  function readable(hex) {
    var h = hex.length === 4 ? hex.replace(/[0-9a-fA-F]/g, function (c) { return c + c; }) : hex;
    var l = [1, 3, 5].map(function (p) {
      var v = parseInt(h.substr(p, 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    var y = 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    return (y + 0.05) / 0.05 > 1.05 / (y + 0.05) ? "#000000" : "#ffffff";
  }

  var host = document.createElement("div");
  host.setAttribute("data-loket-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = text.open;
  button.setAttribute("aria-expanded", "false");
  Object.assign(button.style, {
    position: "fixed", insetInlineEnd: "1rem", insetBlockEnd: "1rem", zIndex: "2147483000",
    font: "600 1rem/1.2 system-ui, sans-serif", padding: "0.85rem 1.2rem", minHeight: "44px",
    border: "2px solid " + readable(colour), borderRadius: "2rem", cursor: "pointer",
    background: colour, color: readable(colour), boxShadow: "0 2px 8px rgba(0,0,0,.3)"
  });
  var frame = null;
  // Browsers may deny a third-party frame its storage, so the host page keeps the conversation's id
  // and its token (which opens it: the conversation was held on this page, so this page holds it).
  var KEY = "loket:widget-conversation";
  var TOKEN = "loket:widget-conversation-token";

  function keep(id, token) {
    try {
      if (id) sessionStorage.setItem(KEY, id); else sessionStorage.removeItem(KEY);
      if (id && token) sessionStorage.setItem(TOKEN, token); else if (!id) sessionStorage.removeItem(TOKEN);
    } catch (e) { /* storage blocked: the conversation lasts as long as the page */ }
  }

  function kept(key) {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }

  function place() {
    var phone = window.innerWidth < 600;
    Object.assign(frame.style, phone
      ? { inset: "0", width: "100%", height: "100%", borderRadius: "0" }
      : { insetInlineEnd: "1rem", insetBlockEnd: "5rem", width: "24rem", height: "min(40rem, 80vh)", borderRadius: "0.5rem" });
  }

  function open() {
    if (!frame) {
      var params = new URLSearchParams({ lang: lang, color: colour });
      if (data.audience) params.set("audience", data.audience);
      frame = document.createElement("iframe");
      frame.src = origin + "/widget?" + params.toString();
      frame.title = text.title;
      frame.id = "loket-widget-frame";
      frame.addEventListener("load", function () {
        var id = kept(KEY);
        if (id) frame.contentWindow.postMessage({ type: "loket:resume", id: id, token: kept(TOKEN) }, origin);
      });
      Object.assign(frame.style, {
        position: "fixed", zIndex: "2147483001", border: "1px solid #767676", background: "#fff",
        boxShadow: "0 4px 24px rgba(0,0,0,.35)"
      });
      root.appendChild(frame);
    }
    place();
    frame.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.hidden = window.innerWidth < 600;
    frame.focus();
    frame.contentWindow && frame.contentWindow.postMessage("loket:focus", origin);
  }

  function close() {
    if (!frame) return;
    frame.hidden = true;
    button.hidden = false;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    if (frame && !frame.hidden) close(); else open();
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    if (event.data === "loket:close") close();
    else if (event.data && event.data.type === "loket:conversation") keep(event.data.id, event.data.token);
  });
  window.addEventListener("resize", function () { if (frame && !frame.hidden) place(); });
  root.appendChild(button);
  (document.body || document.documentElement).appendChild(host);
})();
