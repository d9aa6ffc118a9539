// chargegate operator dashboard (docs/operations.md). No framework, no CDN: the charts are plain
// SVG drawn by makeChart below — a few KB instead of a ~45 KB charting library from npm, and one
// less dependency to keep up to date. Everything the server sends is put into the page with
// textContent or setAttribute, never innerHTML.
//
// Polls /api/v1/admin/stats every 2 s and the dead-letter list every 5 s, stops while the tab is
// hidden, and keeps a bounded history (a ring buffer of 10 minutes), so it stays light when left
// open for days. Rates and latency percentiles are computed here from the differences between two
// consecutive polls of the server's counters and histograms.
'use strict';

(() => {
  // The browser's login covers the directory of the URL it was asked for: from /dashboard that
  // is the whole origin, the admin API included; from /dashboard/ or /dashboard/index.html only
  // /dashboard/*, and the API's calls would then go out without credentials. So the page always
  // runs at /dashboard (the browser re-uses the login there without asking again).
  if (location.pathname !== '/dashboard') {
    location.replace(`/dashboard${location.search}${location.hash}`);
    return;
  }

  const STATS_URL = '/api/v1/admin/stats';
  const DEAD_LETTERS_URL = '/api/v1/admin/dead-letters?limit=50';
  const STATS_EVERY_MS = 2000;
  const DEAD_LETTERS_EVERY_MS = 5000;
  const WINDOW_MS = 10 * 60 * 1000;
  const MIN_SPAN_MS = 30 * 1000;
  const HISTORY = Math.ceil(WINDOW_MS / STATS_EVERY_MS) + 1;
  const FINAL_STATES = new Set(['delivered', 'failed']);
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);

  // ---- small helpers ------------------------------------------------------------------------

  // Fixed-capacity history: pushing past capacity drops the oldest sample.
  class Ring {
    constructor(capacity) {
      this.items = new Array(capacity);
      this.start = 0;
      this.size = 0;
    }
    push(x) {
      const cap = this.items.length;
      this.items[(this.start + this.size) % cap] = x;
      if (this.size < cap) this.size++;
      else this.start = (this.start + 1) % cap;
    }
    forEach(fn) {
      for (let i = 0; i < this.size; i++) fn(this.items[(this.start + i) % this.items.length]);
    }
  }

  const intFormat = new Intl.NumberFormat('en-US');
  const fmtInt = (n) => (typeof n === 'number' && isFinite(n) ? intFormat.format(n) : '–');

  function fmtRate(v) {
    if (v == null || !isFinite(v)) return '–';
    if (v >= 100) return String(Math.round(v));
    return String(+v.toFixed(v >= 10 ? 1 : 2));
  }

  // Seconds → "850 µs", "12.5 ms", "3.2 s", "4.0 min".
  function fmtDuration(s) {
    if (s == null || !isFinite(s)) return '–';
    if (s === 0) return '0';
    if (s < 0.001) return `${Math.round(s * 1e6)} µs`;
    if (s < 1) return `${+(s * 1e3).toPrecision(s < 0.01 ? 2 : 3)} ms`;
    if (s < 60) return `${+s.toPrecision(3)} s`;
    if (s < 3600) return `${+(s / 60).toFixed(1)} min`;
    if (s < 86400) return `${+(s / 3600).toFixed(1)} h`;
    return `${+(s / 86400).toFixed(1)} d`;
  }

  function fmtUptime(s) {
    if (typeof s !== 'number') return '–';
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    if (m) return `${m} min ${Math.floor(s % 60)} s`;
    return `${Math.floor(s)} s`;
  }

  // Server clock minus ours, from the last stats answer, so that "ago" is right on a skewed client.
  let serverSkewMs = 0;
  function fmtAgo(iso) {
    const t = Date.parse(iso);
    if (!isFinite(t)) return iso == null ? '–' : String(iso);
    const s = Math.max(0, (Date.now() + serverSkewMs - t) / 1000);
    return s < 1 ? 'just now' : `${fmtDuration(Math.floor(s))} ago`;
  }

  function fmtTime(iso) {
    if (iso == null) return '–';
    return String(iso).replace('T', ' ');
  }

  function fmtDecision(d) {
    if (!d) return '–';
    return d.reason ? `${d.status} (${d.reason})` : String(d.status);
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text != null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  // The one row of a table with nothing to show.
  function emptyRow(text, colSpan) {
    const tr = el('tr', null, 'empty');
    const td = el('td', text);
    td.colSpan = colSpan;
    tr.append(td);
    return tr;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  function showMessage(id, text, kind) {
    const e = $(id);
    e.textContent = text || '';
    e.dataset.kind = kind || 'info';
    e.hidden = !text;
  }

  // Every call names this page's origin in full: a page opened as http://user:token@host/dashboard
  // has those credentials in its own URL, and fetch() refuses a relative URL resolved against it
  // ("Request cannot be constructed from a URL that includes credentials"). The origin never
  // includes them; the browser's stored login for this origin still goes with each call.
  async function api(path, init) {
    const res = await fetch(new URL(path, location.origin), {
      credentials: 'same-origin',
      cache: 'no-store',
      ...init,
      headers: { Accept: 'application/json', ...(init && init.headers) },
    });
    let body = null;
    const type = res.headers.get('content-type') || '';
    if (type.includes('json')) {
      try { body = await res.json(); } catch { body = null; }
    }
    return { status: res.status, ok: res.ok, body };
  }

  function httpProblem(res) {
    if (res.status === 401) return 'not authorized (HTTP 401): reload the page to log in again';
    if (res.status === 403) return 'forbidden (HTTP 403)';
    const msg = res.body && typeof res.body.message === 'string' ? `: ${res.body.message}` : '';
    return `HTTP ${res.status}${msg}`;
  }

  // Runs fn now and then every `ms` after it finishes (never two at once); nothing while the tab
  // is hidden. kick() runs it again as soon as the current run is over.
  function poller(ms, fn) {
    let timer = null, running = false, again = false;
    async function tick() {
      timer = null;
      if (document.hidden) return;
      running = true;
      try { await fn(); } catch (e) { console.warn('dashboard poll failed', e); }
      running = false;
      if (document.hidden) return;
      if (again) { again = false; tick(); return; }
      timer = setTimeout(tick, ms);
    }
    return {
      kick() {
        if (running) { again = true; return; }
        if (timer !== null) clearTimeout(timer);
        tick();
      },
      stop() {
        if (timer !== null) clearTimeout(timer);
        timer = null;
      },
    };
  }

  // ---- histograms -----------------------------------------------------------------------------

  // Per-bucket differences between two reads of one histogram; null when they do not line up
  // (the process restarted, or nothing was observed in between).
  function histogramDelta(prev, cur) {
    if (!prev || !cur || !Array.isArray(cur.buckets) || !Array.isArray(prev.buckets)) return null;
    if (prev.buckets.length !== cur.buckets.length) return null;
    const counts = cur.buckets.map((c, i) => c - prev.buckets[i]);
    if (counts.some((c) => c < 0)) return null;
    if (!counts.some((c) => c > 0)) return null;
    return { bounds: cur.bounds, counts };
  }

  // The q-quantile of a bucketed histogram, interpolating linearly inside the bucket (what
  // Prometheus' histogram_quantile does). In the +Inf bucket the answer is the last finite bound,
  // a lower limit.
  function quantile(h, q) {
    if (!h) return null;
    const { bounds, counts } = h;
    let total = 0;
    for (const c of counts) total += c;
    if (total <= 0) return null;
    const rank = q * total;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i];
      if (c > 0 && seen + c >= rank) {
        if (i >= bounds.length) return bounds[bounds.length - 1];
        const lo = i === 0 ? 0 : bounds[i - 1];
        return lo + (bounds[i] - lo) * ((rank - seen) / c);
      }
      seen += c;
    }
    return bounds[bounds.length - 1];
  }

  function percentiles(prev, cur) {
    const h = histogramDelta(prev, cur);
    return { p50: quantile(h, 0.5), p95: quantile(h, 0.95), p99: quantile(h, 0.99) };
  }

  // ---- charts ---------------------------------------------------------------------------------

  // Rounds up to 1, 2 or 5 × 10^k, so that the axis reads well.
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p * 1.0000001) return m * p;
    return 10 * p;
  }

  // A line chart of `series` ({label, color, value: sample => number|null}) over the last
  // WINDOW_MS of samples ({t, ...}); until that much history exists the time axis spans what there
  // is (at least MIN_SPAN_MS), so a freshly opened page already shows a readable line. Lines break
  // where a value is missing or polls were paused.
  function makeChart(figure, series, format, minMax) {
    const plot = svg('svg', { class: 'plot', role: 'img', 'aria-label': figure.textContent.trim() });
    const legend = el('ul', null, 'legend');
    const values = series.map((s) => {
      const li = el('li');
      const swatch = el('span', null, 'swatch');
      swatch.style.background = s.color;
      const value = el('span', '–', 'legend-value');
      li.append(swatch, el('span', s.label, 'legend-label'), value);
      legend.append(li);
      return value;
    });
    figure.append(plot, legend);
    const H = 150, L = 56, R = 8, T = 8, B = 20;

    return function draw(history, now) {
      const W = Math.max(240, Math.round(plot.getBoundingClientRect().width) || 480);
      plot.setAttribute('viewBox', `0 0 ${W} ${H}`);
      plot.setAttribute('height', H);
      let oldest = now;
      history.forEach((sample) => { if (sample.t < oldest) oldest = sample.t; });
      const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, now - oldest));
      const x0 = now - span;
      let max = 0, points = 0;
      history.forEach((sample) => {
        if (sample.t < x0) return;
        points++;
        for (const s of series) {
          const v = s.value(sample);
          if (v != null && v > max) max = v;
        }
      });
      max = niceCeil(Math.max(max, minMax));
      const x = (t) => L + ((t - x0) / span) * (W - L - R);
      const y = (v) => T + (1 - v / max) * (H - T - B);

      const parts = [];
      for (const frac of [0, 0.5, 1]) {
        const gy = y(max * frac);
        parts.push(svg('line', { x1: L, x2: W - R, y1: gy, y2: gy, class: frac ? 'grid' : 'axis' }));
        const label = svg('text', { x: L - 6, y: gy + 4, 'text-anchor': 'end', class: 'tick' });
        label.textContent = format(max * frac);
        parts.push(label);
      }
      const ago = (ms) => `−${fmtDuration(Math.round(ms / 1000))}`;
      for (const [t, text, anchor] of [[x0, ago(span), 'start'], [now - span / 2, ago(span / 2), 'middle'], [now, 'now', 'end']]) {
        const label = svg('text', { x: x(t), y: H - 5, 'text-anchor': anchor, class: 'tick' });
        label.textContent = text;
        parts.push(label);
      }
      series.forEach((s, i) => {
        const segments = [];
        let prevT = null, latest = null;
        history.forEach((sample) => {
          if (sample.t < x0) return;
          const v = s.value(sample);
          if (v == null || !isFinite(v)) { prevT = null; return; }
          if (prevT === null || sample.t - prevT > 3 * STATS_EVERY_MS) segments.push([]);
          segments[segments.length - 1].push(`${x(sample.t).toFixed(1)},${y(v).toFixed(1)}`);
          prevT = sample.t;
          latest = v;
        });
        let d = '';
        for (const seg of segments) {
          if (seg.length > 1) {
            d += `M${seg.join('L')}`;
          } else {  // a lone point (sparse latency samples) would be invisible as a path
            const [cx, cy] = seg[0].split(',');
            parts.push(svg('circle', { cx, cy, r: 2, fill: s.color }));
          }
        }
        if (d) parts.push(svg('path', { d, stroke: s.color, class: 'line' }));
        values[i].textContent = format(latest);
      });
      plot.replaceChildren(...parts);
      figure.dataset.points = String(points);
    };
  }

  const C = {
    blue: '#2563eb', green: '#16a34a', amber: '#d97706', red: '#dc2626', grey: '#6b7280',
    violet: '#7c3aed', teal: '#0d9488',
  };
  const rate = (name) => (s) => s.rates[name];
  const charts = [
    makeChart($('chart-throughput'), [
      { label: 'accepted', color: C.blue, value: rate('accepted') },
      { label: 'delivered', color: C.green, value: rate('delivered') },
      { label: 'failed attempts', color: C.amber, value: rate('attempts_failed') },
      { label: 'dead-lettered', color: C.red, value: rate('dead_lettered') },
    ], fmtRate, 1),
    makeChart($('chart-decisions'), [
      { label: 'allowed', color: C.green, value: rate('allowed') },
      { label: 'not allowed', color: C.amber, value: rate('not_allowed') },
      { label: 'unknown', color: C.grey, value: rate('unknown') },
    ], fmtRate, 1),
    makeChart($('chart-queue'), [
      { label: 'queued', color: C.blue, value: (s) => s.queueDepth },
      { label: 'awaiting callback', color: C.violet, value: (s) => s.callbackPending },
    ], (v) => (v == null ? '–' : v >= 10 ? fmtInt(Math.round(v)) : fmtRate(v)), 5),
    makeChart($('chart-e2e'), [
      { label: 'p50', color: C.teal, value: (s) => s.e2e.p50 },
      { label: 'p95', color: C.amber, value: (s) => s.e2e.p95 },
      { label: 'p99', color: C.red, value: (s) => s.e2e.p99 },
    ], fmtDuration, 0.001),
    makeChart($('chart-accept'), [
      { label: 'p50', color: C.teal, value: (s) => s.accept.p50 },
      { label: 'p95', color: C.amber, value: (s) => s.accept.p95 },
      { label: 'p99', color: C.red, value: (s) => s.accept.p99 },
    ], fmtDuration, 0.0001),
  ];

  // ---- stats ----------------------------------------------------------------------------------

  const history = new Ring(HISTORY);
  let prevStats = null;  // the previous answer, for rates; null after a pause or an error

  function setConn(state, text) {
    const e = $('conn-status');
    e.dataset.state = state;
    e.textContent = text;
  }

  function counterValues(st) {
    const c = st.counters || {};
    const d = c.decided || {};
    return {
      accepted: c.accepted, delivered: c.delivered, attempts_failed: c.attempts_failed,
      dead_lettered: c.dead_lettered, allowed: d.allowed, not_allowed: d.not_allowed,
      unknown: d.unknown,
    };
  }

  function renderTotals(st, rates) {
    const c = counterValues(st);
    const g = st.gauges || {};
    const ids = {
      accepted: 'accepted', allowed: 'allowed', not_allowed: 'not-allowed', unknown: 'unknown',
      delivered: 'delivered', attempts_failed: 'attempts-failed', dead_lettered: 'dead-lettered',
    };
    for (const [key, id] of Object.entries(ids)) {
      const total = $(`${id}-total`);
      total.textContent = fmtInt(c[key]);
      total.dataset.value = String(c[key] ?? '');
      setText(`${id}-rate`, rates && rates[key] != null ? `${fmtRate(rates[key])}/s` : '');
    }
    const depth = $('queue-depth');
    depth.textContent = fmtInt(g.queue_depth);
    depth.dataset.value = String(g.queue_depth ?? '');
    setText('callback-pending', `${fmtInt(g.callback_pending)} awaiting callback`);
    setText('oldest-age', fmtDuration(g.oldest_queued_age_seconds));
    setText('in-flight', `${fmtInt(g.authorizations_in_flight)} authorizing, ${fmtInt(g.callback_in_flight)} sending`);

    setText('meta-version', String(st.version ?? '–'));
    setText('meta-role', String(st.role ?? '–'));
    setText('meta-uptime', fmtUptime(st.uptime_seconds));
    const store = $('meta-store');
    store.textContent = g.store_writable === false ? 'NOT WRITABLE' : 'writable';
    store.dataset.state = g.store_writable === false ? 'bad' : 'ok';
    const circuit = $('meta-circuit');
    circuit.textContent = g.circuit_state == null ? 'built-in ACL' : String(g.circuit_state);
    circuit.dataset.state = g.circuit_state === 'open' ? 'bad' : g.circuit_state === 'half_open' ? 'warn' : 'ok';
  }

  function renderReceivers(receivers) {
    const list = Array.isArray(receivers) ? receivers : [];
    setText('receivers-count', String(list.length));
    const rows = list.map((r) => {
      const tr = el('tr');
      tr.dataset.receiver = String(r.receiver);
      tr.append(
        el('td', r.receiver, 'mono'),
        el('td', fmtInt(r.failures), 'num'),
        el('td', fmtInt(r.consecutive_failures), 'num'),
        el('td', fmtInt(r.concurrency_limit), 'num'),
        el('td', r.last_status_code ?? '–', 'num'),
        el('td', r.last_error ?? '–', 'error-text'),
        el('td', fmtAgo(r.last_failure_at)),
      );
      tr.lastChild.title = String(r.last_failure_at ?? '');
      return tr;
    });
    if (!rows.length) rows.push(emptyRow('No receiver is failing.', 7));
    $('receivers-table').tBodies[0].replaceChildren(...rows);
  }

  // "in 12s" for a pause that has not ended yet (server time), else the time itself.
  function fmtUntil(iso) {
    const t = Date.parse(iso);
    if (!isFinite(t)) return iso == null ? '–' : String(iso);
    const s = (t - Date.now() - serverSkewMs) / 1000;
    return s >= 1 ? `in ${fmtDuration(Math.ceil(s))}` : fmtTime(iso);
  }

  // The busiest receivers (absent from an older service: the table says so).
  function renderReceiverFlow(flow) {
    const list = Array.isArray(flow) ? flow : [];
    setText('receiver-flow-count', String(list.length));
    const rows = list.map((f) => {
      const tr = el('tr');
      tr.dataset.receiver = String(f.receiver);
      const paused = f.paused_until != null;
      if (paused) tr.className = 'paused';
      const until = el('td', paused ? fmtUntil(f.paused_until) : '–');
      if (paused) until.title = String(f.paused_until);
      tr.append(
        el('td', f.receiver, 'mono'),
        el('td', fmtInt(f.concurrency_limit), 'num'),
        el('td', fmtInt(f.in_flight), 'num'),
        el('td', fmtInt(f.waiting), 'num'),
        until,
        el('td', fmtInt(f.delivered), 'num'),
      );
      return tr;
    });
    if (!rows.length) {
      rows.push(emptyRow(Array.isArray(flow) ? 'No delivery in flight or waiting.'
        : 'This service does not report receiver flow.', 6));
    }
    $('receiver-flow').tBodies[0].replaceChildren(...rows);
  }

  async function pollStats() {
    let res;
    try {
      res = await api(STATS_URL);
    } catch (e) {
      prevStats = null;
      setConn('error', `cannot reach the service (${e.message}); retrying`);
      return;
    }
    if (!res.ok || !res.body) {
      prevStats = null;
      setConn('error', `stats: ${httpProblem(res)}; retrying`);
      return;
    }
    const st = res.body;
    const now = Date.now();
    const serverTime = Date.parse(st.time);
    if (isFinite(serverTime)) serverSkewMs = serverTime - now;

    let rates = null;
    const prev = prevStats;
    if (prev && typeof st.uptime_seconds === 'number' && st.uptime_seconds > prev.st.uptime_seconds) {
      const dt = st.uptime_seconds - prev.st.uptime_seconds;
      const a = counterValues(prev.st), b = counterValues(st);
      rates = {};
      for (const k of Object.keys(b)) {
        const diff = b[k] - a[k];
        rates[k] = typeof diff === 'number' && diff >= 0 ? diff / dt : null;
      }
    }
    if (rates) {
      const g = st.gauges || {};
      const pl = prev.st.latency || {}, cl = st.latency || {};
      history.push({
        t: now,
        rates,
        queueDepth: g.queue_depth ?? null,
        callbackPending: g.callback_pending ?? null,
        e2e: percentiles(pl.end_to_end, cl.end_to_end),
        accept: percentiles(pl.accept, cl.accept),
      });
    }
    prevStats = { st };
    renderTotals(st, rates);
    renderReceiverFlow(st.receiver_flow);
    renderReceivers(st.receivers);
    for (const draw of charts) draw(history, now);
    setConn('ok', `live · updated ${new Date(now).toLocaleTimeString()}`);
    if (lookup.id && !FINAL_STATES.has(lookup.state)) await lookupRequest(lookup.id, true);
  }

  // ---- dead letters ---------------------------------------------------------------------------

  const deadRows = new Map();  // request id → <tr>, so rows and their buttons survive refreshes

  function deadLetterRow(id) {
    const tr = el('tr');
    tr.dataset.requestId = id;
    tr.dataset.testid = 'dead-letter-row';
    const idCell = el('td', null, 'mono');
    const link = el('button', id, 'link');
    link.type = 'button';
    link.title = 'Show every attempt';
    link.addEventListener('click', () => lookupRequest(id));
    idCell.append(link);
    const action = el('td', null, 'action');
    const button = el('button', 'Redeliver', 'redeliver');
    button.type = 'button';
    button.dataset.testid = 'redeliver';
    button.addEventListener('click', () => redeliver(id, button));
    action.append(button);
    tr.append(idCell, el('td'), el('td'), el('td', null, 'mono url'), el('td', null, 'num'),
      el('td', null, 'num'), el('td', null, 'error-text'), action);
    return tr;
  }

  function renderDeadLetters(body) {
    const items = Array.isArray(body.items) ? body.items : [];
    const total = typeof body.total === 'number' ? body.total : items.length;
    const count = $('dead-letter-total');
    count.textContent = items.length < total ? `${fmtInt(items.length)} of ${fmtInt(total)}` : fmtInt(total);
    count.dataset.value = String(total);
    const rows = [];
    const seen = new Set();
    for (const item of items) {
      const id = String(item.request_id);
      if (seen.has(id)) continue;
      seen.add(id);
      let tr = deadRows.get(id);
      if (!tr) {
        tr = deadLetterRow(id);
        deadRows.set(id, tr);
      }
      const cells = tr.cells;
      cells[1].textContent = fmtAgo(item.created_at);
      cells[1].title = String(item.created_at ?? '');
      cells[2].textContent = fmtDecision(item.decision);
      cells[3].textContent = String(item.callback_url ?? '–');
      cells[3].title = String(item.callback_url ?? '');
      cells[4].textContent = fmtInt(item.attempts);
      cells[5].textContent = String(item.last_status_code ?? '–');
      cells[6].textContent = String(item.last_error ?? '–');
      rows.push(tr);
    }
    for (const id of deadRows.keys()) if (!seen.has(id)) deadRows.delete(id);
    if (!rows.length) {
      rows.push(emptyRow('No dead letters. Requests whose callback failed for good show up here.', 8));
    }
    $('dead-letters').tBodies[0].replaceChildren(...rows);
  }

  async function pollDeadLetters() {
    let res;
    try {
      res = await api(DEAD_LETTERS_URL);
    } catch (e) {
      showMessage('dl-message', `Dead letters: cannot reach the service (${e.message}).`, 'error');
      return;
    }
    if (!res.ok || !res.body) {
      showMessage('dl-message', `Dead letters: ${httpProblem(res)}.`, 'error');
      return;
    }
    if ($('dl-message').dataset.kind === 'error') showMessage('dl-message', '');
    renderDeadLetters(res.body);
  }

  async function redeliver(id, button) {
    button.disabled = true;
    button.textContent = 'Redelivering…';
    let res;
    try {
      res = await api(`/api/v1/charging-session/${encodeURIComponent(id)}/redeliver`, { method: 'POST' });
    } catch (e) {
      res = { status: 0, ok: false, body: { message: e.message } };
    }
    if (res.status === 202) {
      showMessage('dl-message', `Redelivery of ${id} scheduled.`, 'ok');
      lookupRequest(id);
    } else {
      button.disabled = false;
      button.textContent = 'Redeliver';
      showMessage('dl-message', `Redelivery of ${id} refused: ${httpProblem(res)}.`, 'error');
    }
    deadLetterPoller.kick();
    statsPoller.kick();
  }

  // ---- lookup ---------------------------------------------------------------------------------

  const lookup = { id: null, state: null, seq: 0 };

  function renderLookup(r) {
    setText('lookup-request-id', String(r.request_id ?? '–'));
    const state = $('lookup-state');
    state.textContent = String(r.state ?? '–');
    state.dataset.state = String(r.state ?? '');
    setText('lookup-decision', fmtDecision(r.decision));
    setText('lookup-station', String(r.station_id ?? '–'));
    setText('lookup-created', fmtTime(r.created_at));
    setText('lookup-callback-url', String(r.callback_url ?? '–'));
    setText('lookup-client', r.client_id == null ? '–' : String(r.client_id));
    setText('lookup-trace', r.trace_id == null ? '–' : String(r.trace_id));
    const cb = r.callback || {};
    setText('lookup-delivered', fmtTime(cb.delivered_at));
    setText('lookup-next', fmtTime(cb.next_attempt_at));
    const attempts = Array.isArray(r.attempts) ? r.attempts : [];
    const rows = attempts.map((a) => {
      const tr = el('tr');
      tr.append(
        el('td', a.attempt ?? '–', 'num'),
        el('td', fmtTime(a.started_at)),
        el('td', typeof a.duration_ms === 'number' ? `${a.duration_ms} ms` : '–', 'num'),
        el('td', a.status_code ?? '–', 'num'),
        el('td', a.error ?? '', 'error-text'),
      );
      return tr;
    });
    if (!rows.length) rows.push(emptyRow('No callback attempt yet.', 5));
    $('lookup-attempts').tBodies[0].replaceChildren(...rows);
    $('lookup-result').hidden = false;
  }

  // quiet: a background refresh, which leaves the page as it is when it fails.
  async function lookupRequest(rawId, quiet) {
    const id = String(rawId).trim();
    if (!id) return;
    const seq = ++lookup.seq;
    if (!quiet) {
      $('lookup-id').value = id;
      lookup.id = id;
      lookup.state = null;
    }
    let res;
    try {
      res = await api(`/api/v1/admin/requests/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!quiet) showMessage('lookup-message', `Cannot reach the service (${e.message}).`, 'error');
      return;
    }
    if (seq !== lookup.seq) return;  // a newer lookup started meanwhile
    if (res.status === 404) {
      lookup.id = null;
      $('lookup-result').hidden = true;
      showMessage('lookup-message', `No request with id ${id}.`, 'error');
      return;
    }
    if (!res.ok || !res.body) {
      if (!quiet) showMessage('lookup-message', `Lookup: ${httpProblem(res)}.`, 'error');
      return;
    }
    showMessage('lookup-message', '');
    lookup.state = res.body.state;
    renderLookup(res.body);
  }

  $('lookup-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookupRequest($('lookup-id').value);
  });

  // ---- scheduling -----------------------------------------------------------------------------

  const statsPoller = poller(STATS_EVERY_MS, pollStats);
  const deadLetterPoller = poller(DEAD_LETTERS_EVERY_MS, pollDeadLetters);

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      statsPoller.stop();
      deadLetterPoller.stop();
      setConn('paused', 'paused while the tab is hidden');
    } else {
      // No rate averaged over the pause: the charts' lines break there.
      prevStats = null;
      statsPoller.kick();
      deadLetterPoller.kick();
    }
  });
  window.addEventListener('resize', () => {
    for (const draw of charts) draw(history, Date.now());
  });

  statsPoller.kick();
  deadLetterPoller.kick();
})();
