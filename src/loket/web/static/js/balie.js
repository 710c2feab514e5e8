// The console, live: a change to the queue or to the conversation (from any replica, through the
// backbone's events) reloads the page's main part, keeping what the agent is typing and where focus is.
const live = document.querySelector("[data-events]");
if (live && window.EventSource) {
  const source = new EventSource(live.dataset.events);
  source.addEventListener("handoff", refresh);
  source.addEventListener("message", refresh);
}

async function refresh() {
  const response = await fetch(location.href, { headers: { accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const selector of [".queue", ".talk", ".handoff-state", ".queue-status"]) {
    const now = document.querySelector(selector);
    const then = page.querySelector(selector);
    if (now && then && !now.contains(document.activeElement)) now.replaceWith(then);
  }
}
