// The diagnostics dashboard of the admin listener (its page at `/`): every few seconds it fetches
// `history.json`, the per-second aggregates of the last 15 minutes that the server keeps in memory,
// and draws five charts from it with uPlot (vendor/uPlot.iife.min.js, a classic script loaded
// before this module, defines the global `uPlot`). The page keeps no figures of its own: each
// refresh shows what the server sent. Colours come from dashboard.css (custom properties), so the
// look lives in one place. `#dashboard[data-ready=true]` says the first history has been drawn;
// each chart's container carries `data-lines` and `data-peak` (what it draws), for tests.

/** How often to fetch the history. */
const REFRESH_MS = 3_000;
/** One fetch gives up after this long; the next refresh tries again. */
const FETCH_TIMEOUT_MS = 10_000;
/** The latency chart shows this many of the busiest methods (two lines each), so it stays legible. */
const MAX_LATENCY_METHODS = 8;
/** The line above each chart sums up this many of the latest seconds. */
const SUMMARY_SECONDS = 60;

/**
 * The shape of `history.json` (the server's contract). Every array has the length of `seconds`;
 * maps may be empty and any key may be missing.
 * @typedef {object} RawHistory
 * @property {number} [step_seconds]
 * @property {number[]} [seconds] unix seconds, oldest first
 * @property {number[]} [requests] HTTP requests completed in each second
 * @property {Record<string, number[]>} [rpc_calls] RPC calls per second by method
 * @property {Record<string, {p50?: (number|null)[], p99?: (number|null)[]}>} [latency_ms]
 * @property {Record<string, number[]>} [errors] RPC errors per second by kind
 * @property {{in_use?: number[], waiting?: number[], max?: number}} [pool]
 * @property {Record<string, number[]>} [throttled] refusals per second by limit
 */

/** A column of the history: one value per second, `null` where there is none. @typedef {(number|null)[]} Column */

/**
 * The history after `normalise`: every column has the length of `seconds`, every map is a Map
 * sorted by name (so a chart's series keep their order, and colour, from one refresh to the next).
 * @typedef {object} History
 * @property {number[]} seconds
 * @property {Column} requests
 * @property {Map<string, Column>} rpcCalls
 * @property {Map<string, {p50: Column, p99: Column}>} latency
 * @property {Map<string, Column>} errors
 * @property {{inUse: Column, waiting: Column, max: number|null}} pool
 * @property {Map<string, Column>} throttled
 */

/**
 * One line of a chart.
 * @typedef {object} Line
 * @property {string} label    legend text; with `colour` and `dash` it identifies the line
 * @property {Column} values
 * @property {string} colour
 * @property {number[]} [dash] canvas dash pattern (p99 lines, the pool's limit)
 * @property {boolean} [fill]  shade the area under the line
 * @property {boolean} [reference] a limit drawn for comparison (the pool's size), not a figure
 */

/**
 * What each chart shows. `id` names its container (`chart-<id>`) and summary line
 * (`summary-<id>`); `unit` formats the legend's values.
 * @typedef {object} ChartSpec
 * @property {string} id
 * @property {number} height plot height in px (the legend comes on top of it)
 * @property {(v: number) => string} format
 * @property {(h: History) => Line[]} lines
 * @property {(h: History) => string} summary
 */

const count = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const rate = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const millis = new Intl.NumberFormat('en', { maximumSignificantDigits: 3 });
const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const clockMinutes = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

