/* ChipCrew web workspace: sessions, a streaming chat (server-sent events), tool calls, artefacts, uploads.
 * Everything that comes from the server is put in the page as text (textContent) or through ChipMarkdown, which
 * escapes before it adds markup; nothing is ever inserted as raw HTML. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { session: null, busy: false };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    const reply = await fetch(path, opts);
    if (!reply.ok) {
      let detail = reply.status + " " + reply.statusText;
      try {
        const body = await reply.json();
        detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return reply.status === 204 ? null : reply.json();
  }

  const enc = (name) => encodeURIComponent(name);

  /* ---- sessions ---- */
  async function loadSessions() {
    const list = await api("/api/sessions");
    const ul = $("sessions");
    ul.replaceChildren();
    for (const s of list) {
      const li = el("li");
      li.dataset.name = s.name;
      if (s.name === state.session) li.classList.add("active");
      const link = el("a", null, s.name);
      link.title = s.name;
      link.addEventListener("click", () => openSession(s.name));
      const rename = el("button", "rename", "✎");
      rename.title = "Rename";
      rename.type = "button";
      rename.addEventListener("click", () => renameSession(s.name));
      const drop = el("button", "delete", "✕");
      drop.title = "Delete";
      drop.type = "button";
      drop.addEventListener("click", () => deleteSession(s.name));
      li.append(link, rename, drop);
      ul.append(li);
    }
    return list;
  }

  async function newSession() {
    const created = await api("/api/sessions", { method: "POST", json: {} });
    await openSession(created.name);
    await loadSessions();
    return created.name;
  }

  async function renameSession(name) {
    const to = prompt("New name for " + name, name);
    if (!to || to === name) return;
    try {
      await api("/api/sessions/" + enc(name), { method: "PATCH", json: { name: to } });
      if (state.session === name) await openSession(to);
    } catch (e) { note(e.message, true); }
    await loadSessions();
  }

  async function deleteSession(name) {
    if (!confirm("Delete session " + name + " and its history?")) return;
    try { await api("/api/sessions/" + enc(name), { method: "DELETE" }); } catch (e) { note(e.message, true); }
    if (state.session === name) { state.session = null; $("log").replaceChildren(); $("current").textContent = ""; }
    await loadSessions();
  }

  async function openSession(name) {
    state.session = name;
    $("current").textContent = name;
    history.replaceState(null, "", "#" + enc(name));
    const log = $("log");
    log.replaceChildren();
    for (const li of $("sessions").children) li.classList.toggle("active", li.dataset.name === name);
    const data = await api("/api/sessions/" + enc(name) + "/turns");
    for (const t of data.turns) {
      log.append(el("div", "user", t.request || ""));
      const box = turnBox();
      showRoute(box, t);
      for (const call of t.tool_calls) showCall(box, call);
      showAnswer(box, t);
      log.append(box.root);
    }
    if (data.question) log.append(el("div", "turn question", data.question));
    log.scrollTop = log.scrollHeight;
    $("sidebar").classList.remove("open");
  }

  /* ---- one turn ---- */
  function turnBox() {
    const root = el("article", "turn");
    const meta = el("div", "meta", "…");
    const calls = el("div", "calls");
    const bar = el("div", "progress");
    const fill = el("div");
    bar.append(fill);
    bar.hidden = true;
    const barText = el("div", "progress-text");
    const answer = el("div", "answer");
    root.append(meta, calls, bar, barText, answer);
    return { root, meta, calls, bar, fill, barText, answer };
  }

  function showRoute(box, data) {
    const tier = data.router_tier ? " via " + data.router_tier : "";
    box.meta.textContent = (data.agent || "no specialist") + tier;
  }

  function showCall(box, call) {
    const details = el("details", "call");
    details.append(el("summary", null, call.tool + (call.planner ? " (" + call.planner + ")" : "")));
    details.append(el("pre", null, JSON.stringify(call.args, null, 2)));
    box.calls.append(details);
  }

  function showAnswer(box, data) {
    box.bar.hidden = true;
    box.barText.textContent = "";
    box.answer.innerHTML = window.ChipMarkdown.render(data.answer || "");  // escaped inside render()
    const images = data.artifacts.filter((a) => a.image);
    if (images.length) {
      const strip = el("div", "artefacts");
      for (const a of images) {
        const fig = el("figure");
        const img = el("img");
        img.src = a.url;
        img.alt = a.label;
        img.addEventListener("load", () => { if (img.naturalWidth > 1.3 * img.naturalHeight) fig.classList.add("wide"); });
        fig.append(img, el("figcaption", null, a.label));
        strip.append(fig);
      }
      box.root.append(strip);
    }
    if (data.artifacts.length) {
      const links = el("div", "downloads");
      for (const a of data.artifacts) {
        const link = el("a", null, a.label + " (" + a.name.split(".").pop() + ")");
        link.href = a.url;
        link.setAttribute("download", a.name);
        links.append(link);
      }
      box.root.append(links);
    }
  }

  function note(text, isError) {
    const n = el("div", isError ? "turn error" : "note", text);
    $("log").append(n);
    $("log").scrollTop = $("log").scrollHeight;
    return n;
  }

  async function send(message) {
    if (state.busy) return;
    if (!state.session) await newSession();
    const session = state.session;
    state.busy = true;
    $("send").disabled = true;
    const log = $("log");
    log.append(el("div", "user", message));
    const box = turnBox();
    log.append(box.root);
    log.scrollTop = log.scrollHeight;
    try {
      const started = await api("/api/sessions/" + enc(session) + "/turns", { method: "POST", json: { message: message } });
      await follow(started.events, box);
    } catch (e) {
      box.root.classList.add("error");
      box.answer.textContent = e.message;
    } finally {
      state.busy = false;
      $("send").disabled = false;
      loadSessions().catch(() => {});
    }
  }

  function follow(url, box) {
    return new Promise((resolve) => {
      const source = new EventSource(url);
      const on = (kind, handler) => source.addEventListener(kind, (ev) => handler(JSON.parse(ev.data)));
      on("route", (d) => showRoute(box, d));
      on("tool_call", (d) => showCall(box, d));
      on("progress", (d) => {
        box.bar.hidden = false;
        box.fill.style.width = Math.round(100 * Math.min(Math.max(d.fraction, 0), 1)) + "%";
        box.barText.textContent = d.message;
      });
      on("answer", (d) => showAnswer(box, d));
      on("question", (d) => { box.answer.textContent = d.question; box.root.classList.add("question"); });
      on("error", (d) => { box.root.classList.add("error"); box.bar.hidden = true; box.answer.textContent = d.message; });
      on("done", () => { source.close(); box.root.dataset.done = "1"; $("log").scrollTop = $("log").scrollHeight; resolve(); });
      source.onerror = () => {  // while CONNECTING it retries by itself and resumes after the last event it saw
        if (source.readyState !== EventSource.CLOSED) return;
        box.answer.textContent = "Lost the stream of this turn; it still completes on the server: reopen the session to see it.";
        box.root.classList.add("error");
        resolve();
      };
    });
  }

  /* ---- uploads ---- */
  async function upload(file) {
    if (!state.session) await newSession();
    const form = new FormData();
    form.append("file", file);
    try {
      const stored = await api("/api/sessions/" + enc(state.session) + "/uploads", { method: "POST", body: form });
      const layers = stored.layers.length ? ", layers " + stored.layers.map((l) => l.join("/")).join(" ") : "";
      note("Uploaded " + stored.name + " (" + stored.kind + layers + "). Edit the request below and send it.");
      $("message").value = stored.request;
      $("message").focus();
    } catch (e) {
      note("Upload of " + file.name + " refused: " + e.message, true);
    } finally {
      $("upload").value = "";
    }
  }

  /* ---- wiring ---- */
  function start() {
    if (new URLSearchParams(location.search).has("token")) {
      history.replaceState(null, "", location.pathname + location.hash);  // the cookie carries it from now on
    }
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("message").value.trim();
      if (!text) return;
      $("message").value = "";
      send(text);
    });
    $("message").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); }
    });
    $("new-session").addEventListener("click", () => newSession());
    $("upload").addEventListener("change", () => { if ($("upload").files.length) upload($("upload").files[0]); });
    $("toggle-sessions").addEventListener("click", () => {
      const open = $("sidebar").classList.toggle("open");
      $("toggle-sessions").setAttribute("aria-expanded", String(open));
    });
    loadSessions().then((list) => {
      const wanted = decodeURIComponent(location.hash.slice(1));
      const first = list.find((s) => s.name === wanted) || null;
      return first ? openSession(first.name) : null;
    }).catch((e) => note(e.message, true)).finally(() => {
      document.body.dataset.ready = "1";  // interactive: handlers bound, sessions listed
      performance.mark("chipcrew-ready");
    });
  }

  start();
})();
