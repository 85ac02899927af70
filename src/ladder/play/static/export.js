// ladder play, "export": the set-up as an experiment file (downloaded) and as Python (shown, to
// copy), both written by the server (ladder/play/export.py); and the notes of
// `ladder play --experiment FILE:RUNG` in the status line. Uses play.js's $, send, status, handlers.
"use strict";
$("export").onclick = () => send({type: "export"});
function download(filename, text, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], {type}));
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
handlers.export = (m) => {
  download(m.filename, m.toml, "application/toml");
  if (m.csv) download(m.csv.filename, m.csv.text, "text/csv");  // the file reads it from beside itself
  $("export-command").textContent = m.command;
  $("export-epoch").textContent = m.epoch;
  $("export-python").value = m.python;
  $("exported").hidden = false;
};
const openedHello = handlers.hello;
handlers.hello = (m) => {
  openedHello(m);
  if (m.experiment) status([`opened ${m.experiment.name}`, ...m.experiment.notes].join("; "));
};
