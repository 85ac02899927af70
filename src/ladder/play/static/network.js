// ladder play: the network drawn, as in TensorFlow Playground. Each unit is the thumbnail play.js
// already paints in its column of #units; here the output column is added and the columns are
// joined by links, width |weight|, blue for a positive weight and orange for a negative one,
// redrawn with every frame. Hovering a link or a unit tells its weight or bias; while paused a
// click sets it by hand ({type: "weight"}), and the server answers with a frame drawn from it.
// A large network's playing frames carry the weights only now and then: the last ones are kept.
// Uses play.js's globals: $, send, handlers, lastFrame, data, status, classColours, ORANGE, BLUE.
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const NEAR = 5;  // pixels: a pointer this close to a link is on it (a 1-pixel line is too thin to aim at)
const network = {weights: null, biases: null, shape: "", size: "", links: [], hovered: null, editing: null};

const shownFrame = handlers.frame;
handlers.frame = (m) => { shownFrame(m); drawNetwork(m); };

function drawNetwork(m) {
  if (m.weights) Object.assign(network, {weights: m.weights, biases: m.biases});
  if (!network.weights) return;
  const box = $("units"), weights = network.weights, outputs = weights.at(-1).length;
  let column = box.querySelector(".col.output");
  if (!column || column.children.length !== outputs) {  // play.js rebuilds #units when the layers change
    column?.remove();
    column = document.createElement("div");
    column.className = "col output";
    column.append(...Array.from({length: outputs}, (_, j) => Object.assign(document.createElement("canvas"),
      {width: 20, height: 20, title: outputName(j, outputs)})));
    box.append(column);
  }
  paintOutputs(column, outputs);
  const shape = weights.map((w) => `${w.length}×${w[0]?.length ?? 0}`).join(","), size = `${box.scrollWidth}×${box.scrollHeight}`;
  const moved = !box.querySelector("#network-links") || network.shape !== shape || network.size !== size;
  if (moved) layOut(box, weights);
  if (!moved && !m.weights) return;
  for (const link of network.links) {
    const w = weights[link.layer - 1][link.to][link.from];
    link.line.setAttribute("stroke-width", linkWidth(w));
    link.line.setAttribute("stroke", w === null ? "#999" : `rgb(${w < 0 ? ORANGE : BLUE})`);
  }
  if (network.hovered) tell(network.hovered);
}

// A link's width: 0.5 px at 0 to 6 px at |w| ≥ 4 (TensorFlow Playground's scale is 1 to 10 px on 0 to 5).
const linkWidth = (w) => (0.5 + Math.min(Math.abs(w ?? 0), 4) / 4 * 5.5).toFixed(2);

function paintOutputs(column, outputs) {
  const canvases = column.querySelectorAll("canvas");
  if (outputs === 1) {  // one output: the boundary itself, small, as the last unit
    const ctx = canvases[0].getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage($("boundary"), 0, 0, 20, 20);
  } else {  // one output per class: its colour
    const colours = classColours(outputs);
    canvases.forEach((c, j) => { const ctx = c.getContext("2d"); ctx.fillStyle = `rgb(${colours[j]})`; ctx.fillRect(0, 0, 20, 20); });
  }
}

// The links' places, from the thumbnails' places: once per shape of the network or size of the box.
function layOut(box, weights) {
  const shape = weights.map((w) => `${w.length}×${w[0]?.length ?? 0}`).join(",");
  if (shape !== network.shape) {  // what was pointed at or being set may be gone
    network.hovered = null; tip.hidden = true; editor.hidden = true;
  }
  network.shape = shape;
  network.size = `${box.scrollWidth}×${box.scrollHeight}`;
  box.querySelector("#network-links")?.remove();
  const svg = document.createElementNS(SVG, "svg"), columns = [...box.querySelectorAll(".col")];
  svg.id = "network-links"; svg.dataset.testid = "network-links";
  svg.setAttribute("width", box.scrollWidth); svg.setAttribute("height", box.scrollHeight);
  const at = (canvas, side) => [canvas.offsetLeft + (side === "right" ? canvas.offsetWidth : 0), canvas.offsetTop + canvas.offsetHeight / 2];
  network.links = [];
  weights.forEach((rows, l) => {
    const sources = columns[l].querySelectorAll("canvas"), targets = columns[l + 1].querySelectorAll("canvas");
    rows.forEach((row, to) => row.forEach((_, from) => {
      const line = document.createElementNS(SVG, "line"), [x1, y1] = at(sources[from], "right"), [x2, y2] = at(targets[to], "left");
      for (const [name, value] of Object.entries({x1, y1, x2, y2})) line.setAttribute(name, value);
      Object.assign(line.dataset, {layer: l + 1, to, from});
      network.links.push({layer: l + 1, to, from, x1, y1, x2, y2, line});
      svg.append(line);
    }));
  });
  box.prepend(svg);
}

