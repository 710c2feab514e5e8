// Passkeys (WebAuthn): add one on /mijn-profiel, open loket with it on the login page.
// The server makes the options and checks the answers (loket.identity.passkeys); this file only
// converts between JSON and the browser's binary fields. A flag in localStorage remembers that this
// device holds a passkey, so the login page offers it only then.
(function () {
  "use strict";
  var FLAG = "loket.passkey";

  function toBytes(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(binary, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function toText(buffer) {
    var binary = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) return data;
        var refused = new Error((data.error && data.error.message) || response.statusText);
        refused.fromLoket = true;
        throw refused;
      });
    });
  }

  function credentialJson(credential) {
    var response = credential.response;
    var fields = { clientDataJSON: toText(response.clientDataJSON) };
    if (response.attestationObject) {
      fields.attestationObject = toText(response.attestationObject);
      fields.transports = response.getTransports ? response.getTransports() : [];
    } else {
      fields.authenticatorData = toText(response.authenticatorData);
      fields.signature = toText(response.signature);
      if (response.userHandle) fields.userHandle = toText(response.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: fields,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment,
    };
  }

  // loket's refusals say why; the device's own (cancelled, no passkey) get the page's plain text.
  function failed(element, status, error) {
    status.textContent = error.fromLoket ? error.message : element.dataset.failed;
  }

  function register(form, status) {
    status.textContent = "";
    post(form.dataset.options, {})
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.create({ publicKey: options });
      })
      .then(function (credential) {
        var name = form.elements.name.value;
        return post(form.dataset.register, { credential: credentialJson(credential), name: name });
      })
      .then(function () {
        localStorage.setItem(FLAG, "1");
        window.location.reload();
      })
      .catch(function (error) { failed(form, status, error); });
  }

  function unlock(box, status) {
    status.textContent = "";
    post(box.dataset.options, {})
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.get({ publicKey: options });
      })
      .then(function (credential) {
        return post(box.dataset.unlock, {
          credential: credentialJson(credential),
          return_to: box.dataset.returnTo,
        });
      })
      .then(function (answer) { window.location.assign(answer.location); })
      .catch(function (error) { failed(box, status, error); });
  }

  if (!window.PublicKeyCredential) return;
  var form = document.getElementById("passkey-register");
  if (form) {
    form.hidden = false;
    document.getElementById("passkey-support").hidden = true;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      register(form, document.getElementById("passkey-status"));
    });
  }
  var box = document.getElementById("passkey-unlock");
  if (box && localStorage.getItem(FLAG)) {
    box.hidden = false;
    box.querySelector("button").addEventListener("click", function () {
      unlock(box, document.getElementById("passkey-status"));
    });
  }
})();
