// The piano roll, drawn the way `improviser plot` draws it: note names on the pitch
// axis (middle C = C4), bars and beats where the tempo is known (bars counted from each
// call's first note, or from the file's start), the player's phrase ends and the
// improviser's answers marked.
"use strict";

const NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
const BLACK = new Set([1, 3, 6, 8, 10]);
const COLOURS = { player: "#2563eb", improviser: "#c2410c", other: "#6b7280" };
const GUTTER = 44;
const FOOT = 18;

function noteName(pitch) {
  return NOTE_NAMES[pitch % 12] + (Math.floor(pitch / 12) - 1);
}

// The pitch range to show: every note, at least two octaves, whole rows.
function pitchRange(parts) {
  let lo = 127, hi = 0;
  for (const notes of Object.values(parts)) {
    for (const n of notes) { lo = Math.min(lo, n[0]); hi = Math.max(hi, n[0]); }
  }
  if (lo > hi) { lo = 55; hi = 79; }
  const middle = (lo + hi) / 2;
  if (hi - lo < 24) { lo = Math.floor(middle - 12); hi = lo + 24; }
  return [Math.max(0, lo - 1), Math.min(127, hi + 1)];
}

// view: {t0, t1, now, parts: {player|improviser|other: [[pitch, start, end|null, velocity]]},
//        bpm, beatsPerBar, calls: [t], answers: [{start, end, phrase_end}], phraseEnds: [t],
//        onDrawn(part, note)}
function drawRoll(canvas, view) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const [lo, hi] = view.range || pitchRange(view.parts);
  const rows = hi - lo + 1;
  const rowH = (H - FOOT) / rows;
  const span = Math.max(view.t1 - view.t0, 1e-6);
  const x = (t) => GUTTER + ((t - view.t0) / span) * (W - GUTTER);
  const y = (p) => (hi - p) * rowH;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, W, H);
  // Rows: black keys shaded, C rows ruled; names on the left.
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  for (let p = lo; p <= hi; p++) {
    if (BLACK.has(p % 12)) { ctx.fillStyle = "#f1f5f9"; ctx.fillRect(GUTTER, y(p), W - GUTTER, rowH); }
    if (p % 12 === 0) { ctx.fillStyle = "#cbd5e1"; ctx.fillRect(GUTTER, y(p) + rowH - 1, W - GUTTER, 1); }
    if (p % 12 === 0 || rowH >= 11) {
      ctx.fillStyle = p % 12 === 0 ? "#0f172a" : "#64748b";
      ctx.fillText(noteName(p), 4, y(p) + rowH / 2);
    }
  }
  // Answers (shaded) and phrase ends (dashed).
  for (const a of view.answers || []) {
    const end = a.end == null ? view.now : a.end;
    if (end < view.t0 || a.start > view.t1) continue;
    ctx.fillStyle = "rgba(234, 88, 12, 0.10)";
    ctx.fillRect(x(a.start), 0, x(end) - x(a.start), H - FOOT);
    ctx.fillStyle = "#9a3412";
    ctx.fillText("answer", Math.max(x(a.start), GUTTER) + 3, 8);
  }
  const phraseEnds = [...(view.phraseEnds || []),
    ...(view.answers || []).map((a) => a.phrase_end).filter((t) => t != null)];
  ctx.setLineDash([4, 3]);
  for (const t of phraseEnds) {
    if (t < view.t0 || t > view.t1) continue;
    ctx.strokeStyle = "#1d4ed8";
    ctx.beginPath(); ctx.moveTo(x(t), 0); ctx.lineTo(x(t), H - FOOT); ctx.stroke();
    ctx.fillStyle = "#1d4ed8";
    ctx.fillText("phrase end", x(t) + 3, 20);
  }
  ctx.setLineDash([]);
  // Bars and beats from each call's start (or seconds where the tempo is not known).
  ctx.textBaseline = "alphabetic";
  if (view.bpm > 0) {
    const beat = 60 / view.bpm, perBar = view.beatsPerBar || 4;
    const calls = (view.calls && view.calls.length) ? view.calls : [0];
    calls.forEach((start, i) => {
      const stop = Math.min(i + 1 < calls.length ? calls[i + 1] : Infinity, view.t1);
      const first = Math.max(0, Math.ceil((view.t0 - start) / beat));
      for (let k = first; start + k * beat <= stop; k++) {
        const t = start + k * beat;
        if (t < view.t0) continue;
        const bar = k % perBar === 0;
        ctx.fillStyle = bar ? "#94a3b8" : "#e2e8f0";
        ctx.fillRect(x(t), 0, bar ? 1.5 : 1, H - FOOT);
        if (bar) { ctx.fillStyle = "#334155"; ctx.fillText(String(k / perBar + 1), x(t) + 2, H - 4); }
      }
    });
  } else {
    for (let s = Math.ceil(view.t0); s <= view.t1; s++) {
      ctx.fillStyle = "#e2e8f0"; ctx.fillRect(x(s), 0, 1, H - FOOT);
      ctx.fillStyle = "#334155"; ctx.fillText(s + " s", x(s) + 2, H - 4);
    }
  }
  // Notes: sounding ones reach to now.
  for (const [part, notes] of Object.entries(view.parts)) {
    const colour = COLOURS[part] || COLOURS.other;
    for (const n of notes) {
      const end = n[2] == null ? view.now : n[2];
      if (end < view.t0 || n[1] > view.t1 || n[0] < lo || n[0] > hi) continue;
      ctx.globalAlpha = 0.45 + 0.55 * (n[3] || 100) / 127;
      ctx.fillStyle = colour;
      ctx.fillRect(x(n[1]), y(n[0]) + 1, Math.max(x(end) - x(n[1]), 3), Math.max(rowH - 2, 2));
      if (view.onDrawn) view.onDrawn(part, n);
    }
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = "#0f172a";
  ctx.fillRect(GUTTER - 1, 0, 1, H - FOOT);
}

window.improviserRoll = { drawRoll, noteName, pitchRange };
