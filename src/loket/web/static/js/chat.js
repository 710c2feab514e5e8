// The chat, enhanced: the page's forms go to the JSON API, answers stream in as server-sent events
// (read with fetch, since asking is a POST), and screen readers hear each answer once, when complete.
// Without this script the same forms post to the server and the page comes back with the answer.
import { events } from "./sse.js";

const KEY = "loket:conversation";
// The conversation's token: only who holds it may read or continue the conversation. The page also
// has it as an HttpOnly cookie; the widget's frame may get no cookies, so it is sent as a header too.
const TOKEN = "loket:conversation-token";
const chat = document.querySelector(".chat");
if (chat) start(chat);

function start(chat) {
  const log = chat.querySelector(".log");
  const form = chat.querySelector("form.ask");
  const field = form.querySelector("textarea");
  const announcer = chat.querySelector(".announcer");
  const template = chat.querySelector(".exchange-template");
  const restart = chat.querySelector("form.restart");
  const language = chat.dataset.language;
  const audience = form.elements.audience ? form.elements.audience.value : null;
  const widget = chat.dataset.widget === "1";
  let conversation = chat.dataset.conversation || stored();
  let busy = false;
  let follower = null; // the conversation's event stream: answers given elsewhere appear here too
  let missed = false; // an answer came in while this page was asking

  if (chat.dataset.conversation) remember(chat.dataset.conversation);
  else if (conversation) restore(conversation);
  if (widget) frame();

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = field.value.trim();
    if (!question || busy) return;
    field.value = "";
    ask(question);
  });
  log.addEventListener("submit", (event) => {
    const target = event.target;
    if (target.matches("form.handoff")) {
      event.preventDefault();
      if (!busy) ask(target.elements.question.value);
    } else if (target.matches("form.rate")) {
      event.preventDefault();
      rate(target, event.submitter && event.submitter.value);
    } else if (target.matches("form.reason")) {
      event.preventDefault();
      explain(target);
    }
  });
  // A conversation the server rendered (begun without JavaScript) is forgotten by the server, which
  // holds its cookie; one begun here is forgotten here (the widget's iframe cannot show another page).
  restart.addEventListener("submit", (event) => {
    forget();
    if (chat.dataset.conversation) return;
    event.preventDefault();
    log.replaceChildren();
    restart.hidden = true;
    field.focus();
  });

  async function ask(question, retried = false) {
    busy = true;
    log.setAttribute("aria-busy", "true");
    const item = retried ? log.lastElementChild : add(question);
    let final = null;
    try {
      const response = await fetch("/api/v1/ask", {
        method: "POST",
        headers: holding({ "content-type": "application/json", accept: "text/event-stream" }),
        body: JSON.stringify({
          question,
          conversation_id: conversation,
          language,
          audience,
          channel: widget ? "widget" : "web",
        }),
      });
      if (response.status === 404 && conversation && !retried) {
        forget(); // the conversation was removed after its retention period: start a new one
        busy = false;
        return ask(question, true);
      }
      if (!response.ok) return fail(item, await problem(response), question);
      let paragraph = null;
      const text = item.querySelector(".answer-text");
      for await (const [name, data] of events(response)) {
        if (name === "status") {
          remember(data.conversation_id);
          identify(item, data.message_id);
          item.querySelector(".answer").dataset.status = data.status;
          text.lang = data.language;
        } else if (name === "sentence") {
          paragraph = paragraph || text.appendChild(document.createElement("p"));
          paragraph.append((paragraph.textContent ? " " : "") + data.text);
        } else if (name === "citations") {
          citations(item, data);
        } else if (name === "notices") {
          notices(item, data);
        } else if (name === "done") {
          final = data;
          remember(data.conversation_id, data.conversation_token);
        }
      }
      if (!final) return fail(item, chat.dataset.error, question);
      complete(item, null);
      const sources = final.citations.length ? " " + chat.dataset.sources : "";
      announce(`${chat.dataset.answered} ${final.answer}${sources}`);
      if (final.status === "handoff" && !widget) panel();
    } catch {
      fail(item, chat.dataset.error, question);
    } finally {
      busy = false;
      log.removeAttribute("aria-busy");
      item.querySelector(".busy").hidden = true;
      if (missed) restore(conversation, true);
    }
  }

  async function problem(response) {
    try {
      return (await response.json()).error.message || chat.dataset.error;
    } catch {
      return chat.dataset.error;
    }
  }

  function add(question) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector(".question-text").textContent = question;
    log.appendChild(item);
    restart.hidden = false;
    return item;
  }

  function identify(item, id) {
    item.id = `m-${id}`;
    item.dataset.message = id;
    item.querySelectorAll("input[name=message_id]").forEach((input) => (input.value = id));
    const reason = item.querySelector("textarea[name=reason]");
    reason.id = `reason-${id}`;
    item.querySelector("form.reason label").htmlFor = reason.id;
  }

  function citations(item, list) {
    const sources = item.querySelector(".sources");
    const ul = sources.querySelector("ul");
    ul.replaceChildren(
      ...list.map((citation) => {
        const li = document.createElement("li");
        const a = li.appendChild(document.createElement("a"));
        a.href = local(citation.url);
        a.textContent = citation.title;
        if (citation.language && citation.language !== document.documentElement.lang) {
          a.lang = citation.language;
        }
        if (widget) {
          a.target = "_blank";
          const note = a.appendChild(document.createElement("span"));
          note.className = "visually-hidden";
          note.textContent = ` ${chat.dataset.newTab}`;
        }
        return li;
      }),
    );
    sources.hidden = list.length === 0;
  }

  function notices(item, list) {
    item.querySelector(".notices").replaceChildren(
      ...list.map((notice) => {
        const li = document.createElement("li");
        li.textContent = notice;
        return li;
      }),
    );
  }

  // After the answer: rating, "talk to a person"; a stored rating shows the thanks instead.
  function complete(item, feedback) {
    const after = item.querySelector(".after");
    after.hidden = false;
    after.querySelector("form.rate").hidden = Boolean(feedback);
    after.querySelector(".thanks").hidden = !feedback;
    after.querySelector("form.reason").hidden = !feedback || Boolean(feedback.reason);
    if (feedback) after.querySelector("form.reason").elements.rating.value = feedback.rating;
  }

  // The reason in place of the answer, and the question back in the box to try again.
  function fail(item, message, question) {
    if (!field.value) field.value = question;
    const text = item.querySelector(".answer-text");
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = message;
    text.replaceChildren(p);
    announce(message);
  }

  // The conversation's messages this page does not show yet (all of them after a reload); `announce`
  // the last one when it came from elsewhere while the page was open.
  async function restore(id, announceLast = false) {
    missed = false;
    let data;
    try {
      const response = await fetch(`/api/v1/conversations/${encodeURIComponent(id)}`, {
        headers: holding({}),
      });
      if (!response.ok) return forget();
      data = await response.json();
    } catch {
      return;
    }
    const items = log.querySelectorAll(".exchange[data-message]");
    const shown = new Set([...items].map((item) => item.dataset.message));
    const missing = data.messages.filter((message) => !shown.has(message.id));
    for (const message of missing) {
      const item = add(message.question);
      identify(item, message.id);
      item.querySelector(".busy").hidden = true;
      item.querySelector(".answer").dataset.status = message.status;
      const text = item.querySelector(".answer-text");
      text.lang = message.language;
      text.replaceChildren(
        ...message.answer
          .split("\n")
          .filter((line) => line.trim())
          .map((line) => {
            const p = document.createElement("p");
            p.textContent = line;
            return p;
          }),
      );
      citations(item, message.citations);
      notices(item, message.notices);
      complete(item, message.feedback);
    }
    const last = missing[missing.length - 1];
    if (announceLast && last) announce(`${chat.dataset.answered} ${last.answer}`);
    follow(id);
  }

  // Server-sent events of the conversation (the page holds its cookie; EventSource sends no header,
  // so not in the widget's frame). EventSource reconnects by itself, sending the last id it got.
  function follow(id) {
    if (widget || follower || !window.EventSource) return;
    follower = new EventSource(`/api/v1/events/conversations/${encodeURIComponent(id)}`);
    follower.addEventListener("message", (event) => {
      const { message_id: message } = JSON.parse(event.data);
      if (log.querySelector(`.exchange[data-message="${CSS.escape(message)}"]`)) return;
      if (busy) missed = true;
      else restore(id, true);
    });
    follower.addEventListener("handoff", panel);
  }

  // A person taking over (the offer, the queue, what the agent says): the server renders the panel,
  // this puts the fresh one in place and says what changed.
  async function panel() {
    const response = await fetch(location.pathname + location.search, { headers: { accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(".handoff-panel");
    const now = chat.querySelector(".handoff-panel");
    if (now && fresh) now.replaceWith(fresh);
    else if (fresh) log.after(fresh);
    else if (now) now.remove();
    const said = fresh && fresh.querySelector(".talk li:last-child, [role=status]");
    if (said) announce(said.textContent.trim());
  }

  async function rate(rateForm, rating) {
    if (!rating) return;
    const id = rateForm.elements.message_id.value;
    if (!(await send({ message_id: id, rating }))) return;
    const after = rateForm.closest(".after");
    complete(rateForm.closest(".exchange"), { rating, reason: null });
    announce(after.querySelector(".thanks").textContent);
    after.querySelector("form.reason textarea").focus();
  }

  async function explain(reasonForm) {
    const reason = reasonForm.elements.reason.value.trim();
    const body = { message_id: reasonForm.elements.message_id.value, rating: reasonForm.elements.rating.value };
    if (reason && !(await send({ ...body, reason }))) return;
    reasonForm.hidden = true;
    const thanks = reasonForm.closest(".after").querySelector(".thanks");
    thanks.tabIndex = -1;
    thanks.focus();
  }

  async function send(body) {
    try {
      const response = await fetch("/api/v1/feedback", {
        method: "POST",
        headers: holding({ "content-type": "application/json" }),
        body: JSON.stringify(body),
      });
      if (response.ok) return true;
      announce(await problem(response));
    } catch {
      announce(chat.dataset.error);
    }
    return false;
  }

  // Said once, politely: the region is emptied first so the same text is announced again.
  function announce(text) {
    announcer.textContent = "";
    setTimeout(() => (announcer.textContent = text), 100);
  }

  function local(url) {
    if (!url.startsWith("/") || url.startsWith("//")) return url;
    const link = new URL(url, location.origin);
    link.searchParams.set("lang", language);
    return link.pathname + link.search + link.hash;
  }

  // A new conversation comes with its token; a continued one keeps the token it has.
  function remember(id, token) {
    conversation = id;
    tellHost(id, token);
    follow(id);
    try {
      sessionStorage.setItem(KEY, id);
      if (token) sessionStorage.setItem(TOKEN, token);
    } catch {
      // storage may be blocked; the conversation then lasts as long as the page
      if (token) chat.dataset.token = token;
    }
  }

  function forget() {
    conversation = null;
    if (follower) follower.close();
    follower = null;
    tellHost(null);
    delete chat.dataset.token;
    try {
      sessionStorage.removeItem(KEY);
      sessionStorage.removeItem(TOKEN);
    } catch {
      // nothing to forget
    }
  }

  function holding(headers) {
    let token = chat.dataset.token;
    try {
      token = sessionStorage.getItem(TOKEN) || token;
    } catch {
      // storage blocked: the token kept on the page, if any
    }
    return token ? { ...headers, "loket-conversation-token": token } : headers;
  }

  // In the widget, the host page keeps the id and token too: a third-party frame may be denied its
  // own storage. (The host is the page the conversation happens on; no other page gets them.)
  function tellHost(id, token) {
    if (widget && window.parent !== window) {
      window.parent.postMessage({ type: "loket:conversation", id, token }, "*");
    }
  }

  // Inside the widget's iframe: the host's colour, a close button and Escape to close, focus on open,
  // and the conversation the host page kept, after a reload.
  function frame() {
    const bar = document.querySelector(".widget-bar");
    if (bar && bar.dataset.accent) {
      const style = document.documentElement.style;
      const text = bar.dataset.accentText;
      style.setProperty("--brand", bar.dataset.accent);
      style.setProperty("--brand-text", text);
      // A light colour cannot outline a button on white: its readable text colour does.
      style.setProperty("--brand-edge", text === "#000000" ? text : bar.dataset.accent);
    }
    if (window.parent === window) return;
    const close = () => window.parent.postMessage("loket:close", "*");
    const button = document.querySelector(".widget-bar .close");
    button.hidden = false;
    button.addEventListener("click", close);
    document.addEventListener("keydown", (event) => event.key === "Escape" && close());
    window.addEventListener("message", (event) => {
      if (event.source !== window.parent) return;
      if (event.data === "loket:focus") field.focus();
      const resume = event.data && event.data.type === "loket:resume" && event.data.id;
      if (resume && !conversation && !log.children.length) {
        remember(resume, event.data.token);
        restore(resume);
      }
    });
    field.focus();
  }
}

function stored() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}
