// ronbun serve: the page's logic (no libraries, no network beyond this server).
// Talks to the JSON API of ronbun/serve/app.py and draws attention maps on a <canvas>.
"use strict";

const $ = (id) => document.getElementById(id);

const KIND_HELP = {
  encoder: "Encoder self-attention (§3.2.3): every source token attends to every source token.",
  decoder: "Decoder masked self-attention (§3.2.3): each target position sees only earlier positions; " +
    "rows and columns are the decoder's input (<s> y1 y2 …).",
  cross: "Encoder-decoder attention (§3.2.3): each target token (the one its position produces) attends " +
    "to the source tokens. The mean over layers and heads reads as a soft alignment.",
  self: "GPT-1 masked self-attention (§3.1 of the GPT paper): each position sees itself and earlier positions; " +
    "⏎ is the line break the model saw at the start of every line.",
};

// viridis, 9 stops (matplotlib), for weights scaled to [0, 1]
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

const state = { models: [], limits: {}, result: null, mat: null, hover: null };

function color(t) {
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  const c = VIRIDIS[i].map((v, k) => Math.round(v + f * (VIRIDIS[i + 1][k] - v)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function label(piece) {
  const t = String(piece).replace(/\n/g, "⏎").trim();
  return t === "" ? "␣" : t;
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (e) {
    throw new Error("Cannot reach the ronbun server. Is it still running?");
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (e) {
    data = null;
  }
  if (!resp.ok) {
    throw new Error((data && data.error) || `The server answered ${resp.status} ${resp.statusText}.`);
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function currentModel() {
  return state.models.find((m) => m.name === $("model").value) || state.models[0];
}

function onModelChange() {
  const m = currentModel();
  if (!m) return;
  const gpt = m.model_type === "gpt";
  $("mt-controls").hidden = gpt;
  $("gpt-controls").hidden = !gpt;
  $("input-label").textContent = gpt ? "Prompt to continue" : "Sentence to translate";
  $("run").textContent = gpt ? "Generate" : "Translate";
  $("output-title").textContent = gpt ? "Continuation" : "Translation";
  $("input").placeholder = gpt ? "The old man sees" : "The old man sees the small dog.";
  const layers = Object.entries(m.layers).map(([k, v]) => `${v} ${k}`).join(", ");
  $("model-info").textContent =
    `${m.model_type}: ${layers} layers, ${m.heads} heads, d_model ${m.d_model}, ` +
    `${m.parameters.toLocaleString("en")} parameters`;
  updateCounter();
}

function updateCounter() {
  const n = $("input").value.length;
  const max = state.limits.max_chars || 500;
  const c = $("counter");
  c.textContent = `${n} / ${max} characters`;
  c.classList.toggle("over", n > max);
}

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === "" ? null : Number(v);
}

async function run(event) {
  if (event) event.preventDefault();
  clearError();
  const m = currentModel();
  if (!m) {
    showError("No checkpoint is loaded.");
    return;
  }
  const text = $("input").value;
  let path;
  let body;
  if (m.model_type === "gpt") {
    path = "/api/generate";
    body = {
      model: m.name,
      prompt: text,
      temperature: numberOrNull("temperature"),
      top_k: numberOrNull("top-k"),
      top_p: numberOrNull("top-p"),
      max_tokens: numberOrNull("max-tokens"),
      seed: numberOrNull("seed"),
      greedy: $("greedy").checked,
    };
  } else {
    path = "/api/translate";
    body = { model: m.name, text, beam: Number($("beam").value), alpha: numberOrNull("alpha") };
  }
  $("run").disabled = true;
  $("busy").hidden = false;
  try {
    const result = await api(path, body);
    showResult(result);
  } catch (e) {
    showError(e.message);
  } finally {
    $("run").disabled = false;
    $("busy").hidden = true;
  }
}

// replace the options; keep the old choice if asked and still possible; returns whether it was kept
function fillSelect(select, options, keep) {
  const old = select.value;
  select.innerHTML = "";
  for (const [value, text] of options) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }
  const kept = keep && options.some(([v]) => v === old);
  if (kept) select.value = old;
  return kept;
}

function showResult(result) {
  state.result = result;
  state.hover = null;
  $("result").hidden = false;
  const out = $("output");
  out.textContent = result.output === "" ? "(empty)" : (result.model_type === "gpt" ? result.input : "") + result.output;
  out.classList.toggle("continuation", result.model_type === "gpt");
  $("meta").textContent = `${result.search} · ${result.elapsed_ms} ms`;
  const kinds = Object.keys(result.attention);
  if (!fillSelect($("kind"), kinds.map((k) => [k, k]), true)) {
    $("kind").value = kinds.includes("cross") ? "cross" : kinds[0];
  }
  onKindChange(true);
  $("viewer").hidden = false;
  draw();
}

function onKindChange(keep) {
  const a = state.result.attention[$("kind").value];
  const nLayers = a.weights.length;
  const nHeads = a.weights[0].length;
  const layers = [["mean", "mean of all"]];
  for (let i = 0; i < nLayers; i++) layers.push([String(i), `layer ${i}`]);
  const heads = [["mean", "mean of all"]];
  for (let i = 0; i < nHeads; i++) heads.push([String(i), `head ${i}`]);
  // default: the last layer, head 0; a new result keeps the reader's choice when it still exists
  if (!fillSelect($("layer"), layers, keep === true)) $("layer").value = String(nLayers - 1);
  if (!fillSelect($("head"), heads, keep === true)) $("head").value = "0";
  $("kind-help").textContent = KIND_HELP[$("kind").value] || "";
  state.hover = null;
}

// the (rows × cols) matrix for the selected layer / head; "mean" averages
function matrix() {
  const a = state.result.attention[$("kind").value];
  const lsel = $("layer").value;
  const hsel = $("head").value;
  const layers = lsel === "mean" ? a.weights.map((_, i) => i) : [Number(lsel)];
  const nq = a.rows.length;
  const nk = a.cols.length;
  const m = Array.from({ length: nq }, () => new Array(nk).fill(0));
  let count = 0;
  for (const l of layers) {
    const heads = hsel === "mean" ? a.weights[l].map((_, i) => i) : [Number(hsel)];
    for (const h of heads) {
      const w = a.weights[l][h];
      for (let i = 0; i < nq; i++) for (let j = 0; j < nk; j++) m[i][j] += w[i][j];
      count += 1;
    }
  }
  for (let i = 0; i < nq; i++) for (let j = 0; j < nk; j++) m[i][j] /= count;
  return { rows: a.rows.map(label), cols: a.cols.map(label), m };
}

const geom = { left: 0, top: 0, cell: 0, nq: 0, nk: 0 };

// a new selection (result, kind, layer or head): recompute the matrix, rebuild the token strips, draw
function draw() {
  if (!state.result) return;
  state.mat = matrix();
  let vmax = 1e-6;
  for (const r of state.mat.m) for (const v of r) vmax = Math.max(vmax, v);
  state.mat.vmax = vmax;
  buildTokens();
  paint();
}

// hover changes only repaint: the canvas and the colours of the existing token spans
function paint() {
  drawCanvas();
  paintTokens();
}

function drawCanvas() {
  const { rows, cols, m, vmax } = state.mat;
  const canvas = $("heatmap");
  const ctx = canvas.getContext("2d");
  const font = "12px system-ui, sans-serif";
  ctx.font = font;
  const rowW = Math.max(...rows.map((r) => ctx.measureText(r).width)) + 10;
  const colW = Math.max(...cols.map((c) => ctx.measureText(c).width)) + 10;
  const avail = Math.max(320, (canvas.parentElement.clientWidth || 800) - rowW - 90);
  const cell = Math.max(10, Math.min(34, Math.floor(avail / cols.length), Math.floor(560 / rows.length)));
  const width = Math.ceil(rowW + cell * cols.length + 80);
  const height = Math.ceil(colW + cell * rows.length + 12);
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  Object.assign(geom, { left: rowW, top: colW, cell, nq: rows.length, nk: cols.length });
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols.length; j++) {
      ctx.fillStyle = color(m[i][j] / vmax);
      ctx.fillRect(rowW + j * cell, colW + i * cell, cell, cell);
    }
  }
  const hv = state.hover;
  ctx.font = font;
  ctx.textBaseline = "middle";
  for (let i = 0; i < rows.length; i++) {
    ctx.fillStyle = hv && hv.row === i ? "#c0392b" : "#222";
    ctx.textAlign = "right";
    ctx.fillText(rows[i], rowW - 6, colW + (i + 0.5) * cell);
  }
  for (let j = 0; j < cols.length; j++) {
    ctx.save();
    ctx.translate(rowW + (j + 0.5) * cell, colW - 6);
    ctx.rotate(-Math.PI / 2);
    ctx.fillStyle = hv && hv.col === j ? "#c0392b" : "#222";
    ctx.textAlign = "left";
    ctx.fillText(cols[j], 0, 0);
    ctx.restore();
  }
  ctx.strokeStyle = "#ff3b30";
  ctx.lineWidth = 2;
  if (hv && hv.row !== undefined) {
    ctx.strokeRect(rowW + 1, colW + hv.row * cell + 1, cell * cols.length - 2, cell - 2);
  }
  if (hv && hv.col !== undefined) {
    ctx.strokeRect(rowW + hv.col * cell + 1, colW + 1, cell - 2, cell * rows.length - 2);
  }
  // colour bar
  const bx = rowW + cell * cols.length + 18;
  const bh = cell * rows.length;
  for (let y = 0; y < bh; y++) {
    ctx.fillStyle = color(1 - y / Math.max(bh - 1, 1));
    ctx.fillRect(bx, colW + y, 14, 1);
  }
  ctx.fillStyle = "#222";
  ctx.textAlign = "left";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(vmax.toFixed(2), bx + 18, colW + 6);
  ctx.fillText("0", bx + 18, colW + bh - 6);
  canvas.dataset.drawn = `${$("kind").value}/${$("layer").value}/${$("head").value}`;
  canvas.dataset.rows = String(rows.length);
  canvas.dataset.cols = String(cols.length);
  canvas.dataset.max = vmax.toFixed(4);
}

function buildTokens() {
  const { rows, cols } = state.mat;
  const strip = (el, labels, key) => {
    el.innerHTML = "";
    labels.forEach((text, i) => {
      const s = document.createElement("span");
      s.className = "tok";
      s.textContent = text;
      s.addEventListener("mouseenter", () => setHover({ [key]: i }));
      el.appendChild(s);
    });
  };
  strip($("query-tokens"), rows, "row");
  strip($("key-tokens"), cols, "col");
}

function paintTokens() {
  const { rows, cols, m, vmax } = state.mat;
  const hv = state.hover;
  const shade = (span, w) => {
    span.classList.remove("light-text", "dark-text");
    if (w === null) {
      span.style.background = "";
      return;
    }
    span.style.background = color(w / vmax);
    span.classList.add(w / vmax > 0.55 ? "dark-text" : "light-text");
  };
  [...$("query-tokens").children].forEach((s, i) => {
    s.classList.toggle("active", Boolean(hv && hv.row === i));
    shade(s, hv && hv.col !== undefined ? m[i][hv.col] : null);
  });
  [...$("key-tokens").children].forEach((s, j) => {
    s.classList.toggle("active", Boolean(hv && hv.col === j));
    shade(s, hv && hv.row !== undefined ? m[hv.row][j] : null);
  });
  const info = $("hover-info");
  if (hv && hv.row !== undefined) {
    const top = m[hv.row].map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    info.textContent = `“${rows[hv.row]}” attends most to ` +
      top.map(([v, j]) => `“${cols[j]}” (${v.toFixed(2)})`).join(", ");
  } else if (hv && hv.col !== undefined) {
    const top = m.map((r, i) => [r[hv.col], i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    info.textContent = `“${cols[hv.col]}” is attended most by ` +
      top.map(([v, i]) => `“${rows[i]}” (${v.toFixed(2)})`).join(", ");
  } else {
    info.textContent = "Hover over a row (a query token) to see what it attends to.";
  }
}

function setHover(h) {
  if (!state.mat || JSON.stringify(h) === JSON.stringify(state.hover)) return;
  state.hover = h;
  paint();
}

function onCanvasMove(event) {
  if (!state.result) return;
  const rect = event.target.getBoundingClientRect();
  const x = event.clientX - rect.left;
  const y = event.clientY - rect.top;
  const col = Math.floor((x - geom.left) / geom.cell);
  const row = Math.floor((y - geom.top) / geom.cell);
  let h = null;
  if (row >= 0 && row < geom.nq && x >= 0 && x < geom.left + geom.cell * geom.nk) h = { row };
  else if (col >= 0 && col < geom.nk && y >= 0 && y < geom.top) h = { col };
  setHover(h);
}

async function init() {
  $("form").addEventListener("submit", run);
  $("input").addEventListener("input", updateCounter);
  $("input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(e);
  });
  $("model").addEventListener("change", onModelChange);
  $("kind").addEventListener("change", () => { onKindChange(false); draw(); });
  $("layer").addEventListener("change", () => { state.hover = null; draw(); });
  $("head").addEventListener("change", () => { state.hover = null; draw(); });
  $("heatmap").addEventListener("mousemove", onCanvasMove);
  $("heatmap").addEventListener("mouseleave", () => setHover(null));
  window.addEventListener("resize", () => { if (state.mat) paint(); });
  try {
    const info = await api("/api/models");
    state.models = info.models;
    state.limits = info.limits;
    fillSelect($("model"), info.models.map((m) => [m.name, `${m.name} (${m.model_type})`]), false);
    onModelChange();
    document.body.dataset.ready = "true";
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener("DOMContentLoaded", init);