/** @type {ChartSpec[]} */
const CHARTS = [
  {
    id: 'requests',
    height: 200,
    format: (v) => rate.format(v),
    lines: (h) => [
      { label: 'HTTP requests', values: h.requests, colour: colour(0), fill: true },
      ...(h.rpcCalls.size > 0
        ? [{ label: 'RPC calls', values: sumColumns([...h.rpcCalls.values()], h.seconds.length), colour: colour(1) }]
        : []),
    ],
    summary: (h) => {
      const recent = latest(h.requests, SUMMARY_SECONDS);
      const total = sum(recent);
      if (total === 0) return 'No requests in the last minute.';
      return `Last minute: ${plural(total, 'request')}, ${rate.format(total / recent.length)}/s on average, `
        + `peak ${count.format(Math.max(...recent.map((v) => v ?? 0)))}/s.`;
    },
  },
  {
    id: 'latency',
    height: 260,
    format: (v) => `${millis.format(v)} ms`,
    // By name, so a method keeps its colour while the busiest stay the same.
    lines: (h) => [...busiestMethods(h)].sort().flatMap((method, i) => {
      const { p50, p99 } = h.latency.get(method) ?? { p50: [], p99: [] };
      return [
        { label: `${method} p50`, values: p50, colour: colour(i) },
        { label: `${method} p99`, values: p99, colour: colour(i), dash: [6, 4] },
      ];
    }),
    summary: (h) => {
      const shown = busiestMethods(h);
      if (shown.length === 0) return 'No RPC calls in the last 15 minutes.';
      const known = new Set([...h.latency.keys(), ...h.rpcCalls.keys()]).size;
      const calls = shown.map((m) => `${m} ${count.format(callCount(h, m))}`).join(', ');
      const which = known > shown.length ? `The ${shown.length} busiest of ${known} methods` : 'Methods';
      return `${which} by calls: ${calls}. Solid lines p50, dashed p99.`;
    },
  },
  {
    id: 'errors',
    height: 200,
    format: (v) => rate.format(v),
    lines: (h) => [...h.errors].map(([kind, values], i) => ({ label: kind, values, colour: colour(i) })),
    summary: (h) => recentByName('error', h.errors),
  },
  {
    id: 'pool',
    height: 200,
    format: (v) => count.format(v),
    lines: (h) => [
      { label: 'in use', values: h.pool.inUse, colour: colour(0), fill: true },
      { label: 'waiting', values: h.pool.waiting, colour: colour(1) },
      ...(h.pool.max !== null
        ? [{ label: 'max', values: h.seconds.map(() => h.pool.max), colour: cssVar('--muted'), dash: [2, 4],
          reference: true }]
        : []),
    ],
    summary: (h) => {
      const inUse = h.pool.inUse.at(-1);
      const waiting = h.pool.waiting.at(-1);
      if (inUse == null && waiting == null) return 'No figures yet.';
      const used = h.pool.max !== null
        ? `${count.format(inUse ?? 0)} of ${plural(h.pool.max, 'connection')}`
        : plural(inUse ?? 0, 'connection');
      return `Now: ${used} in use, ${count.format(waiting ?? 0)} waiting for one.`;
    },
  },
  {
    id: 'throttled',
    height: 200,
    format: (v) => rate.format(v),
    lines: (h) => [...h.throttled].map(([limit, values], i) => ({ label: limit, values, colour: colour(i) })),
    summary: (h) => recentByName('refusal', h.throttled),
  },
];

// ---- Reading the history ----

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `raw` as a column of `length` values: numbers stay, anything else (or missing) is null. */
function column(raw, length) {
  const arr = Array.isArray(raw) ? raw : [];
  return Array.from({ length }, (_, i) => (typeof arr[i] === 'number' && Number.isFinite(arr[i]) ? arr[i] : null));
}

