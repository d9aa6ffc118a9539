// A callback receiver for the delivery benchmarks (bench/delivery.sh): plain Node.js `http`,
// no dependencies. Same semantics as `chargegate loadtest`'s built-in receiver:
//   delay D ms:    every callback is answered D ms after it was read;
//   capacity K>0:  a server with K workers: at most K callbacks are processed at once (each
//                  takes D ms, 1 ms if D is 0), the rest wait in arrival order for a worker.
// It counts callbacks, unique `webhook-id`s and duplicates, the end-to-end latency from the
// `?t=<CLOCK_MONOTONIC ns>` the load generator put into the callback URL (hrtime.bigint() reads
// the same clock), and serves the figures as JSON:
//   GET  /stats   the counters (times in CLOCK_MONOTONIC ns, latencies in ms)
//   POST /reset   zero the counters
//   POST /pause   hold every callback unanswered from now on (the service's deliveries pile up)
//   POST /resume  answer the held ones (in arrival order, through the workers) and go on;
//                 answers {resumed_ns, held}
// Every other request is a callback. Binds 127.0.0.1 only.
// Usage: node bench/receiver.mjs [--port P] [--delay-ms D] [--capacity K]
//        (or PORT, DELAY_MS, CAPACITY in the environment); prints "listening <port>" when ready.
import http from "node:http";

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i > 0 && i + 1 < process.argv.length) return Number(process.argv[i + 1]);
  if (process.env[env] !== undefined) return Number(process.env[env]);
  return fallback;
}

const port = option("port", "PORT", 18590);
const delayMs = option("delay-ms", "DELAY_MS", 0);
const capacity = option("capacity", "CAPACITY", 0);
const workMs = capacity > 0 && delayMs <= 0 ? 1 : delayMs;
for (const [name, v] of [["port", port], ["delay-ms", delayMs], ["capacity", capacity]]) {
  if (!Number.isFinite(v) || v < 0) {
    console.error(`receiver: --${name} must be a non-negative number`);
    process.exit(2);
  }
}

// Latencies in µs, kept raw: a benchmark run holds at most a few million.
let s;
function reset() {
  s = {
    callbacks: 0,
    ids: new Set(),
    duplicates: 0,
    first_ns: 0n,
    last_ns: 0n, // when the newest new webhook-id arrived
    e2e_us: [],
    receiver_us: [],
    in_flight: 0,
    peak_in_flight: 0,
    connections: 0,
    paused_held: 0,
  };
}
reset();

// Capacity mode: `busy` workers, FIFO of callbacks waiting for one.
let busy = 0;
const waiting = [];
let paused = false;
const held = []; // callbacks read while paused

function process_(done) {
  const work = () => {
    if (workMs > 0) setTimeout(finish, workMs);
    else setImmediate(finish);
  };
  const finish = () => {
    if (capacity > 0) {
      const next = waiting.shift();
      if (next) next(); // the worker passes straight on
      else busy--;
    }
    done();
  };
  if (capacity > 0) {
    if (busy < capacity && waiting.length === 0) {
      busy++;
      work();
    } else {
      waiting.push(work);
    }
  } else if (workMs > 0) {
    setTimeout(done, workMs);
  } else {
    done();
  }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] / 1000;
}

function summary(values) {
  const v = Float64Array.from(values).sort();
  let sum = 0;
  for (const x of v) sum += x;
  return {
    count: v.length,
    mean_ms: v.length ? sum / v.length / 1000 : null,
    p50_ms: quantile(v, 0.5),
    p90_ms: quantile(v, 0.9),
    p99_ms: quantile(v, 0.99),
    p999_ms: quantile(v, 0.999),
    max_ms: v.length ? v[v.length - 1] / 1000 : null,
  };
}

function stats() {
  return {
    delay_ms: delayMs,
    capacity,
    paused,
    callbacks: s.callbacks,
    unique: s.ids.size,
    duplicates: s.duplicates,
    first_ns: s.first_ns.toString(),
    last_ns: s.last_ns.toString(),
    now_ns: process.hrtime.bigint().toString(),
    in_flight: s.in_flight,
    peak_in_flight: s.peak_in_flight,
    waiting: waiting.length + held.length,
    connections: s.connections,
    e2e_latency: summary(s.e2e_us),
    receiver_latency: summary(s.receiver_us),
  };
}

function answer(res, code, body) {
  res.writeHead(code, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const at = process.hrtime.bigint();
  const url = req.url ?? "/";
  if (req.method === "GET" && url === "/stats") return answer(res, 200, JSON.stringify(stats()));
  if (req.method === "POST" && url === "/reset") {
    reset();
    return answer(res, 200, "{}");
  }
  if (req.method === "POST" && url === "/pause") {
    paused = true;
    return answer(res, 200, "{}");
  }
  if (req.method === "POST" && url === "/resume") {
    paused = false;
    const resumed = process.hrtime.bigint();
    const n = held.length;
    for (const go of held.splice(0)) go();
    return answer(res, 200, JSON.stringify({ resumed_ns: resumed.toString(), held: n }));
  }
  // A callback: read the body (the signed JSON), then count it once it is complete.
  req.resume();
  req.on("end", () => {
    s.callbacks++;
    s.in_flight++;
    if (s.in_flight > s.peak_in_flight) s.peak_in_flight = s.in_flight;
    const id = req.headers["webhook-id"] ?? "";
    if (s.ids.has(id)) {
      s.duplicates++;
    } else {
      s.ids.add(id);
      if (s.first_ns === 0n) s.first_ns = at;
      s.last_ns = at;
      const m = /[?&]t=(\d+)/.exec(url);
      if (m) s.e2e_us.push(Number((at - BigInt(m[1])) / 1000n));
    }
    const go = () =>
      process_(() => {
        answer(res, 200, "{}");
        s.in_flight--;
        s.receiver_us.push(Number((process.hrtime.bigint() - at) / 1000n));
      });
    if (paused) held.push(go);
    else go();
  });
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0; // a paused receiver holds requests as long as it is told to
server.maxRequestsPerSocket = 0;
server.on("connection", () => {
  s.connections++;
});
server.listen(port, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
