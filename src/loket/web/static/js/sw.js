// loket's service worker: shows a push notification and opens the inbox when it is tapped.
// A notification carries only the sender's name and a fixed sentence; the inbox is the only place a
// message is read, so tapping always opens loket's own inbox, never an address from the payload.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.sender === "string" ? data.sender : "loket";
  const body = typeof data.text === "string" ? data.text : "";
  event.waitUntil(self.registration.showNotification(title, { body, icon: "/static/favicon.svg", tag: "loket-inbox" }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/mijn-berichten"));
});