// -- names and values ------------------------------------------------------------------------
function outputName(j, outputs) { return outputs === 1 ? "output" : `output ${data?.labels?.[j] ?? j}`; }
function unitName(column, index) {  // column 0: the inputs; the last column: the outputs
  const outputs = network.weights.at(-1).length;
  if (column === network.weights.length) return outputName(index, outputs);
  return lastFrame.units.filter((u) => u.layer === column)[index]?.name ?? `unit ${index}`;
}
const shown = (v) => v === null ? "not a number" : `${v}`.replace("-", "−");
function describe(target) {
  const {layer, to, from} = target;
  if (from === null) {
    return layer === 0 ? `${unitName(0, to)}: an input (no bias)`
      : `${unitName(layer, to)}: bias ${shown(network.biases[layer - 1][to])}`;
  }
  return `${unitName(layer - 1, from)} → ${unitName(layer, to)}: weight ${shown(network.weights[layer - 1][to][from])}`;
}
function current(target) {
  const {layer, to, from} = target;
  return from === null ? network.biases[layer - 1][to] : network.weights[layer - 1][to][from];
}

// What the pointer is on: a unit's thumbnail ({layer, to, from: null}; layer 0 an input), or the
// nearest link within NEAR pixels, or nothing.
function under(e) {
  const box = $("units");
  if (e.target instanceof HTMLCanvasElement && e.target.parentElement?.classList.contains("col")) {
    const columns = [...box.querySelectorAll(".col")], column = e.target.parentElement;
    return {layer: columns.indexOf(column), to: [...column.children].indexOf(e.target), from: null};
  }
  const rect = box.getBoundingClientRect(), x = e.clientX - rect.left + box.scrollLeft, y = e.clientY - rect.top + box.scrollTop;
  let best = null, distance = NEAR;
  for (const link of network.links) {
    const d = toSegment(x, y, link);
    if (d <= distance) { best = link; distance = d; }
  }
  return best && {layer: best.layer, to: best.to, from: best.from};
}
function toSegment(x, y, {x1, y1, x2, y2}) {
  const dx = x2 - x1, dy = y2 - y1, t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(x - x1 - t * dx, y - y1 - t * dy);
}

// -- hover: a tip beside the pointer, kept up to date frame by frame --------------------------
const tip = Object.assign(document.createElement("div"), {id: "network-tip", hidden: true});
tip.dataset.testid = "network-tip";
document.body.append(tip);
function tell(target) {
  tip.textContent = describe(target);
  tip.hidden = false;
}
$("units").addEventListener("pointermove", (e) => {
  if (!network.weights) return;
  const target = under(e);
  network.hovered = target;
  for (const line of $("units").querySelectorAll("line.on")) line.classList.remove("on");
  if (!target) { tip.hidden = true; return; }
  if (target.from !== null) network.links.find((l) => l.layer === target.layer && l.to === target.to && l.from === target.from)?.line.classList.add("on");
  tip.style.left = `${e.clientX + 12}px`; tip.style.top = `${e.clientY + 12}px`;
  tell(target);
});
$("units").addEventListener("pointerleave", () => { network.hovered = null; tip.hidden = true; });

// -- a click while paused: set a weight or bias by hand ---------------------------------------
const editor = document.createElement("form");
editor.id = "network-edit"; editor.dataset.testid = "network-edit"; editor.hidden = true;
editor.innerHTML = `<label><span></span> <input type="number" step="any" data-testid="network-value" size="8"></label>
  <button type="submit" data-testid="network-set">set</button> <button type="button" data-testid="network-cancel">cancel</button>`;
document.body.append(editor);
const [editorText, editorValue] = [editor.querySelector("span"), editor.querySelector("input")];
editor.querySelector("[data-testid=network-cancel]").onclick = () => { editor.hidden = true; };
editor.addEventListener("keydown", (e) => { if (e.key === "Escape") editor.hidden = true; });
editor.onsubmit = (e) => {
  e.preventDefault();
  const {layer, to, from} = network.editing;
  // An empty or unreadable box is sent as null: the server's one line says what a value must be.
  send({type: "weight", layer, to, from, value: editorValue.value === "" ? null : Number(editorValue.value)});
  editor.hidden = true;
};
$("units").addEventListener("click", (e) => {
  if (!network.weights) return;
  const target = under(e);
  if (!target || target.layer === 0) return;  // an input has no bias to set
  if (classroom.lock.includes("network")) { status("this link locks the network: its weights are not set by hand here"); return; }
  if (lastFrame.playing) { status("pause training first: a weight or bias is set by hand only while paused"); return; }
  network.editing = target;
  editorText.textContent = describe(target).replace(/:.*$/, target.from === null ? ": bias" : ": weight");
  editorValue.value = current(target) ?? "";
  editor.style.left = `${e.clientX + 8}px`; editor.style.top = `${e.clientY + 8}px`;
  editor.hidden = false;
  editorValue.focus(); editorValue.select();
});
