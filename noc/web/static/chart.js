// Small live line charts in plain SVG for the consoles: new NocChart(element, label, unit).push(value).
"use strict";
class NocChart {
  constructor(element, label, unit, size = 60) {
    this.element = element; this.label = label; this.unit = unit; this.size = size; this.values = [];
    this.render();
  }
  push(value) {
    this.values.push(typeof value === "number" && isFinite(value) ? value : null);
    if (this.values.length > this.size) this.values.shift();
    this.render();
  }
  render() {
    const ns = "http://www.w3.org/2000/svg", w = 300, h = 90, pad = 14;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("preserveAspectRatio", "none");
    const known = this.values.filter(v => v !== null);
    const last = known.length ? known[known.length - 1] : null;
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", 4); text.setAttribute("y", 11); text.setAttribute("class", "label");
    text.textContent = `${this.label}: ${last === null ? "–" : last.toFixed(1)} ${this.unit}`;
    svg.appendChild(text);
    if (known.length) {
      let low = Math.min(...known), high = Math.max(...known);
      if (high - low < 1) { low -= 0.5; high += 0.5; }
      const span = Math.max(this.values.length - 1, 1);
      const x = i => (i / span) * w, y = v => h - pad / 2 - ((v - low) / (high - low)) * (h - pad * 1.5);
      const points = this.values.map((v, i) => v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)
        .filter(p => p !== null).join(" ");
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", points); line.setAttribute("class", "line");
      svg.appendChild(line);
      const i = this.values.lastIndexOf(last), dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(i).toFixed(1)); dot.setAttribute("cy", y(last).toFixed(1)); dot.setAttribute("r", 2.5);
      dot.setAttribute("class", "dot");
      svg.appendChild(dot);
    }
    this.element.replaceChildren(svg);
  }
}
window.NocChart = NocChart;
