// ladder play: draws what the server sends and sends what the learner changes; no training here.
"use strict";
const $ = (id) => document.getElementById(id);
const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
const send = (message) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(message));
let settings = {}, data = null, curve = [], lastFrame = null, digitBusy = false, digitDirty = false;

// -- colours: 0 = orange, 255 = blue, through white, as in TensorFlow Playground -------------
const ORANGE = [245, 147, 34], WHITE = [232, 234, 235], BLUE = [8, 119, 189];
const LUT = Array.from({length: 256}, (_, v) => {
  const t = v / 255, [a, b, s] = t < 0.5 ? [ORANGE, WHITE, t * 2] : [WHITE, BLUE, t * 2 - 1];
  return a.map((c, i) => Math.round(c + (b[i] - c) * s));
});
// k classes (more than two): Paul Tol's muted palette, told apart with every common colour-blindness;
// two classes keep the orange and blue above, which are too.
const TOL = ["#cc6677", "#332288", "#ddcc77", "#117733", "#88ccee", "#882255", "#44aa99", "#999933", "#aa4499", "#dddddd"]
  .map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
const classColours = (k) => k === 2 ? [ORANGE, BLUE] : TOL.slice(0, k);
const bytes = (grid) => Uint8Array.from(atob(grid.b64), (c) => c.charCodeAt(0));

