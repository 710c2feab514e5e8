// Mijn loket as an app: the service worker (offline page, cached static files, push), a polite
// install button and the number of unread messages on the app's icon.
// The install button is offered in the header, never as a dialog, and only to someone who has logged
// in or used the chat; "No, thanks" hides it on this device for good.
const DISMISSED = "loket:install-dismissed";
const offer = document.getElementById("install");
let installer = null; // the browser's deferred install prompt
let chatted = false;

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});

function engaged() {
  return offer.dataset.signedIn === "1" || chatted || sessionStorage.getItem("loket:conversation") !== null;
}

function show() {
  offer.hidden = !(installer && engaged() && localStorage.getItem(DISMISSED) === null);
}

if (offer) {
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installer = event;
    show();
  });
  window.addEventListener("appinstalled", () => {
    installer = null;
    show();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches(".chat form.ask")) {
      chatted = true;
      show();
    }
  });
  document.getElementById("install-app").addEventListener("click", async () => {
    const prompt = installer;
    installer = null;
    show();
    await prompt.prompt();
    if ((await prompt.userChoice).outcome === "dismissed") localStorage.setItem(DISMISSED, "1");
  });
  document.getElementById("install-dismiss").addEventListener("click", () => {
    localStorage.setItem(DISMISSED, "1");
    show();
  });
}

// The number of unread messages on the app's icon: the inbox and a message just read know it (of the
// profile one acts in); other pages leave the badge as it is. A push only draws a dot (sw.js says
// why). Logging out clears it: the count belongs to a login, and the device may be shared.
if ("setAppBadge" in navigator) {
  const unread = document.querySelector("[data-unread]");
  if (unread) {
    const count = Number(unread.dataset.unread);
    (count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge()).catch(() => {});
  }
  document.addEventListener("submit", (event) => {
    if (event.target.matches('form[action="/auth/logout"], form[action^="/auth/logout?"]')) navigator.clearAppBadge().catch(() => {});
  });
}
