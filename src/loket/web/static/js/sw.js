// loket's service worker: push notifications, and the app shell for Mijn loket as an installed app.
// `SHELL` is put before this file by the server (loket/web/pwa.py): the cache's versioned name, the
// static files it may hold and the offline page in each language. Nothing else is ever cached: pages
// go to the network (the offline page stands in when it fails), API answers are never touched.

self.addEventListener("install", (event) => {
  // Without cookies, so no page in the cache can depend on who is logged in.
  const requests = [...SHELL.assets, ...Object.values(SHELL.offline)].map(
    (address) => new Request(address, { credentials: "omit" }),
  );
  event.waitUntil(
    caches
      .open(SHELL.cache)
      .then((cache) => cache.addAll(requests))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => names.filter((name) => name.startsWith("loket-") && name !== SHELL.cache))
      .then((old) => Promise.all(old.map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => offlinePage(url)));
  } else if (SHELL.assets.includes(url.pathname + url.search)) {
    event.respondWith(caches.match(request, { cacheName: SHELL.cache }).then((hit) => hit || fetch(request)));
  }
});

// The offline page in the language of the page asked for, else the browser's, else Dutch.
function offlinePage(url) {
  const wanted = [url.searchParams.get("lang"), ...self.navigator.languages.map((tag) => tag.slice(0, 2))];
  const language = wanted.find((code) => code in SHELL.offline) || "nl";
  return caches.match(SHELL.offline[language], { cacheName: SHELL.cache });
}

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
  // A dot on the app's icon, not a number: the push carries none (loket/messages/notify.py), and the
  // worker does not ask loket for the count. That request would come from no one at the screen yet
  // count as the person's: it would keep their login from timing out and write "viewed messages"
  // in their access log (and after the idle timeout there is no login to ask with). The inbox and
  // a message page set the exact count when the person opens them.
  const badge = "setAppBadge" in self.navigator ? self.navigator.setAppBadge().catch(() => {}) : null;
  event.waitUntil(
    Promise.all([self.registration.showNotification(title, { body, icon: "/static/favicon.svg", tag: "loket-inbox" }), badge]),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/mijn-berichten"));
});
