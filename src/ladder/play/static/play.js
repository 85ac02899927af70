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
function settingsParams() {
  const params = new URLSearchParams();
  for (const key of FIELDS) params.set(key, settings[key]);
  params.set("features", settings.features.join(","));
  params.set("hidden", settings.hidden.join(","));
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
};
ws.onmessage = (event) => { const m = JSON.parse(event.data); handlers[m.type]?.(m); };
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

function drawCurve() {
  const canvas = $("curve"), ctx = canvas.getContext("2d"), {width, height} = canvas;
  ctx.clearRect(0, 0, width, height);
  const finite = curve.flatMap((p) => [p[1], p[2]]).filter((v) => v !== null);
  if (curve.length < 2 || !finite.length) return;
  const top = Math.max(...finite), last = curve.at(-1)[0] || 1;
  for (const [index, colour] of [[1, "#0877bd"], [2, "#f59322"]]) {
    ctx.beginPath(); ctx.strokeStyle = colour;
    for (const p of curve) if (p[index] !== null) ctx.lineTo(p[0] / last * width, height - p[index] / top * (height - 4));
    ctx.stroke();
  }
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
let last = null;
pad.addEventListener("pointerdown", (e) => { pad.setPointerCapture(e.pointerId); last = at(e); stroke(last); });
pad.addEventListener("pointermove", (e) => { if (last) { stroke(at(e)); } });
pad.addEventListener("pointerup", () => { last = null; });
$("digit-clear").onclick = () => { pen.clearRect(0, 0, pad.width, pad.height); for (const r of ["linear", "mlp", "cnn"]) $(`pred-${r}`).textContent = "–"; };
function at(e) { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; }
function stroke(point) {
  Object.assign(pen, {strokeStyle: "#fff", lineWidth: 18, lineCap: "round", lineJoin: "round"});
  pen.beginPath(); pen.moveTo(...last); pen.lineTo(...point); pen.stroke();
  last = point;
  askDigit();
}
function askDigit() {  // one question in flight at a time: the newest drawing is asked next
  if (digitBusy) { digitDirty = true; return; }
  const small = Object.assign(document.createElement("canvas"), {width: 112, height: 112}), ctx = small.getContext("2d");
  ctx.drawImage(pad, 0, 0, 112, 112);
  const rgba = ctx.getImageData(0, 0, 112, 112).data, ink = new Uint8Array(112 * 112);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4 + 3];
  digitBusy = true; digitDirty = false;
  send({type: "digit", pixels: btoa(String.fromCharCode(...ink))});
}
function digitModels(m) {
  $("digit-progress").hidden = m.ready;
  if (!m.ready) {
    Object.assign($("digit-progress"), {max: m.total, value: m.done});
    $("digit-progress-text").textContent = `${m.text}: epoch ${m.done} of ${m.total}`;
    return;
  }
  $("digit-progress-text").textContent = "";
  if (digitDirty) askDigit();
  const all = bytes(m.templates);
  $("templates").replaceChildren(...Array.from({length: 10}, (_, d) => {
    const c = document.createElement("canvas"); c.title = `template of ${d}`;
    paint(c, all.subarray(d * 784, (d + 1) * 784), 28, 28); return c;
  }));
}
function drawDigit(m) {
  digitBusy = false;
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
  const maps = bytes(m.feature_maps);
  $("maps").replaceChildren(...Array.from({length: m.feature_maps.shape[0]}, (_, k) => {
    const c = document.createElement("canvas"); paint(c, maps.subarray(k * 784, (k + 1) * 784), 28, 28, false, GREY); return c;
  }));
  if (digitDirty) askDigit();
}
