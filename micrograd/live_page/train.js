// The training page's script: draws the recorded frame the slider points at. All data comes from
// the JSON in the page (micrograd.live); nothing is loaded.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const frames = D.frames;
  const slider = document.getElementById("step");
  const play = document.getElementById("play");
  const counter = document.getElementById("counter");
  const stats = document.getElementById("stats");
  const SVGNS = "http://www.w3.org/2000/svg";
  slider.max = String(frames.length - 1);

  function decode(b64) {
    const text = atob(b64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  function rgb(hex) {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }
  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (parent) parent.appendChild(el);
    return el;
  }
  const index = new Map(D.names.map((name, i) => [name, i]));

  // -- decision boundary ---------------------------------------------------------------------
  const boundary = document.getElementById("boundary");
  const bctx = boundary.getContext("2d");
  const [x0, x1, y0, y1] = D.extent;
  function toPixel(x, y) {
    return [((x - x0) / (x1 - x0)) * boundary.width, ((y1 - y) / (y1 - y0)) * boundary.height];
  }
  // The grid is drawn one pixel per cell, then scaled up smoothly onto the canvas: each cell's own
  // colour at its centre, blended between centres.
  const cellsCanvas = document.createElement("canvas");
  cellsCanvas.width = D.resolution;
  cellsCanvas.height = D.resolution;
  function drawBoundary(frame) {
    const R = D.resolution;
    const classes = decode(frame.boundary);
    const sure = decode(frame.confidence);
    const cctx = cellsCanvas.getContext("2d");
    const image = cctx.createImageData(R, R);
    const colors = D.regionColors.map(rgb);
    for (let k = 0; k < R * R; k++) {
      const c = colors[classes[k] % colors.length];
      const a = 0.35 + (0.65 * sure[k]) / 255; // paler where the network is less sure
      for (let ch = 0; ch < 3; ch++) image.data[4 * k + ch] = Math.round(255 - a * (255 - c[ch]));
      image.data[4 * k + 3] = 255;
    }
    cctx.putImageData(image, 0, 0);
    bctx.imageSmoothingEnabled = true;
    bctx.drawImage(cellsCanvas, 0, 0, boundary.width, boundary.height);
    D.points.forEach(([x, y, c], n) => {
      const [px, py] = toPixel(x, y);
      bctx.beginPath();
      bctx.arc(px, py, n === D.point ? 5.5 : 3.5, 0, 2 * Math.PI);
      bctx.fillStyle = D.pointColors[c % D.pointColors.length];
      bctx.fill();
      bctx.lineWidth = n === D.point ? 2.5 : 0.8;
      bctx.strokeStyle = n === D.point ? "#000" : "#212529";
      bctx.stroke();
    });
    boundary.dataset.step = String(frame.step);
  }

  // -- loss curve ----------------------------------------------------------------------------
  const loss = document.getElementById("loss");
  const W = 440, H = 260, L = 48, Rm = 12, T = 12, B = 34;
  const curve = D.curve;
  const logScale = curve.loss.length > 0 && Math.min(...curve.loss) > 0;
  const f = (v) => (logScale ? Math.log10(v) : v);
  const lo = curve.loss.length ? Math.min(...curve.loss.map(f)) : 0;
  const hi = curve.loss.length ? Math.max(...curve.loss.map(f)) : 1;
  const span = hi - lo || 1;
  const sx = (s) => L + ((W - L - Rm) * s) / Math.max(1, D.steps);
  const sy = (v) => T + (H - T - B) * (1 - (f(v) - lo) / span);
  svg("line", { x1: L, y1: H - B, x2: W - Rm, y2: H - B, stroke: "#adb5bd" }, loss);
  svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#adb5bd" }, loss);
  const label = (text, x, y, anchor) => {
    const t = svg("text", { x, y, "font-size": 11, fill: "#495057", "text-anchor": anchor }, loss);
    t.textContent = text;
  };
  label("step", (L + W - Rm) / 2, H - 6, "middle");
  label("0", L, H - B + 14, "middle");
  label(String(D.steps), W - Rm, H - B + 14, "middle");
  if (curve.loss.length) {
    const top = logScale ? Math.pow(10, hi) : hi;
    const bottom = logScale ? Math.pow(10, lo) : lo;
    label(top.toPrecision(3), L - 4, T + 4, "end");
    label(bottom.toPrecision(3), L - 4, H - B, "end");
    const points = curve.step.map((s, i) => `${sx(s).toFixed(1)},${sy(curve.loss[i]).toFixed(1)}`);
    svg("polyline", { points: points.join(" "), fill: "none", stroke: D.positive, "stroke-width": 1.6 }, loss);
  }
  const lossLine = svg("line", { id: "loss-line", y1: T, y2: H - B, stroke: "#e03131", "stroke-dasharray": "3,3" }, loss);
  const marker = svg("circle", { id: "loss-marker", r: 5, fill: "#e03131" }, loss);
  function drawLoss(frame) {
    const x = sx(frame.step);
    lossLine.setAttribute("x1", x);
    lossLine.setAttribute("x2", x);
    marker.setAttribute("cx", x);
    if (frame.loss === null) {
      marker.setAttribute("visibility", "hidden");
    } else {
      marker.setAttribute("visibility", "visible");
      marker.setAttribute("cy", sy(parseFloat(frame.loss)));
    }
  }

  // -- network view (after TensorFlow Playground) ---------------------------------------------
  const network = document.getElementById("network");
  const widest = Math.max(D.nin, ...D.layers.map((layer) => layer.length));
  const S = widest > 8 ? 30 : 44; // a neuron's heatmap, in pixels
  const GAP = widest > 8 ? 8 : 16;
  const COLUMN = 230;
  const height = widest * (S + GAP) + 24;
  const width = (D.layers.length + 1) * COLUMN;
  network.style.width = `${width}px`;
  network.style.height = `${height}px`;
  const wires = svg("svg", { width, height, style: "position:absolute;left:0;top:0" }, network);
  const where = []; // per column: each neuron's centre
  const canvases = [];
  const sizes = [D.nin, ...D.layers.map((layer) => layer.length)];
  sizes.forEach((n, c) => {
    const left = 40 + c * COLUMN;
    const top0 = 20 + (height - 20 - n * (S + GAP)) / 2;
    where.push([]);
    for (let j = 0; j < n; j++) {
      const top = top0 + j * (S + GAP);
      where[c].push([left + S / 2, top + S / 2, left, top]);
    }
  });
  D.layers.forEach((layer, k) => {
    layer.forEach((neuron, j) => {
      for (let i = 0; i < neuron.size; i++) {
        const [ax, ay] = where[k][i];
        const [bx, by] = where[k + 1][j];
        svg("line", { id: `edge-${neuron.name}.w${i}`, x1: ax + S / 2, y1: ay, x2: bx - S / 2, y2: by }, wires);
      }
    });
  });
  sizes.forEach((n, c) => {
    for (let j = 0; j < n; j++) {
      const [, , left, top] = where[c][j];
      const canvas = document.createElement("canvas");
      canvas.width = D.neuronResolution;
      canvas.height = D.neuronResolution;
      canvas.style.left = `${left}px`;
      canvas.style.top = `${top}px`;
      canvas.style.width = `${S}px`;
      canvas.style.height = `${S}px`;
      canvas.title = c === 0 ? `x${j}` : D.layers[c - 1][j].name;
      canvas.id = c === 0 ? `input-x${j}` : `neuron-${D.layers[c - 1][j].name}`;
      network.appendChild(canvas);
      if (c > 0) canvases.push(canvas);
      if (c === 0) drawInput(canvas, j);
    }
    const caption = document.createElement("div");
    caption.className = "label";
    caption.style.left = `${40 + c * COLUMN}px`;
    caption.style.top = "0px";
    caption.textContent = c === 0 ? "inputs" : `layer ${c - 1}: ${D.layers[c - 1][0].activation}`;
    network.appendChild(caption);
  });
  function paint(canvas, values) {
    // values in [-1, 1]: blue positive, orange negative, white at 0
    const r = D.neuronResolution;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(r, r);
    const pos = rgb(D.positive), neg = rgb(D.negative);
    for (let k = 0; k < r * r; k++) {
      const v = values[k];
      const c = v >= 0 ? pos : neg;
      const a = Math.min(1, Math.abs(v));
      for (let ch = 0; ch < 3; ch++) image.data[4 * k + ch] = Math.round(255 - a * (255 - c[ch]));
      image.data[4 * k + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }
  function drawInput(canvas, which) {
    const r = D.neuronResolution;
    const values = new Float32Array(r * r);
    for (let j = 0; j < r; j++)
      for (let i = 0; i < r; i++) {
        const u = (i + 0.5) / r, v = (j + 0.5) / r;
        const x = x0 + (x1 - x0) * u, y = y1 - (y1 - y0) * v;
        const m = which === 0 ? Math.max(Math.abs(x0), Math.abs(x1)) : Math.max(Math.abs(y0), Math.abs(y1));
        values[j * r + i] = (which === 0 ? x : y) / m;
      }
    paint(canvas, values);
  }
  function drawNetwork(frame) {
    frame.neurons.forEach(([b64], n) => {
      const bytes = decode(b64);
      paint(canvases[n], Array.from(bytes, (b) => (b - 128) / 127));
    });
    let biggest = 0;
    const weights = new Map();
    D.layers.forEach((layer) =>
      layer.forEach((neuron) => {
        for (let i = 0; i < neuron.size; i++) {
          const name = `${neuron.name}.w${i}`;
          const w = parseFloat(frame.params[index.get(name)][0]);
          weights.set(name, w);
          biggest = Math.max(biggest, Math.abs(w));
        }
      })
    );
    for (const [name, w] of weights) {
      const line = document.getElementById(`edge-${name}`);
      line.setAttribute("stroke", w >= 0 ? D.positive : D.negative);
      line.setAttribute("stroke-width", (0.4 + (5 * Math.abs(w)) / (biggest || 1)).toFixed(2));
      line.setAttribute("stroke-opacity", "0.75");
    }
  }

  // -- parameters ----------------------------------------------------------------------------
  const tbody = document.querySelector("#params tbody");
  const cells = D.names.map((name) => {
    const row = tbody.insertRow();
    row.insertCell().textContent = name;
    return [row.insertCell(), row.insertCell()];
  });
  function drawParams(frame) {
    frame.params.forEach(([value, grad], i) => {
      cells[i][0].textContent = value;
      cells[i][1].textContent = grad || "\u2014";
    });
  }

  // -- the point's graph ---------------------------------------------------------------------
  const graphNodes = new Map();
  document.querySelectorAll("#graph g.node").forEach((g) => {
    if (/^v[0-9]+$/.test(g.id)) graphNodes.set(g.id, Array.from(g.querySelectorAll("text")));
  });
  function drawGraph(frame) {
    for (const [id, texts] of graphNodes) {
      const shown = frame.graph[id];
      if (!shown) continue;
      for (const t of texts) {
        if (t.textContent.startsWith("data ")) t.textContent = shown[0];
        else if (t.textContent.startsWith("grad ")) t.textContent = shown[1];
      }
    }
  }

  // -- the frame shown -----------------------------------------------------------------------
  function show(i) {
    const frame = frames[i];
    slider.value = String(i);
    counter.textContent = `step ${frame.step} / ${D.steps}`;
    stats.textContent =
      frame.loss === null
        ? "before training"
        : `loss ${frame.loss}, training accuracy ${(100 * frame.accuracy).toFixed(1)}%`;
    drawBoundary(frame);
    drawLoss(frame);
    drawNetwork(frame);
    drawParams(frame);
    drawGraph(frame);
  }
  let timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "Play";
  }
  play.addEventListener("click", () => {
    if (timer !== null) return stop();
    if (Number(slider.value) >= frames.length - 1) show(0);
    play.textContent = "Pause";
    timer = setInterval(() => {
      const next = Number(slider.value) + 1;
      if (next >= frames.length) return stop();
      show(next);
    }, 400);
  });
  slider.addEventListener("input", () => show(Number(slider.value)));
  // page.html#frame=K opens at recorded frame K (a link to a moment of training)
  const asked = /^#frame=(\d+)$/.exec(location.hash);
  show(asked ? Math.min(Number(asked[1]), frames.length - 1) : 0);
})();