/** The entries of the object `raw` (none if it is not one), sorted by name. */
function sortedEntries(raw) {
  return (isObject(raw) ? Object.entries(raw) : []).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A map of columns, sorted by name. */
function columns(raw, length) {
  return new Map(sortedEntries(raw).map(([name, values]) => [name, column(values, length)]));
}

/** @param {RawHistory} raw @returns {History} */
function normalise(raw) {
  const obj = isObject(raw) ? raw : {};
  // The x axis must be numbers, ascending: keep the longest such prefix.
  const seconds = [];
  for (const s of Array.isArray(obj.seconds) ? obj.seconds : []) {
    if (typeof s !== 'number' || !Number.isFinite(s) || (seconds.length > 0 && s <= seconds.at(-1))) break;
    seconds.push(s);
  }
  const n = seconds.length;
  const latency = new Map(sortedEntries(obj.latency_ms).map(([method, raw]) => {
    const pcts = isObject(raw) ? raw : {};
    return [method, { p50: column(pcts.p50, n), p99: column(pcts.p99, n) }];
  }));
  const pool = isObject(obj.pool) ? obj.pool : {};
  return {
    seconds,
    requests: column(obj.requests, n),
    rpcCalls: columns(obj.rpc_calls, n),
    latency,
    errors: columns(obj.errors, n),
    pool: {
      inUse: column(pool.in_use, n),
      waiting: column(pool.waiting, n),
      max: typeof pool.max === 'number' && Number.isFinite(pool.max) ? pool.max : null,
    },
    throttled: columns(obj.throttled, n),
  };
}

// ---- Figures ----

const sum = (values) => values.reduce((acc, v) => acc + (v ?? 0), 0);
const latest = (values, n) => values.slice(-n);

/** Element-wise sum of columns (missing values count as 0). */
function sumColumns(cols, length) {
  return Array.from({ length }, (_, i) => cols.reduce((acc, col) => acc + (col[i] ?? 0), 0));
}

/** Calls of `method` in the whole history; without call counts, the seconds with a latency. */
function callCount(h, method) {
  const calls = h.rpcCalls.get(method);
  if (calls) return sum(calls);
  return (h.latency.get(method)?.p50 ?? []).filter((v) => v !== null).length;
}

/** The methods with latencies, busiest first, at most MAX_LATENCY_METHODS; ties by name. */
function busiestMethods(h) {
  return [...h.latency.keys()]
    .map((m) => ({ m, calls: callCount(h, m) }))
    .sort((a, b) => b.calls - a.calls || (a.m < b.m ? -1 : 1))
    .slice(0, MAX_LATENCY_METHODS)
    .map(({ m }) => m);
}

/** "3 requests", "1 request". */
const plural = (n, noun) => `${count.format(n)} ${noun}${n === 1 ? '' : 's'}`;

/** "Last minute: 12 errors (EntityNotFound 10, InvalidParams 2)." */
function recentByName(noun, byName) {
  const parts = [...byName]
    .map(([name, values]) => ({ name, total: sum(latest(values, SUMMARY_SECONDS)) }))
    .filter((p) => p.total > 0)
    .sort((a, b) => b.total - a.total);
  if (parts.length === 0) return `No ${noun}s in the last minute.`;
  const total = sum(parts.map((p) => p.total));
  return `Last minute: ${plural(total, noun)} (${parts.map((p) => `${p.name} ${count.format(p.total)}`).join(', ')}).`;
}

// ---- Drawing ----

const styles = getComputedStyle(document.documentElement);
const cssVar = (name) => styles.getPropertyValue(name).trim() || '#444';
const PALETTE_SIZE = 10;
const colour = (i) => cssVar(`--series-${i % PALETTE_SIZE}`);

/** The y axis starts at 0 and ends at a round number a little above the highest value. */
function fromZero(_u, _min, max) {
  if (!(max > 0)) return [0, 1];
  return [0, uPlot.rangeNum(0, max, 0.1, true)[1]];
}

/**
 * A legend value: the value under the cursor; with the cursor off the chart (`idx` null), the
 * series' latest value, so the legend reads as "now".
 */
function legendValue(format) {
  return (u, v, sidx, idx) => {
    let value = v;
    if (idx == null) {
      const col = u.data[sidx] ?? [];
      for (let i = col.length - 1; i >= 0 && value == null; i -= 1) value = col[i];
    }
    return value == null ? '–' : format(value);
  };
}

/**
 * Which points to mark: all of them when uPlot shows points (a sparse chart), else the values
 * with no value on either side, which no line segment would show.
 */
function isolatedPoints(u, sidx, show) {
  if (show) return null;
  const col = u.data[sidx] ?? [];
  const idxs = [];
  for (let i = 0; i < col.length; i += 1) {
    if (col[i] != null && col[i - 1] == null && col[i + 1] == null) idxs.push(i);
  }
  return idxs.length > 0 ? idxs : null;
}

/** Time-axis tick spacings, in seconds: whole seconds at least (the history has one value a second). */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Time-axis labels: hours and minutes, with seconds when the ticks are less than a minute apart. */
function timeTicks(_u, splits, _axisIdx, _space, incr) {
  const fmt = incr < 60 ? clock : clockMinutes;
  return splits.map((v) => (v == null ? '' : fmt.format(new Date(v * 1000))));
}

/** uPlot's options for `spec` drawing `lines`, `width` px wide. */
function options(spec, lines, width) {
  const axis = {
    stroke: cssVar('--muted'),
    grid: { stroke: cssVar('--grid'), width: 1 },
    ticks: { stroke: cssVar('--grid'), width: 1 },
  };
  return {
    width,
    height: spec.height,
    // A live chart: a drag would zoom, and the next refresh would undo it.
    cursor: { drag: { x: false, y: false, setScale: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: fromZero } },
    axes: [{ ...axis, values: timeTicks, incrs: TIME_INCRS, space: 80 }, { ...axis, size: 60 }],
    series: [
      { label: 'time', value: legendValue((v) => clock.format(new Date(v * 1000))) },
      ...lines.map((line) => ({
        label: line.label,
        stroke: line.colour,
        width: 1.5,
        dash: line.dash,
        fill: line.fill ? `${line.colour}22` : undefined,
        spanGaps: false, // a second without calls has no latency: no line across it
        points: { filter: isolatedPoints },
        value: legendValue(spec.format),
      })),
    ],
  };
}

/** @type {Map<string, {plot: uPlot, key: string}>} the charts drawn, by spec id */
const charts = new Map();

const container = (spec) => /** @type {HTMLElement} */ (document.getElementById(`chart-${spec.id}`));
const widthOf = (el) => Math.max(200, Math.floor(el.clientWidth) || 600);

/** The highest value of `lines`, 0 when there is none. */
function peak(lines) {
  return lines.reduce((top, l) => l.values.reduce((m, v) => (v !== null && v > m ? v : m), top), 0);
}

/**
 * Draw `spec` from `h`: a new chart when its lines changed, else new data for the one there.
 * The container says what it shows (`data-lines`, `data-peak`), for tests and the curious.
 */
function draw(spec, h) {
  const lines = spec.lines(h);
  const key = JSON.stringify(lines.map((l) => [l.label, l.colour, l.dash ?? null, l.fill ?? false]));
  const data = [h.seconds, ...lines.map((l) => l.values)];
  const el = container(spec);
  const shown = charts.get(spec.id);
  if (shown && shown.key === key) {
    shown.plot.setData(data);
  } else {
    shown?.plot.destroy();
    charts.set(spec.id, { plot: new uPlot(options(spec, lines, widthOf(el)), data, el), key });
  }
  el.dataset.lines = String(lines.length);
  el.dataset.peak = String(peak(lines.filter((l) => !l.reference)));
  document.getElementById(`summary-${spec.id}`).textContent = spec.summary(h);
}

// Charts follow their container's width (the grid reflows as the window changes).
const resizes = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const spec = CHARTS.find((s) => container(s) === entry.target);
    const shown = spec && charts.get(spec.id);
    if (shown) shown.plot.setSize({ width: widthOf(entry.target), height: spec.height });
  }
});
for (const spec of CHARTS) resizes.observe(container(spec));

