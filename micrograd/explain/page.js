"use strict";
(function () {
  // The widget this script belongs to: its parent element (a notebook may hold several widgets).
  let root = document.currentScript && document.currentScript.parentElement;
  if (!root || !root.classList.contains("mg-explain")) {
    const all = document.querySelectorAll(".mg-explain:not([data-ready])");
    root = all[all.length - 1];
  }
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const $ = function (selector) { return root.querySelector(selector); };
  const panels = Array.from(root.querySelectorAll("section.mg-panel"));
  const data = JSON.parse($("script.mg-data").textContent);
  const graph = $(".mg-graph");
  const counter = $(".mg-counter");
  const prev = $(".mg-prev");
  const next = $(".mg-next");
  const scoreBox = $(".mg-score");
  const isPage = root.dataset.page === "1";
  const quiz = root.dataset.quiz === "1";
  let current = 0;

  function byId(id) { return graph.querySelector('[id="' + id + '"]'); }

  // A value's box shows "data ..." and "grad ..." texts: set them by their first word.
  function setText(id, word, text, changed) {
    const node = byId(id);
    if (!node) return;
    for (const t of node.querySelectorAll("text")) {
      if (t.textContent.indexOf(word + " ") === 0) {
        t.textContent = word + " " + text;
        t.classList.toggle("changed", !!changed);
      }
    }
  }

  function state(panel) {
    const kind = panel.dataset.kind, k = Number(panel.dataset.index);
    const values = Object.assign({}, data.data), grads = {}, changed = {};
    if (kind === "forward") {
      Object.assign(values, data.unknown);
      for (let i = 0; i <= k; i++) Object.assign(values, data.forward[i]);
      for (const id of Object.keys(data.start)) grads[id] = "?";
      for (const id of Object.keys(data.forward[k])) changed[id] = "data";
    } else {
      Object.assign(grads, data.start);
      // an exercise not yet checked must not show its answers: the gradients it changes read "?"
      const form = panel.querySelector("form.mg-quiz");
      const hide = kind === "backward" && form && !form.dataset.checked;
      const last = kind === "backward" ? (hide ? k - 1 : k) : data.steps.length - 1;
      for (let i = 0; i <= last; i++) Object.assign(grads, data.steps[i]);
      if (kind === "backward") {
        for (const id of Object.keys(data.steps[k])) {
          changed[id] = "grad";
          if (hide) grads[id] = "?";
        }
      } else {
        Object.assign(values, data.update);
        for (const id of Object.keys(data.update)) changed[id] = "data";
      }
    }
    return { values: values, grads: grads, changed: changed };
  }

  function show(k, fromHash) {
    if (!panels.length) { prev.disabled = next.disabled = true; return; }
    current = Math.max(0, Math.min(panels.length - 1, k));
    const panel = panels[current];
    const s = state(panel);
    for (const id of Object.keys(s.values)) setText(id, "data", s.values[id], s.changed[id] === "data");
    for (const id of Object.keys(s.grads)) setText(id, "grad", s.grads[id], s.changed[id] === "grad");
    graph.querySelectorAll(".active").forEach(function (el) { el.classList.remove("active"); });
    const nodeId = panel.dataset.node;
    // The node and everything drawn for its op have ids "v7", "v7-op", "v7-in0", ...
    if (nodeId) {
      graph.querySelectorAll('[id="' + nodeId + '"], [id^="' + nodeId + '-"]')
        .forEach(function (el) { el.classList.add("active"); });
    }
    panels.forEach(function (p, i) { p.hidden = i !== current; });
    counter.textContent = panel.dataset.title;
    prev.disabled = current === 0;
    next.disabled = current === panels.length - 1;
    if (isPage && !fromHash && history.replaceState) history.replaceState(null, "", "#" + panel.dataset.anchor);
  }

  function fromHash() {
    const anchor = decodeURIComponent(location.hash.slice(1));
    const i = panels.findIndex(function (p) { return p.dataset.anchor === anchor; });
    return i;
  }

  // -- exercises: type the local derivative and the new gradient, then check --------------------
  let right = 0, asked = 0;

  function parse(text) {
    const cleaned = text.trim().replace(/\u2212/g, "-").replace(",", ".");
    if (cleaned === "" || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) return null;
    return Number(cleaned);
  }

  function close(answer, correct) {
    return Math.abs(answer - correct) <= 5e-3 * Math.abs(correct) + 1e-12;
  }

  function check(form) {
    if (form.dataset.checked) return;
    const inputs = Array.from(form.querySelectorAll("input"));
    const answers = inputs.map(function (input) { return parse(input.value); });
    const verdict = form.querySelector(".mg-verdict");
    if (answers.some(function (a) { return a === null; })) {
      verdict.className = "mg-verdict wrong";
      verdict.textContent = "Type a number in every box (e.g. 0.25 or -1.5e-3).";
      return;
    }
    form.dataset.checked = "1";
    let good = 0;
    inputs.forEach(function (input, i) {
      const ok = close(answers[i], Number(input.dataset.answer));
      input.classList.add(ok ? "right" : "wrong");
      input.disabled = true;
      if (!ok) {  // the right number beside the wrong one
        const correct = document.createElement("span");
        correct.className = "mg-correct";
        correct.textContent = "\u2192 " + Number(Number(input.dataset.answer).toPrecision(4));
        input.insertAdjacentElement("afterend", correct);
      }
      if (ok) good++;
    });
    right += good;
    asked += inputs.length;
    verdict.className = "mg-verdict " + (good === inputs.length ? "right" : "wrong");
    verdict.textContent = good === inputs.length ? "Right!" :
      "Not quite: " + good + " of " + inputs.length + " right. The working:";
    form.parentElement.querySelector(".mg-working").hidden = false;
    scoreBox.textContent = "Score " + right + " / " + asked;
    show(current, true);  // the graph may show this step's gradients now
  }

  root.querySelectorAll("form.mg-quiz").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); check(form); });
  });

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  (isPage ? document : root).addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT") return;  // typing an answer
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    else if (event.key === "Home") { show(0); event.preventDefault(); }
    else if (event.key === "End") { show(panels.length - 1); event.preventDefault(); }
  });
  if (isPage) {
    window.addEventListener("hashchange", function () { const i = fromHash(); if (i >= 0) show(i, true); });
  }
  const start = isPage ? fromHash() : -1;
  show(start >= 0 ? start : Number(root.dataset.first || 0), start >= 0);
  if (quiz) scoreBox.hidden = false;
})();
