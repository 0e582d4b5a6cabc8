/* Relaydesk chat widget, embed script. Paste into a page:
     <script src="https://your-hub.example/widget/chat/embed.js" async></script>
   It adds a launcher button; clicking it opens the chat (served by the hub) in an iframe.
   window.RelaydeskWidget = {channel, title} is prepended by the hub. */
(function () {
  "use strict";
  var options = window.RelaydeskWidget || {};
  var script = document.currentScript;
  if (!script || !options.channel) { return; }
  var base = new URL(script.src, window.location.href);
  var page = base.origin + "/widget/" + encodeURIComponent(options.channel);
  var open = false;
  var frame = null;

  var button = document.createElement("button");
  button.type = "button";
  button.id = "relaydesk-widget-launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-label", options.title || "Chat");
  button.textContent = options.title || "Chat";
  button.style.cssText = [
    "position:fixed", "right:20px", "bottom:20px", "z-index:2147483000",
    "padding:12px 18px", "border:0", "border-radius:24px", "background:#1f5fbf",
    "color:#fff", "font:600 15px system-ui,sans-serif", "cursor:pointer",
    "box-shadow:0 4px 14px rgba(0,0,0,.25)"
  ].join(";");

  function toggle() {
    open = !open;
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.id = "relaydesk-widget-frame";
      frame.title = options.title || "Chat";
      // The chat names the visitor by the page they wrote from until they give a name.
      frame.src = page + "#" + new URLSearchParams({
        page: window.location.href.slice(0, 2048), title: document.title.slice(0, 200)
      }).toString();
      frame.style.cssText = [
        "position:fixed", "right:20px", "bottom:80px", "z-index:2147483000",
        "width:min(380px,calc(100vw - 40px))", "height:min(560px,calc(100vh - 120px))",
        "border:0", "border-radius:12px", "background:#fff",
        "box-shadow:0 8px 30px rgba(0,0,0,.3)"
      ].join(";");
      document.body.appendChild(frame);
    }
    if (frame) { frame.style.display = open ? "block" : "none"; }
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", toggle);
  function mount() { document.body.appendChild(button); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
}());