// ---- Refreshing ----

const dashboard = document.getElementById('dashboard');
const refreshedLine = document.getElementById('refreshed');
const errorLine = document.getElementById('fetch-error');

/** Show `text` as the error line, or hide it (null). Unchanged text is left alone, so it is announced once. */
function showError(text) {
  if (text === null) {
    errorLine.hidden = true;
    errorLine.textContent = '';
  } else if (errorLine.textContent !== text || errorLine.hidden) {
    errorLine.textContent = text;
    errorLine.hidden = false;
  }
}

/** Why a fetch failed, in words. */
function describe(err) {
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  }
  if (err instanceof SyntaxError) return 'the answer was not JSON';
  if (err instanceof TypeError) return 'the server could not be reached';
  return err?.message || String(err);
}

async function fetchHistory() {
  const res = await fetch('history.json', {
    headers: { Accept: 'application/json' },
    cache: 'no-store',
    credentials: 'same-origin',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the server answered HTTP ${res.status}`);
  return normalise(await res.json());
}

/** Fetch the history and draw it; resolves to what went wrong, in words, or null. */
async function update() {
  let h;
  try {
    h = await fetchHistory();
  } catch (err) {
    return `Could not refresh: ${describe(err)}. Trying again every ${REFRESH_MS / 1000} s.`;
  }
  try {
    for (const spec of CHARTS) draw(spec, h);
  } catch (err) {
    console.error(err); // a bug here, not the server's: keep the stack for whoever looks
    return `Could not draw the history: ${err?.message ?? err}.`;
  }
  const span = h.seconds.length > 0 ? ` · ${count.format(h.seconds.length)} s of history` : ' · no history yet';
  refreshedLine.textContent = `Updated ${clock.format(new Date())}${span}`;
  dashboard.dataset.ready = 'true';
  return null;
}

let timer = 0;
let inFlight = false;

/** Update, then again in REFRESH_MS; while the tab is hidden, wait for it to show. */
async function refresh() {
  clearTimeout(timer);
  if (inFlight || document.hidden) return; // the running refresh, or visibilitychange, goes on
  inFlight = true;
  try {
    showError(await update());
  } finally {
    inFlight = false;
    if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh();
});

if (typeof uPlot !== 'function') {
  showError('The chart library (vendor/uPlot.iife.min.js) did not load.');
} else {
  refresh();
}
