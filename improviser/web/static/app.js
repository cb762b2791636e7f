// The studio page: every instance on the broker (status, piano roll, controls) and the
// recordings folder. Everything arrives on one Server-Sent Events stream; a change goes
// out as one POST carrying the token, and the session's own ack or error comes back.
"use strict";

const WINDOW_SECONDS = 16;
const NOTES_KEPT = 4000;
const LONGEST_NOTE = 30;
const SCROLL_MS = 50;  // with nothing new, the roll scrolls at 20 frames a second (CPU)
const ORDER = ["temperature", "top_k", "top_p", "mode", "mute", "loop", "key", "register",
  "scale_strength", "short_term", "short_term_weight", "phrase_gap", "answer_length",
  "answer_notes", "answer_beats", "model", "record", "end_call", "regenerate", "panic"];

const metaContent = (name) => document.querySelector(`meta[name="${name}"]`).content;
const page = {
  token: metaContent("improviser-token") || sessionStorage.getItem("improviser-token") || "",
  tokenNeeded: metaContent("improviser-token-needed") === "true",
  schemas: null,
  instances: new Map(),
  broker: null,
  streamUp: false,
};
// What the page drew and when (epoch ms): read by the tests and `improviser bench web`.
window.improviserDrawn = [];
const nowMs = () => performance.timeOrigin + performance.now();

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) node.setAttribute(k, "");
    else if (v !== false && v != null) node.setAttribute(k, v);
  }
  if (text != null) node.textContent = text;
  return node;
}

function niceStep(span) {
  const raw = span / 200;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * power) return m * power;
  return raw;
}

