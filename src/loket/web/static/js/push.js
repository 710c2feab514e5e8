// Push notifications on this device, offered on the inbox page once the browser can do them.
// The subscription goes to loket with the session cookie, as JSON (no form can forge that).
const section = document.getElementById("push");
const button = document.getElementById("push-on");
const status = document.getElementById("push-status");

function say(kind) {
  status.textContent = status.dataset[kind];
}

function key(base64url) {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function subscribe() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return say("refused");
  const registration = await navigator.serviceWorker.register("/sw.js");
  await navigator.serviceWorker.ready;
  const subscription =
    (await registration.pushManager.getSubscription()) ||
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(section.dataset.key) }));
  // The page's language: the notification's fixed sentence is said in it.
  const response = await fetch(`/api/v1/me/push-subscriptions?lang=${document.documentElement.lang}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(subscription.toJSON()),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  say("on");
  button.hidden = true;
}

if ("serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
  section.hidden = false;
  if (Notification.permission === "denied") say("refused");
  button.addEventListener("click", () => subscribe().catch(() => say("failed")));
}
