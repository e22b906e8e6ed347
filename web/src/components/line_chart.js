// Lines on shared axes with uPlot: one per series, drawn from [x, y] points (or, for a series
// with `line: false`, its points alone), redrawn in place (setData) as points arrive, rebuilt
// only when the set of series changes.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";

// uPlot comes in its own chunk, loaded with the first chart: pages draw their first screen
// without it.
let uPlotModule = null;
function loadUPlot() {
  uPlotModule = uPlotModule || Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")])
    .then(([module]) => module.default);
  return uPlotModule;
}

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04",
  "#db2777", "#4b5563", "#65a30d"];

export function seriesColor(index) {
  if (index < PALETTE.length) return PALETTE[index];
  return `hsl(${(index * 137.5) % 360} 65% 45%)`;
}

// uPlot wants one x array and a y array per series with nulls where a series has no point.
function alignedData(series) {
  const xs = new Set();
  for (const one of series) for (const [x] of one.points) xs.add(x);
  const sorted = [...xs].sort((a, b) => a - b);
  const position = new Map(sorted.map((x, i) => [x, i]));
  const data = [sorted];
  for (const one of series) {
    const ys = new Array(sorted.length).fill(null);
    for (const [x, y] of one.points) ys[position.get(x)] = y;
    data.push(ys);
  }
  return data;
}

export function LineChart({ series, xLabel = "step", height = 260, label, points = false }) {
  const container = useRef(null);
  const plot = useRef(null);
  const shape = useRef("");
  const [uPlot, setUPlot] = useState(null);

  useEffect(() => {
    let live = true;
    loadUPlot().then((loaded) => live && setUPlot(() => loaded));
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (!uPlot) return;
    const key = series.map((one) => one.label).join("\u0000") + `|${series.length}`;
    const data = alignedData(series);
    if (plot.current && shape.current === key) {
      plot.current.setData(data);
      return;
    }
    if (plot.current) plot.current.destroy();
    shape.current = key;
    const width = Math.max(container.current.clientWidth, 200);
    const showPoints = points || data[0].length < 3;
    plot.current = new uPlot({
      width,
      height,
      legend: { show: series.length <= 12, live: series.length <= 12 },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false } },
      axes: [{ label: xLabel, size: 40 }, { size: 56 }],
      series: [
        { label: xLabel },
        ...series.map((one, index) => {
          const options = {
            label: one.label,
            stroke: one.color || seriesColor(index),
            width: one.highlight ? 2.5 : 1.5,
            spanGaps: true,
            points: { show: showPoints, size: 5 },
          };
          // A series of points only (one.line false): a dot per value, no line between them.
          if (one.line === false) {
            options.paths = () => null;
            options.points = { show: true, size: 7, fill: one.color || seriesColor(index) };
          }
          return options;
        }),
      ],
    }, data, container.current);
  }, [series, uPlot]);

  useEffect(() => {
    const observer = new ResizeObserver(() => {
      if (plot.current && container.current) {
        plot.current.setSize({ width: Math.max(container.current.clientWidth, 200), height });
      }
    });
    observer.observe(container.current);
    return () => {
      observer.disconnect();
      if (plot.current) plot.current.destroy();
      plot.current = null;
    };
  }, []);

  return html`<div class="chart" role="img" aria-label=${label} ref=${container}></div>`;
}