function describeValue(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

class Instance {
  constructor(name) {
    this.name = name;
    this.root = document.getElementById("instance-template").content.firstElementChild.cloneNode(true);
    this.root.id = "instance-" + name;
    this.root.querySelector(".name").textContent = name;
    this.canvas = this.root.querySelector("canvas.roll");
    this.canvas.id = `roll-${name}`;
    this.replyLine = this.root.querySelector(".reply");
    this.controlsBox = this.root.querySelector(".controls");
    this.inputs = new Map();
    this.status = {};
    this.stats = {};
    this.reset();
    document.getElementById("instance-list").append(this.root);
    document.getElementById("no-instances").hidden = true;
    this.buildControls();
  }

  reset() {
    this.dirty = true;
    this.lastDraw = 0;
    this.parts = { player: [], improviser: [] };
    this.answers = [];
    this.phraseEnds = [];
    this.calls = [];
    this.callOpen = false;
    this.offset = null;
    this.lastAt = 0;
  }

  load(entry) {
    this.reset();
    this.setStatus(entry.status || {});
    this.setStats(entry.stats || {});
    for (const e of entry.events || []) this.event(e, false);
    for (const n of entry.notes || []) this.note(n, false);
    if (entry.reply) this.showReply(entry.reply.message, entry.reply.topic === "ack" ? "ack" : "error");
  }

  // Session time now: from the live arrivals (the least delay seen), else from `started`.
  sessionNow() {
    const perf = performance.now() / 1000;
    if (this.offset != null) return perf - this.offset;
    if (this.status.started) {
      const elapsed = (Date.now() - Date.parse(this.status.started)) / 1000;
      if (Number.isFinite(elapsed)) return Math.max(elapsed, this.lastAt);
    }
    return this.lastAt;
  }

  heard(at, live) {
    this.lastAt = Math.max(this.lastAt, at);
    if (!live) return;
    const candidate = performance.now() / 1000 - at;
    // A new session starts its clock again: its notes arrive "late" by far.
    if (this.offset == null || candidate < this.offset || candidate > this.offset + 5) {
      this.offset = candidate;
    }
  }

  setStatus(s) {
    if (this.status.started && s.started && s.started !== this.status.started) this.reset();
    this.status = s;
    this.root.dataset.status = JSON.stringify(s);
    const badge = this.root.querySelector(".online");
    badge.textContent = s.online ? "online" : "offline";
    badge.className = "online " + (s.online ? "up" : "down");
    const bpm = s.bpm != null ? `${Math.round(s.bpm * 10) / 10} bpm` : "-";
    this.fact("state", s.state);
    this.fact("mode", s.mode);
    this.fact("key", s.key || "none yet");
    this.fact("bpm", bpm);
    this.fact("sync", s.sync);
    this.fact("model", s.model);
    this.fact("recording", s.recording || "not recording");
    this.root.querySelector(".notes-off").hidden = s.notes !== false;
    this.syncControls();
  }

  setStats(s) {
    this.stats = s;
    this.root.dataset.stats = JSON.stringify(s);
    if (s.notes_in != null) this.fact("counts", `${s.notes_in} / ${s.notes_out}`);
    if (s.response_p99_ms != null) this.fact("p99", `${s.response_p99_ms.toFixed(1)} ms`);
  }

  fact(name, value) {
    this.root.querySelector(`[data-fact="${name}"]`).textContent = value == null ? "-" : String(value);
  }

  note(d, live, received) {
    this.heard(d.at, live);
    this.dirty = true;
    const notes = this.parts[d.part] || (this.parts[d.part] = []);
    if (d.velocity > 0) {
      const n = [d.pitch, d.at, null, d.velocity, d.channel];
      if (live) { n.arrived = nowMs(); n.received = received; }
      notes.push(n);
      if (notes.length > NOTES_KEPT) notes.splice(0, notes.length - NOTES_KEPT);
      if (d.part === "player" && !this.callOpen) { this.calls.push(d.at); this.callOpen = true; }
      this.canvas.setAttribute("aria-label", `live piano roll; last note: ${d.part} ${window.improviserRoll.noteName(d.pitch)}`);
    } else {
      for (let i = notes.length - 1; i >= 0; i--) {
        const n = notes[i];
        if (n[2] == null && n[0] === d.pitch && n[4] === d.channel) { n[2] = d.at; break; }
      }
    }
  }

  event(e, live) {
    this.heard(e.at, live);
    this.dirty = true;
    if (e.kind === "phrase_ended") { this.phraseEnds.push(e.at); this.callOpen = false; }
    else if (e.kind === "answer_started") this.answers.push({ start: e.at, end: null, phrase_end: null });
    else if (e.kind === "answer_ended" || e.kind === "answer_interrupted") {
      const open = this.answers.findLast((a) => a.end == null);
      if (open) open.end = e.at;
      this.callOpen = false;
    }
    if (this.phraseEnds.length > 200) this.phraseEnds.splice(0, 100);
    if (this.answers.length > 200) this.answers.splice(0, 100);
    if (this.calls.length > 200) this.calls.splice(0, 100);
  }

  draw(frameTime) {
    if (!this.dirty && frameTime - this.lastDraw < SCROLL_MS) return;
    this.dirty = false;
    this.lastDraw = frameTime;
    const now = this.sessionNow();
    const name = this.name;
    for (const notes of Object.values(this.parts)) {
      for (const n of notes) if (n[2] == null && now - n[1] > LONGEST_NOTE) n[2] = n[1] + LONGEST_NOTE;
    }
    window.improviserRoll.drawRoll(this.canvas, {
      t0: now - WINDOW_SECONDS, t1: now + 0.5, now, parts: this.parts,
      bpm: this.status.bpm || 0, beatsPerBar: 4, calls: this.calls,
      answers: this.answers, phraseEnds: this.phraseEnds,
      onDrawn(part, n) {
        if (n.drawn || !n.arrived) return;
        n.drawn = nowMs();
        const drawn = window.improviserDrawn;
        drawn.push({ instance: name, part, pitch: n[0], at: n[1], received: n.received, arrived: n.arrived, drawn: n.drawn });
        if (drawn.length > 20000) drawn.splice(0, 10000);
      },
    });
  }

  showReply(message, kind) {
    this.replyLine.textContent = message;
    this.replyLine.className = "reply " + kind;
  }

  // --- controls, generated from each control's JSON schema -------------------------
  buildControls() {
    if (!page.schemas || this.inputs.size) return;
    const keys = [...ORDER.filter((k) => k in page.schemas),
      ...Object.keys(page.schemas).filter((k) => !ORDER.includes(k)).sort()];
    for (const key of keys) this.controlsBox.append(this.control(key, page.schemas[key]));
    this.syncControls();
  }

  id(key) { return `c-${this.name}-${key}`; }

  control(key, schema) {
    const box = el("div", { class: "control", "data-key": key });
    const help = schema.description || "";
    const label = el("label", { for: this.id(key), title: help }, key.replace(/_/g, " "));
    if (schema.type === "number" || schema.type === "integer") {
      const integer = schema.type === "integer";
      let min = schema.minimum ?? schema.exclusiveMinimum ?? 0;
      const max = schema.maximum ?? (min + 100);
      const step = integer ? 1 : niceStep(max - min);
      if (schema.exclusiveMinimum != null) min += step;
      const slider = el("input", { id: this.id(key), type: "range", min, max, step, "aria-describedby": this.id(key) + "-n" });
      const number = el("input", { id: this.id(key) + "-n", type: "number", min, max, step: integer ? 1 : "any", "aria-label": `${key} (exact value)`, class: "exact" });
      slider.addEventListener("input", () => { number.value = slider.value; });
      const commit = (input) => () => send(this, key, integer ? parseInt(input.value, 10) : parseFloat(input.value));
      slider.addEventListener("change", commit(slider));
      number.addEventListener("change", commit(number));
      box.append(label, slider, number);
      this.inputs.set(key, { kind: "number", slider, number });
    } else if (schema.type === "boolean") {
      const box2 = el("input", { id: this.id(key), type: "checkbox", role: "switch" });
      box2.addEventListener("change", () => send(this, key, box2.checked));
      box.append(box2, label);
      box.classList.add("switch");
      this.inputs.set(key, { kind: "boolean", input: box2 });
    } else if (schema.enum && schema.type === "string") {
      const select = el("select", { id: this.id(key) });
      for (const v of schema.enum) select.append(el("option", { value: v }, v));
      select.addEventListener("change", () => send(this, key, select.value));
      box.append(label, select);
      this.inputs.set(key, { kind: "select", input: select });
    } else if (schema.type === "string") {
      const form = el("form", { class: "text" });
      const input = el("input", { id: this.id(key), type: "text", autocomplete: "off", spellcheck: "false", placeholder: help });
      form.append(label, input, el("button", { type: "submit" }, "Set"));
      form.addEventListener("submit", (ev) => { ev.preventDefault(); send(this, key, input.value); });
      box.append(form);
      this.inputs.set(key, { kind: "text", input });
    } else if (schema.anyOf) {
      const actions = schema.anyOf.find((s) => s.enum)?.enum || [];
      box.append(el("span", { class: "label", id: this.id(key) }, key));
      box.setAttribute("role", "group");
      box.setAttribute("aria-labelledby", this.id(key));
      for (const action of actions) {
        const button = el("button", { type: "button" }, `${key} ${action}`);
        button.addEventListener("click", () => send(this, key, action));
        box.append(button);
      }
    } else {
      const button = el("button", { type: "button", id: this.id(key), title: help }, key.replace(/_/g, " "));
      button.addEventListener("click", () => send(this, key, true));
      box.append(button);
      box.classList.add("action");
    }
    return box;
  }

  // Show the values in force (the status says them), except in a field being edited.
  syncControls() {
    const settings = this.status.settings || {};
    for (const [key, c] of this.inputs) {
      if (!(key in settings)) continue;
      const v = settings[key];
      if (c.kind === "number") {
        if (document.activeElement !== c.number) c.number.value = v;
        c.slider.value = v;
      } else if (c.kind === "boolean") c.input.checked = Boolean(v);
      else if (document.activeElement !== c.input) c.input.value = v == null ? "" : String(v);
    }
  }
}

async function send(instance, key, value) {
  instance.showReply(`${key} = ${describeValue(value)}: sent, waiting for ${instance.name}…`, "pending");
  let body;
  try {
    const response = await fetch(`/api/instances/${encodeURIComponent(instance.name)}/set/${encodeURIComponent(key)}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-improviser-token": page.token },
      body: JSON.stringify(value),
    });
    body = await response.json();
    if (response.status === 403) body.message = `${key} not changed: ${body.message}`;
  } catch (err) {
    body = { ok: false, message: "the page server cannot be reached" };
  }
  instance.showReply(body.ok ? `ack: ${body.message}` : body.message, body.ok ? "ack" : "error");
  if (!body.ok) instance.syncControls();
}

function instanceOf(name) {
  let inst = page.instances.get(name);
  if (!inst) { inst = new Instance(name); page.instances.set(name, inst); }
  return inst;
}

function showBroker() {
  const line = document.getElementById("broker");
  if (!page.streamUp) {
    line.textContent = "the page server cannot be reached; reconnecting…";
    line.className = "banner down";
  } else if (!page.broker || (!page.broker.connected && !page.broker.problem)) {
    line.textContent = "connecting to the broker…";
    line.className = "banner";
  } else if (page.broker.connected) {
    line.textContent = `broker ${page.broker.where}: connected`;
    line.className = "banner up";
  } else {
    line.textContent = `broker unreachable: ${page.broker.problem}; reconnecting…`;
    line.className = "banner down";
  }
}

function take(update) {
  switch (update.type) {
    case "snapshot":
      page.broker = update.broker;
      for (const [name, entry] of Object.entries(update.instances)) instanceOf(name).load(entry);
      window.improviserReady = true;
      break;
    case "broker": page.broker = update; break;
    case "status": instanceOf(update.instance).setStatus(update.data); break;
    case "stats": instanceOf(update.instance).setStats(update.data); break;
    case "notes": instanceOf(update.instance).note(update.data, true, update.received); break;
    case "events": instanceOf(update.instance).event(update.data, true); break;
    case "ack": case "error": {
      const d = update.data;
      instanceOf(update.instance).showReply(update.type === "ack" ? `ack: ${update.instance}: ${d.message}` : `${update.instance}: ${d.message}`, update.type);
      break;
    }
    default: break;
  }
  showBroker();
}

function connect() {
  const stream = new EventSource("/api/stream");
  stream.onopen = () => { page.streamUp = true; showBroker(); };
  stream.onmessage = (ev) => take(JSON.parse(ev.data));
  stream.onerror = () => { page.streamUp = false; showBroker(); };  // EventSource retries itself
}

function frame(frameTime) {
  for (const inst of page.instances.values()) inst.draw(frameTime);
  requestAnimationFrame(frame);
}

// --- the token ---------------------------------------------------------------------
function setupToken() {
  const form = document.getElementById("token-form");
  const stateLine = document.getElementById("token-state");
  if (!page.tokenNeeded) return;
  form.hidden = false;
  if (page.token) stateLine.textContent = "token kept for this tab";
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const given = document.getElementById("token").value.trim();
    const response = await fetch("/api/token", {
      method: "POST", headers: { "content-type": "application/json", "x-improviser-token": given }, body: "{}",
    }).catch(() => null);
    const body = response ? await response.json() : { ok: false, message: "the page server cannot be reached" };
    if (body.ok) {
      page.token = given;
      sessionStorage.setItem("improviser-token", given);
      stateLine.textContent = "token accepted: the controls work";
    } else {
      stateLine.textContent = body.message;
    }
  });
}

// --- recordings --------------------------------------------------------------------
async function loadSessions() {
  const body = await fetch("/api/sessions").then((r) => r.json()).catch(() => null);
  const tbody = document.querySelector("#sessions-table tbody");
  tbody.replaceChildren();
  if (!body) return;
  document.getElementById("sessions-folder").textContent = `Folder ${body.folder}: ${body.sessions.length} recording(s).`;
  for (const s of body.sessions) {
    const row = el("tr");
    const name = encodeURIComponent(s.name);
    const show = el("button", { type: "button" }, "Show");
    show.setAttribute("aria-label", `show the piano roll of ${s.name}`);
    show.addEventListener("click", () => showSession(s.name));
    const midi = el("a", { href: `/api/sessions/${name}/midi`, download: s.name }, "Download .mid");
    const audio = s.audio ? el("audio", { controls: true, preload: "none", src: `/api/sessions/${name}/audio`, "aria-label": `audio of ${s.name}` }) : el("span", {}, "not rendered");
    row.append(el("th", { scope: "row" }, s.name), el("td", {}, s.modified.replace("T", " ")),
      el("td", {}, `${Math.max(1, Math.round(s.bytes / 1024))} kB`));
    for (const cell of [show, midi, audio]) { const td = el("td"); td.append(cell); row.append(td); }
    tbody.append(row);
  }
}

async function showSession(name) {
  const figure = document.getElementById("session-roll");
  const caption = document.getElementById("session-caption");
  const response = await fetch(`/api/sessions/${encodeURIComponent(name)}/roll`).catch(() => null);
  const roll = response ? await response.json() : { message: "the page server cannot be reached" };
  figure.hidden = false;
  if (!response || !response.ok) { caption.textContent = roll.message; return; }
  const canvas = document.getElementById("session-canvas");
  const toNotes = (list) => list.map((n) => [n[0], n[1], n[2], n[3]]);
  const parts = { player: toNotes(roll.parts.player), improviser: toNotes(roll.parts.improviser), other: toNotes(roll.parts.other) };
  window.improviserRoll.drawRoll(canvas, {
    t0: 0, t1: Math.max(roll.seconds, 1), now: roll.seconds, parts, bpm: roll.bpm,
    beatsPerBar: roll.beats_per_bar, calls: [0], answers: roll.answers, phraseEnds: [],
  });
  const count = (k) => roll.parts[k].length;
  caption.textContent = `${name}: ${count("player")} player notes, ${count("improviser")} improviser notes, ` +
    `${roll.answers.length} answers, ${roll.bpm} bpm (bars of ${roll.beats_per_bar} from the start)`;
  canvas.setAttribute("aria-label", caption.textContent);
}

async function start() {
  setupToken();
  const body = await fetch("/api/controls").then((r) => r.json()).catch(() => ({ controls: {} }));
  page.schemas = body.controls;
  for (const inst of page.instances.values()) inst.buildControls();
  connect();
  document.getElementById("sessions-refresh").addEventListener("click", loadSessions);
  loadSessions();
  requestAnimationFrame(frame);
}

start();
