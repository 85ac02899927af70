// ladder play: runs side by side (issue 35, point 3). "pin" keeps the run on screen: its settings,
// loss curves, last heat map, test score, epochs and seconds. Up to four pins stay as thumbnails,
// their curves faint under the live one; "reset to the same weights" trains new settings from the
// network the last run started from, so two settings start equal. Pins live in the page; the link
// carries their settings (not their results), so a shared link sets up the same comparison to redo.
// Loaded after play.js, whose globals it uses: settings, curve, lastFrame, underlays, handlers.
"use strict";
// One block: its names stay out of the global scope that play.js and the page's other parts share.
{
  const MAX_PINS = 4;
  // Four of Paul Tol's colours, none of them the live curves' blue or orange.
  const PIN_COLOURS = ["#882255", "#117733", "#332288", "#999933"];
  const PIN_KEYS = [...FIELDS, "features", "hidden"];
  const THUMB_SIZE = 80;
  // Oldest first: {settings, curve, thumbnail, epoch, seconds, accuracy, loss, colour}; a pin that came
  // with a link has its settings only (curve null) until that run is trained and pinned.
  const pins = [];
  const linkedPins = new URLSearchParams(location.hash.slice(1)).getAll("pin");  // read before hello rewrites the hash

  // -- seconds trained: a frame that shows training adds the time since the frame before it, or since
  // the play or step click that asked for it (so the time a learner spends paused never counts)
  const clock = {seconds: 0, clicked: null, frame: null, at: null};
  for (const id of ["play", "step"]) $(id).addEventListener("click", () => { clock.clicked ??= performance.now(); });
  function timeFrame(m) {
    const now = performance.now(), moved = clock.at && (m.epoch !== clock.at[0] || m.progress !== clock.at[1]);
    if (m.epoch === 0 && !m.progress) clock.seconds = 0;  // a new run
    else if (moved) { clock.seconds += (now - (clock.clicked ?? clock.frame)) / 1000; clock.clicked = null; }
    clock.frame = now;
    clock.at = [m.epoch, m.progress];
  }

  // -- what a pin is called: the settings in which the pins differ ("lr 0.3, 8-8 tanh") -------------
  const ASPECTS = {
    data: (s) => `${s.dataset === "blobs" ? `${s.classes} blobs` : s.dataset}, noise ${s.noise}, seed ${s.seed}`,
    split: (s) => `${s.points} points, ${Math.round(s.train_ratio * 100)}% train`,
    features: (s) => `φ ${s.features.join(" ")}`,
    lr: (s) => `lr ${s.lr}`,
    batch_size: (s) => `batch ${s.batch_size}`,
    regularization: (s) => s.regularization === "none" ? "no penalty" : `${s.regularization} ${s.reg_rate}`,
    network: (s) => `${s.hidden.join("-") || "no hidden layer"} ${s.activation}`,
  };
  function label(pin) {
    const differ = Object.keys(ASPECTS).filter((a) => new Set(pins.map((p) => ASPECTS[a](p.settings))).size > 1);
    return (differ.length ? differ : ["lr", "network"]).map((a) => ASPECTS[a](pin.settings)).join(", ");
  }

  // -- pin, remove, restore ----------------------------------------------------------------------
  const sameSettings = (a, b) => PIN_KEYS.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
  function pinRun() {
    const m = lastFrame;
    if (!m || (m.epoch === 0 && !m.progress)) return status("nothing to pin yet: train first (step or play), then pin the run");
    const thumbnail = Object.assign(document.createElement("canvas"), {width: THUMB_SIZE, height: THUMB_SIZE});
    const ctx = thumbnail.getContext("2d");
    for (const layer of ["boundary", "dots"]) ctx.drawImage($(layer), 0, 0, THUMB_SIZE, THUMB_SIZE);
    const run = {settings: structuredClone(Object.fromEntries(PIN_KEYS.map((k) => [k, settings[k]]))),
                 curve: curve.map((p) => [...p]), thumbnail, epoch: m.epoch, progress: m.progress, seconds: clock.seconds,
                 accuracy: m.accuracy_test, loss: m.loss_test};
    const waiting = pins.findIndex((p) => !p.curve && sameSettings(p.settings, run.settings));
    if (waiting >= 0) {  // the run a link asked for: it takes that pin's place and colour
      pins[waiting] = {...run, colour: pins[waiting].colour};
    } else {
      if (pins.length === MAX_PINS) status(`${MAX_PINS} pins at most: the oldest (${label(pins.shift())}) made room for this one`);
      pins.push({...run, colour: PIN_COLOURS.find((c) => !pins.some((p) => p.colour === c))});
    }
    pinsChanged();
  }
  function removePin(pin) { pins.splice(pins.indexOf(pin), 1); pinsChanged(); }
  function restorePin(pin) {  // only what differs, so a new learning rate alone keeps the network training
    const part = Object.fromEntries(PIN_KEYS.filter((k) => !sameSettings({[k]: pin.settings[k]}, {[k]: settings[k]}))
      .map((k) => [k, structuredClone(pin.settings[k])]));
    if (Object.keys(part).length) change(part);
    status(`the settings of pin ${label(pin)}: reset (or reset to the same weights) and train to redo it`);
  }
  function pinsChanged() {
    underlays.splice(0, underlays.length, ...pins.filter((p) => p.curve).map((p) => ({curve: p.curve, colour: p.colour})));
    drawCurve();
    showPins();
    toHash();
  }

  function showPins() {
    const number = (v, digits) => v === null ? "∞" : v.toFixed(digits);
    $("pins").replaceChildren(...pins.map((pin, i) => {
      const box = document.createElement("figure"), caption = document.createElement("figcaption");
      const numbers = document.createElement("div"), remove = button("×");
      box.className = "pin"; box.dataset.testid = `pin-${i}`; box.style.borderColor = pin.colour;
      const thumbnail = pin.thumbnail ?? Object.assign(document.createElement("canvas"), {width: THUMB_SIZE, height: THUMB_SIZE});
      thumbnail.title = "click: these settings back on the page";
      thumbnail.onclick = () => restorePin(pin);
      caption.textContent = label(pin);
      numbers.className = "pin-numbers"; numbers.dataset.testid = `pin-numbers-${i}`;
      if (!pin.curve) numbers.textContent = "from the link, not run here yet: click the picture for its settings, train, pin";
      else numbers.textContent = [  // a regression's score is its test loss, the last part
        ...(pin.accuracy === null ? [] : [`test accuracy ${(pin.accuracy * 100).toFixed(1)}%`]),
        `epoch ${pin.epoch}${pin.progress ? ` (+${Math.round(pin.progress * 100)}%)` : ""}`, `${pin.seconds.toFixed(1)} s`,
        `test loss ${number(pin.curve[0][2], 3)} → ${number(pin.loss, 3)}`].join(" · ");
      remove.title = "remove this pin"; remove.dataset.testid = `pin-remove-${i}`;
      remove.onclick = () => removePin(pin);
      box.append(thumbnail, caption, numbers, remove);
      return box;
    }));
  }

  // -- the link: each pin's settings, as the keys in which it differs from the page's (`pin=lr:0.3`) --
  linkParts.push((params) => {
    for (const pin of pins)
      params.append("pin", PIN_KEYS.filter((k) => !sameSettings({[k]: pin.settings[k]}, {[k]: settings[k]}))
        .map((k) => `${k}:${Array.isArray(pin.settings[k]) ? pin.settings[k].join(",") : pin.settings[k]}`).join(";"));
  });
  function pinsFromLink() {
    for (const text of linkedPins.slice(-MAX_PINS)) {
      const pinned = structuredClone(Object.fromEntries(PIN_KEYS.map((k) => [k, settings[k]])));
      for (const pair of text.split(";").filter(Boolean)) {
        const [key, value] = [pair.slice(0, pair.indexOf(":")), pair.slice(pair.indexOf(":") + 1)];
        if (key === "features") pinned.features = value.split(",").filter(Boolean);
        else if (key === "hidden") pinned.hidden = value ? value.split(",").map(Number) : [];
        else if (FIELDS.includes(key) && !(key === "dataset" && value === "csv")) pinned[key] = NUMBERS.has(key) ? Number(value) : value;
      }
      pins.push({settings: pinned, curve: null, colour: PIN_COLOURS.find((c) => !pins.some((p) => p.colour === c))});
    }
    if (pins.length) pinsChanged();
  }

  // -- hooks into the page --------------------------------------------------------------------------
  $("pin").onclick = pinRun;
  $("reset-same").onclick = () => { send({type: "reset", same_weights: true}); curve = []; drawCurve(); };
  const pageHello = handlers.hello, pageFrame = handlers.frame;
  handlers.hello = (m) => { pageHello(m); pinsFromLink(); };
  handlers.frame = (m) => { timeFrame(m); pageFrame(m); };
  handlers.reset = (m) => status(m.message);  // the answer to "reset to the same weights": which it was
}