function paint(canvas, values, width, height, discretize = false, lut = LUT) {
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = discretize ? (values[i] >= 128 ? 255 : 0) : values[i], c = lut[v];
    image.data.set([c[0], c[1], c[2], 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}
const BOUNDARY = 100;
// Each cell in the colour of its likeliest class, faded to white as that class's probability falls
// to 1/k (a toss-up); a blend of all k colours would show a third class's colour between two others.
function paintClasses(canvas, predicted, probability, k, discretize) {
  canvas.width = BOUNDARY; canvas.height = BOUNDARY;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(BOUNDARY, BOUNDARY), colours = classColours(k);
  for (let i = 0; i < BOUNDARY * BOUNDARY; i++) {
    const c = colours[predicted[i]] ?? WHITE;
    const s = discretize ? 1 : Math.min(Math.max((probability[i] / 255 - 1 / k) / (1 - 1 / k), 0), 1);
    image.data.set([...WHITE.map((w, j) => Math.round(w + (c[j] - w) * s)), 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}
const GREY = Array.from({length: 256}, (_, v) => [v, v, v]);

// -- settings: the form, the URL hash and the server agree ------------------------------------
const FIELDS = ["dataset", "noise", "train_ratio", "points", "seed", "classes", "activation", "lr", "regularization", "reg_rate", "batch_size"];
const NUMBERS = new Set(["noise", "train_ratio", "points", "seed", "classes", "lr", "reg_rate", "batch_size"]);

function fromHash() {
  const params = new URLSearchParams(location.hash.slice(1)), out = {};
  for (const [key, value] of params) {
    if (key === "features") out.features = value.split(",").filter(Boolean);
    else if (key === "hidden") out.hidden = value ? value.split(",").map(Number) : [];
    else if (FIELDS.includes(key)) out[key] = NUMBERS.has(key) ? Number(value) : value;
  }
  if (out.dataset === "csv") delete out.dataset;  // the file itself is not in the link
  return out;
}
// What other parts of the page add to the link (pins.js: the pinned runs' settings).
const linkParts = [];
function settingsParams() {
  const params = new URLSearchParams();
  for (const key of FIELDS) params.set(key, settings[key]);
  params.set("features", settings.features.join(","));
  params.set("hidden", settings.hidden.join(","));
  for (const add of linkParts) add(params);
  return params;
}
function toHash() {
  const params = settingsParams();
  for (const kind of ["hide", "lock"]) if (classroom[kind].length) params.set(kind, classroom[kind].join(","));
  history.replaceState(null, "", "#" + params.toString());
  classroomLink();
}

// -- a classroom link: `hide=lr,noise` and `lock=dataset` in the URL hide or lock those controls
// (the names are the page's data-control attributes), so a class explores one thing at a time.
const CONTROLS = [...new Set([...document.querySelectorAll("#learn [data-control]")].map((e) => e.dataset.control))];
const classroom = {hide: [], lock: []};
function classroomFromHash() {
  const params = new URLSearchParams(location.hash.slice(1)), unknown = [];
  for (const kind of ["hide", "lock"])
    for (const name of (params.get(kind) ?? "").split(",").filter(Boolean))
      (CONTROLS.includes(name) ? classroom[kind] : unknown).push(name);
  if (unknown.length) status(`link: no control named ${unknown.join(", ")}; the controls are: ${CONTROLS.join(", ")}`);
  $("classroom").hidden = classroom.hide.length + classroom.lock.length > 0;  // a learner's page shows no editor
}
function applyClassroom() {
  for (const element of document.querySelectorAll("#learn [data-control]")) {
    element.hidden = classroom.hide.includes(element.dataset.control);
    const locked = classroom.lock.includes(element.dataset.control);
    for (const input of [element, ...element.querySelectorAll("input, select, button")])
      if (["INPUT", "SELECT", "BUTTON"].includes(input.tagName)) input.disabled = locked;
  }
}
// The editor: a hide and a lock box per control; the link it builds carries the current set-up too.
$("classroom-controls").append(...CONTROLS.map((name) => {
  const row = document.createElement("tr");
  row.append(cell(name), ...["hide", "lock"].map((kind) => {
    const td = document.createElement("td"), box = Object.assign(document.createElement("input"), {type: "checkbox"});
    Object.assign(box.dataset, {kind, name, testid: `classroom-${kind}-${name}`});
    box.onchange = classroomLink;
    td.append(box);
    return td;
  }));
  return row;
}));
function classroomLink() {
  const params = settingsParams();
  for (const kind of ["hide", "lock"]) {
    const names = [...$("classroom-controls").querySelectorAll(`input[data-kind=${kind}]:checked`)].map((b) => b.dataset.name);
    if (names.length) params.set(kind, names.join(","));
  }
  $("classroom-link").value = `${location.origin}${location.pathname}#${params}`;
}
function showSettings() {
  for (const key of FIELDS) $(key).value = settings[key];
  for (const box of $("features").querySelectorAll("input")) box.checked = settings.features.includes(box.value);
  $("layer-count").textContent = `${settings.hidden.length} hidden layer(s)`;
  $("layers").replaceChildren(...settings.hidden.map((units, i) => {
    const layer = document.createElement("div"), more = button("+"), less = button("−");
    layer.className = "layer";
    more.onclick = () => change({hidden: settings.hidden.map((u, j) => j === i ? Math.min(u + 1, 64) : u)});
    less.onclick = () => change({hidden: settings.hidden.map((u, j) => j === i ? Math.max(u - 1, 1) : u)});
    layer.append(more, `${units}`, less);
    return layer;
  }));
  applyClassroom();
  toHash();
}
function button(text) { const b = document.createElement("button"); b.textContent = text; return b; }
function change(part) {
  Object.assign(settings, part);
  showSettings();
  send({type: "set", settings: part});
}

for (const key of FIELDS) $(key).addEventListener("change", (e) =>
  change({[key]: NUMBERS.has(key) ? Number(e.target.value) : e.target.value}));
$("features").addEventListener("change", () =>
  change({features: [...$("features").querySelectorAll("input:checked")].map((b) => b.value)}));
$("hidden-add").onclick = () => settings.hidden.length < 6 && change({hidden: [...settings.hidden, 4]});
$("hidden-remove").onclick = () => change({hidden: settings.hidden.slice(0, -1)});
$("regenerate").onclick = () => change({seed: (settings.seed + 1) % 100000});
for (const kind of ["play", "pause", "step", "reset"]) $(kind).onclick = () => send({type: kind});
$("reset").addEventListener("click", () => { curve = []; drawCurve(); });
$("compare").onclick = () => { $("comparison").textContent = "training the three models…"; send({type: "compare"}); };
$("show-test").onchange = () => drawPoints();
$("discretize").onchange = () => lastFrame && drawFrame(lastFrame);
$("csv").onchange = async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  if (file.size > (settings.limits?.max_csv_bytes ?? 1e6)) return status(`${file.name}: too large for the playground`);
  send({type: "csv", text: await file.text()});
};
// -- what the server sends ------------------------------------------------------------------
function status(text) { $("status").textContent = text; }
const handlers = {
  hello(m) {
    classroomFromHash();
    settings = {...m.settings, limits: m.limits};
    const wanted = fromHash();
    Object.assign(settings, wanted);
    showSettings();
    if (Object.keys(wanted).length) send({type: "set", settings: wanted});
  },
  data(m) {
    data = m; curve = []; shownConfusion = null;
    if (m.dataset === "csv") $("dataset").querySelector("[value=csv]").disabled = false;
    if (settings.dataset !== m.dataset) { settings.dataset = m.dataset; showSettings(); }
    drawPoints(); drawCurve();
  },
  frame(m) {
    lastFrame = m;
    drawFrame(m);
    if (m.diverged) status(m.diverged);
  },
  error(m) { if (digitBusy) { digitBusy = false; digitDirty = true; } status(`error: ${m.message}`); },
  busy(m) { status(m.message); },
  compare(m) { drawComparison(m); },
  digits(m) { digitModels(m); },
  digit(m) { drawDigit(m); },
  conv(m) { drawConv(m); },
};
// A message waits for the page's other scripts (pins.js) to add their handlers: the socket may
// answer while the parser still fetches them. One promise, so messages keep their order.
const parsed = new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve));
ws.onmessage = (event) => parsed.then(() => { const m = JSON.parse(event.data); handlers[m.type]?.(m); });
ws.onclose = () => status("the server closed the connection; reload the page to start again");

function drawFrame(m) {
  $("epoch").textContent = m.epoch;
  $("loss-train").textContent = m.loss_train === null ? "∞" : m.loss_train.toFixed(3);
  $("loss-test").textContent = m.loss_test === null ? "∞" : m.loss_test.toFixed(3);
  if (m.predicted) paintClasses($("boundary"), bytes(m.predicted), bytes(m.boundary), data.classes, $("discretize").checked);
  else paint($("boundary"), bytes(m.boundary), 100, 100, $("discretize").checked);
  drawClasses(m);
  if (!curve.length || curve[curve.length - 1][0] !== m.epoch) {
    if (m.epoch < (curve.at(-1)?.[0] ?? -1)) curve = [];
    curve.push([m.epoch, m.loss_train, m.loss_test]);
    drawCurve();
  }
  drawUnits(m.units);
}

function drawUnits(units) {
  const box = $("units"), layers = [];
  for (const u of units) (layers[u.layer] ??= []).push(u);
  if (box.dataset.shape !== layers.map((l) => l.length).join(",")) {
    box.dataset.shape = layers.map((l) => l.length).join(",");
    box.replaceChildren(...layers.map((l) => {
      const col = document.createElement("div");
      col.className = "col";
      col.append(...l.map((u) => Object.assign(document.createElement("canvas"), {title: u.name})));
      return col;
    }));
  }
  const canvases = box.querySelectorAll("canvas");
  units.forEach((u, i) => paint(canvases[i], bytes(u.grid), u.grid.shape[1], u.grid.shape[0]));
}

// Test accuracy per class and the confusion matrix (rows: the true class, columns: the predicted one).
let shownConfusion = null;
function drawClasses(m) {
  $("accuracy-test").textContent = m.accuracy_test === null ? "–" : `${(m.accuracy_test * 100).toFixed(1)}%`;
  $("class-view").hidden = m.confusion === null;
  const key = JSON.stringify(m.confusion);
  if (m.confusion === null || key === shownConfusion) return;
  shownConfusion = key;
  const colours = classColours(m.confusion.length), names = data.labels;
  const swatch = (k) => { const s = document.createElement("i"); s.className = "swatch"; s.style.background = `rgb(${colours[k]})`; return s; };
  const name = (k) => { const td = document.createElement("th"); td.append(swatch(k), names[k]); return td; };
  $("class-accuracy").replaceChildren(...m.class_accuracy.map((a, k) => {
    const item = document.createElement("li");
    item.append(swatch(k), `${names[k]}: ${a === null ? "–" : `${(a * 100).toFixed(0)}%`}`);
    return item;
  }));
  const table = $("confusion");
  table.replaceChildren();
  const head = table.insertRow();
  head.append(cell("true ↓ predicted →"), ...names.map((_, k) => name(k)));
  m.confusion.forEach((row, k) => {
    const tr = table.insertRow();
    tr.append(name(k), ...row.map((n, j) => { const td = cell(`${n}`); if (j === k) td.className = "right"; return td; }));
  });
}

function drawPoints() {
  const canvas = $("dots"), ctx = canvas.getContext("2d"), size = canvas.width;
  ctx.clearRect(0, 0, size, size);
  if (!data) return;
  const [low, high] = data.y_range, place = (v) => (v + data.domain) / (2 * data.domain) * size;
  const rows = [...data.train.map((r) => [...r, false]), ...($("show-test").checked ? data.test.map((r) => [...r, true]) : [])];
  const colours = data.classes > 2 ? classColours(data.classes) : null;
  for (const [x1, x2, y, test] of rows) {
    const c = colours ? colours[y] : LUT[Math.round(Math.min(Math.max((y - low) / (high - low || 1), 0), 1) * 255)];
    ctx.beginPath();
    ctx.arc(place(x1), size - place(x2), 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${c})`; ctx.fill();
    ctx.strokeStyle = test ? "#000" : "#fff"; ctx.stroke();
  }
}

// Curves drawn faintly under the live one, on the same axes: [{curve, colour}] (pins.js fills it).
const underlays = [];
function drawCurve() {
  const canvas = $("curve"), ctx = canvas.getContext("2d"), {width, height} = canvas;
  ctx.clearRect(0, 0, width, height);
  const all = [curve, ...underlays.map((u) => u.curve)].filter((c) => c.length >= 2);
  const finite = all.flat().flatMap((p) => [p[1], p[2]]).filter((v) => v !== null);
  canvas.dataset.underlays = 0;
  if (!all.length || !finite.length) return;
  const top = Math.max(...finite), last = Math.max(...all.map((c) => c.at(-1)[0])) || 1;
  const line = (points, index, colour) => {
    ctx.beginPath(); ctx.strokeStyle = colour;
    for (const p of points) if (p[index] !== null) ctx.lineTo(p[0] / last * width, height - p[index] / top * (height - 4));
    ctx.stroke();
  };
  ctx.save(); ctx.globalAlpha = 0.4;
  for (const u of underlays) if (u.curve.length >= 2) { line(u.curve, 2, u.colour); ctx.setLineDash([3, 3]); line(u.curve, 1, u.colour); ctx.setLineDash([]); }
  ctx.restore();
  canvas.dataset.underlays = underlays.filter((u) => u.curve.length >= 2).length;
  if (curve.length >= 2) for (const [index, colour] of [[1, "#0877bd"], [2, "#f59322"]]) line(curve, index, colour);
}

function drawComparison(m) {
  const table = document.createElement("table");
  table.innerHTML = `<tr><th>model</th><th>${m.metric}</th></tr>`;
  for (const row of m.rows) table.insertRow().append(cell(row.name), cell(row.score.toFixed(3)));
  const claims = document.createElement("ul");
  for (const c of m.claims) {
    const item = document.createElement("li");
    item.className = `claim ${c.holds ? "holds" : "fails"}`;
    item.textContent = `${c.text} (${c.check})`;
    claims.append(item);
  }
  $("comparison").replaceChildren(table, claims);
}
function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }

// -- tab "Draw a digit" ---------------------------------------------------------------------
for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => {
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("on", t === tab);
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== tab.dataset.tab;
  if (tab.dataset.tab === "draw") send({type: "digits"});
};
const pad = $("digit"), pen = pad.getContext("2d");
let last = null, drawn = false, lastPixels = null, picked = null, lastDigit = null;
const MOVES = {dx: " px", dy: " px", degrees: "°"};
pad.addEventListener("pointerdown", (e) => { pad.setPointerCapture(e.pointerId); last = at(e); stroke(last); });
pad.addEventListener("pointermove", (e) => { if (last) { stroke(at(e)); } });
pad.addEventListener("pointerup", () => { last = null; });
$("digit-clear").onclick = () => {
  pen.clearRect(0, 0, pad.width, pad.height); drawn = false; lastDigit = null;
  for (const r of ["linear", "mlp", "cnn"]) $(`pred-${r}`).textContent = "–";
  $("layers-inside").replaceChildren(); delete $("layers-inside").dataset.model;
  $("conv-detail").hidden = true; picked = null;
};
for (const key of Object.keys(MOVES)) $(`move-${key}`).oninput = () => {
  $(`move-${key}-value`).textContent = $(`move-${key}`).value + MOVES[key];
  if (drawn) askDigit();
};
$("move-reset").onclick = () => {
  for (const key of Object.keys(MOVES)) { $(`move-${key}`).value = 0; $(`move-${key}-value`).textContent = "0" + MOVES[key]; }
  if (drawn) askDigit();
};
$("cnn-picker").onchange = () => drawn && askDigit();
function at(e) { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; }
function stroke(point) {
  Object.assign(pen, {strokeStyle: "#fff", lineWidth: 18, lineCap: "round", lineJoin: "round"});
  pen.beginPath(); pen.moveTo(...last); pen.lineTo(...point); pen.stroke();
  last = point; drawn = true;
  askDigit();
}
function digitRequest() {
  const move = Object.fromEntries(Object.keys(MOVES).map((key) => [key, Number($(`move-${key}`).value)]));
  return {pixels: lastPixels, move, ...($("cnn-picker").value ? {model: $("cnn-picker").value} : {})};
}
function askDigit() {  // one question in flight at a time: the newest drawing is asked next
  if (digitBusy) { digitDirty = true; return; }
  const small = Object.assign(document.createElement("canvas"), {width: 112, height: 112}), ctx = small.getContext("2d");
  ctx.drawImage(pad, 0, 0, 112, 112);
  const rgba = ctx.getImageData(0, 0, 112, 112).data, ink = new Uint8Array(112 * 112);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4 + 3];
  lastPixels = btoa(String.fromCharCode(...ink));
  digitBusy = true; digitDirty = false;
  send({type: "digit", ...digitRequest()});
}
function digitModels(m) {
  $("digit-progress").hidden = m.ready;
  if (!m.ready) {
    Object.assign($("digit-progress"), {max: m.total, value: m.done});
    $("digit-progress-text").textContent = `${m.text}: epoch ${m.done} of ${m.total}`;
    return;
  }
  $("digit-progress-text").textContent = "";
  const picker = $("cnn-picker"), chosen = picker.value || m.default;
  picker.replaceChildren(...m.cnns.map((c) => Object.assign(document.createElement("option"), {
    value: c.name, textContent: `${c.name}${c.accuracy === null ? "" : ` (test accuracy ${(c.accuracy * 100).toFixed(1)}%)`}`})));
  picker.value = m.cnns.some((c) => c.name === chosen) ? chosen : m.default;
  if (digitDirty) askDigit();
  const all = bytes(m.templates);
  $("templates").replaceChildren(...Array.from({length: 10}, (_, d) => {
    const c = document.createElement("canvas"); c.title = `template of ${d}`;
    paint(c, all.subarray(d * 784, (d + 1) * 784), 28, 28); return c;
  }));
}
function drawDigit(m) {
  digitBusy = false; lastDigit = m;
  paint($("digit-input"), bytes(m.input), 28, 28, false, GREY);
  for (const [role, probs] of Object.entries(m.probabilities)) {
    const best = probs.indexOf(Math.max(...probs));
    $(`pred-${role}`).replaceChildren(`${best} (${(probs[best] * 100).toFixed(0)}%)`, ...probs.map((p, d) => {
      const bar = document.createElement("div"), length = document.createElement("i");
      bar.className = d === best ? "bar top" : "bar";
      length.style.width = `${(p * 120).toFixed(1)}px`;  // CSSOM, which the page's CSP allows
      bar.append(`${d} `, length);
      return bar;
    }));
  }
  drawLayers(m.layers);
  if (picked) send({type: "conv", ...digitRequest(), ...picked});
  if (digitDirty) askDigit();
}
// Each layer once: its heading (name, output shape, arithmetic), its pictures and its caption;
// later drawings repaint the same canvases, so a moving digit does not rebuild the page.
const SIZES = {input: 84, conv1: 84, pool1: 84, conv2: 84, pool2: 84};
function drawLayers(layers) {
  const box = $("layers-inside");
  if (box.dataset.model !== lastDigit.model) { box.dataset.model = lastDigit.model; box.replaceChildren(...layers.map(layerBox)); }
  for (const layer of layers) {
    const [n, h, w] = layer.grid.shape, values = bytes(layer.grid), canvases = $(`layer-${layer.name}`).querySelectorAll("canvas");
    if (layer.grid.shape.length === 3) for (let k = 0; k < n; k++) paint(canvases[k], values.subarray(k * h * w, (k + 1) * h * w), w, h, false, GREY);
    else paint(canvases[0], values, layer.grid.shape[1], layer.grid.shape[0], false, layer.name === "fc2" ? LUT : GREY);
  }
  if (picked) markPicked();
}
function layerBox(layer) {
  const box = document.createElement("div"), head = document.createElement("h3"), maps = document.createElement("div"), caption = document.createElement("p");
  box.className = "layer-inside"; box.id = `layer-${layer.name}`; box.dataset.testid = `layer-${layer.name}`;
  head.textContent = `${layer.name} · ${layer.layer} · ${layer.shape} · ${layer.arithmetic}`;
  caption.className = "caption"; caption.textContent = layer.caption;
  maps.className = `maps ${layer.grid.shape.length === 3 ? "grid-maps" : "strip"}`;
  const count = layer.grid.shape.length === 3 ? layer.grid.shape[0] : 1;
  maps.append(...Array.from({length: count}, (_, k) => {
    const c = document.createElement("canvas");
    c.title = count > 1 ? `${layer.name} map ${k}` : layer.name;
    if (SIZES[layer.name]) { c.style.width = c.style.height = `${SIZES[layer.name]}px`; }
    if (layer.name === "conv1" || layer.name === "conv2") {
      c.dataset.testid = `map-${layer.name}-${k}`; c.classList.add("clickable");
      c.onclick = (e) => pick(layer.name, k, c, e, layer.grid.shape[1]);
    }
    return c;
  }));
  box.append(head, maps, caption);
  return box;
}
function pick(layer, map, canvas, e, side) {  // offsetX/Y: from the canvas's inner edge, inside its border
  const row = Math.max(0, Math.min(side - 1, Math.floor(e.offsetY / canvas.clientHeight * side)));
  const col = Math.max(0, Math.min(side - 1, Math.floor(e.offsetX / canvas.clientWidth * side)));
  picked = {layer, map, row, col};
  markPicked();
  send({type: "conv", ...digitRequest(), ...picked});
}
function markPicked() {
  for (const c of document.querySelectorAll("#layers-inside canvas.picked")) c.classList.remove("picked");
  document.querySelector(`[data-testid=map-${picked.layer}-${picked.map}]`)?.classList.add("picked");
}
const num = (v) => (v < 0 ? "−" : "") + Math.abs(v).toFixed(2);
function drawConv(m) {
  const box = $("conv-detail"), head = document.createElement("h3"), kernels = document.createElement("div");
  head.textContent = `${m.layer} map ${m.map}, pixel (row ${m.row}, column ${m.col}): its ${m.kernel.length} kernel${m.kernel.length > 1 ? "s" : ""} of 3×3`;
  kernels.className = "maps grid-maps kernels";
  const all = bytes(m.kernel_grid);
  kernels.append(...m.kernel.map((_, k) => {
    const c = document.createElement("canvas"); c.title = `kernel ${k}`;
    paint(c, all.subarray(k * 9, (k + 1) * 9), 3, 3); return c;
  }));
  const lines = document.createElement("div");
  lines.className = "dot"; lines.dataset.testid = "dot-product";
  const inputs = m.layer === "conv1" ? "the drawing's normalised pixels" : "the 16 pooled conv1 maps";
  if (m.kernel.length === 1) {
    const terms = m.kernel[0].flatMap((row, i) => row.map((w, j) => `${num(w)}×${num(m.patch[0][i][j])}`));
    lines.textContent = `weights × ${inputs} under the kernel:\n${terms.join(" + ")}\n+ bias ${num(m.bias)} = ${num(m.sum)}\nReLU → ${num(m.output)}`;
  } else {
    const rows = m.per_channel.map((v, k) => `map ${k}: Σ of 9 weight × input = ${num(v)}`);
    const first = m.kernel[0].flatMap((row, i) => row.map((w, j) => `${num(w)}×${num(m.patch[0][i][j])}`));
    lines.textContent = `weights × ${inputs} under the kernels, one 3×3 sum per map:\n(map 0: ${first.join(" + ")})\n${rows.join("\n")}\nsum of the 16 ${num(m.per_channel.reduce((a, b) => a + b, 0))} + bias ${num(m.bias)} = ${num(m.sum)}\nReLU → ${num(m.output)}`;
  }
  const caption = document.createElement("p");
  caption.className = "caption";
  caption.textContent = "The kernels are this model's weights (blue positive, orange negative); the pixel is their dot product with the patch of the layer's input they lie on, plus the bias, through a ReLU.";
  box.replaceChildren(head, kernels, lines, caption);
  box.hidden = false;
}
