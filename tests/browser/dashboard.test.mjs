// The operator dashboard (/dashboard) in a real browser: Debian's chromium, headless, driven by
// playwright-core. Run by scripts/browser-test.sh; needs a built binary (CHARGEGATE_BIN,
// default build/chargegate) and /usr/bin/chromium (CHROMIUM to override).
//
// What a user would observe: the page loads with HTTP Basic credentials (any user, ADMIN_TOKEN
// as the password), its numbers move when requests are sent, a request whose callback fails
// shows up in the dead-letter list, its Redeliver button (receiver fixed) gets it delivered, the
// lookup box shows every attempt; no console error and no request to another origin on the way.
// With SAVE_SCREENSHOT=1 it saves docs/dashboard.png of the dashboard under load.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.CHARGEGATE_BIN || 'build/chargegate');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SAVE_SCREENSHOT = process.env.SAVE_SCREENSHOT === '1';
const SCREENSHOT = path.join(ROOT, 'docs/dashboard.png');
const OVERALL_TIMEOUT_MS = 3 * 60 * 1000;

const ADMIN_TOKEN = `browser-test-${crypto.randomBytes(12).toString('hex')}`;
const DRIVER = 'ABCD-efgh1234567890_~valid.token';
const UNKNOWN_DRIVER = 'NOPE-unknown-driver-token-0000';
const STATION = '123e4567-e89b-12d3-a456-426614174000';

const started = Date.now();
let liveService = null;  // for the exit handler at the end
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let currentStep = 'start';
function step(name) {
  currentStep = name;
  console.log(`[${elapsed()}] ${name}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value; fails with `what` after timeoutMs.
async function until(what, fn, timeoutMs = 15000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(everyMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A callback receiver: answers 200 or 500 (`mode`), remembers what it got per request id. While
// `hold` is set it keeps its answers back (a slow receiver) until release().
async function startReceiver(initialMode) {
  const receiver = { mode: initialMode, got: new Map(), total: 0, hold: false, held: [] };
  receiver.release = () => {
    receiver.hold = false;
    for (const answer of receiver.held.splice(0)) answer();
  };
  receiver.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const status = receiver.mode === 'ok' ? 200 : 500;
      let id = req.headers['webhook-id'];
      try {
        id = JSON.parse(Buffer.concat(chunks).toString()).request_id ?? id;
      } catch {
        // keep the header's id
      }
      const answer = () => {
        receiver.total++;
        if (!receiver.got.has(id)) receiver.got.set(id, []);
        receiver.got.get(id).push(status);
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
      };
      if (receiver.hold) receiver.held.push(answer);
      else answer();
    });
  });
  await new Promise((r) => receiver.server.listen(0, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${receiver.server.address().port}/api/callbacks/charge-result`;
  receiver.delivered = (id) => (receiver.got.get(id) || []).includes(200);
  return receiver;
}

// The service under test, its stderr kept for the failure report.
async function startService(port, dataDir) {
  const env = {
    ...process.env,
    PORT: String(port),
    BIND_ADDRESS: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    CALLBACK_MAX_ATTEMPTS: '1',  // a failed callback is dead-lettered at once
    CALLBACK_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'WARN',
  };
  const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const service = { child, log: [], exited: null };
  liveService = service;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    service.log.push(...d.split('\n').filter(Boolean));
    if (service.log.length > 200) service.log.splice(0, service.log.length - 200);
  });
  child.on('exit', (code, signal) => { service.exited = { code, signal }; });
  child.on('error', (e) => { service.exited = { error: e.message }; });
  const base = `http://127.0.0.1:${port}`;
  await until('the service to answer /health/live', async () => {
    if (service.exited) throw new Error(`the service exited: ${JSON.stringify(service.exited)}`);
    const res = await fetch(`${base}/health/live`).catch(() => null);
    return res && res.status === 200;
  }, 20000);
  return service;
}

async function stopService(service) {
  if (!service || service.exited) return;
  const { pid } = service.child;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10000;
  while (!service.exited && Date.now() < deadline) await sleep(50);
  if (!service.exited) {
    console.log(`service (pid ${pid}) still running 10 s after SIGTERM; sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
    while (!service.exited) await sleep(50);
  }
}

function client(base) {
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  return {
    async putAcl(token, entry) {
      const res = await fetch(`${base}/api/v1/acl/${token}`, {
        method: 'PUT',
        headers: { ...admin, 'Content-Type': 'application/json' },
        body: JSON.stringify(entry),
      });
      assert.equal(res.status, 200, `PUT /api/v1/acl answered ${res.status}: ${await res.text()}`);
    },
    // POST /api/v1/charging-session (docs/api.md §1); resolves to the request id.
    async send(callbackUrl, driverToken = DRIVER) {
      const res = await fetch(`${base}/api/v1/charging-session`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ station_id: STATION, driver_token: driverToken, callback_url: callbackUrl }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `POST /api/v1/charging-session answered ${res.status}: ${text}`);
      return JSON.parse(text).request_id;
    },
    async request(id) {
      const res = await fetch(`${base}/api/v1/admin/requests/${id}`, { headers: admin });
      return res.status === 200 ? res.json() : null;
    },
  };
}

// The number a tile shows (its data-value, the raw figure behind the formatted text).
async function tile(page, id) {
  const v = await page.locator(`#${id}`).getAttribute('data-value');
  return v === null || v === '' ? null : Number(v);
}

async function waitForTile(page, id, atLeast, timeoutMs = 15000) {
  await until(`#${id} to show at least ${atLeast}`, async () => {
    const v = await tile(page, id);
    return v !== null && v >= atLeast;
  }, timeoutMs, 200).catch(async (e) => {
    throw new Error(`${e.message}; it shows ${await tile(page, id)}`);
  });
}

async function main() {
  assert.ok(fs.existsSync(BIN), `no chargegate binary at ${BIN} (build it, or set CHARGEGATE_BIN)`);
  assert.ok(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM} (Debian package chromium)`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-browser-'));
  const consoleErrors = [];
  const foreignRequests = [];
  const pageRequests = [];
  let service, receiver, failingReceiver, browser, page, base;
  let loadRunning = false;
  let loadLoop = Promise.resolve();

  try {
    step('starting the callback receivers and the service');
    receiver = await startReceiver('ok');
    failingReceiver = await startReceiver('fail');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = await startService(port, path.join(tmp, 'data'));
    console.log(`  service pid ${service.child.pid} on ${base}, receiver ${receiver.url}`);
    const api = client(base);
    await api.putAcl(DRIVER, { status: 'allowed', stations: null, expires_at: null });

    step('opening the dashboard in chromium with Basic credentials');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless=new'],
    });
    const context = await browser.newContext({
      httpCredentials: { username: 'operator', password: ADMIN_TOKEN },
      viewport: { width: 1440, height: 1000 },
    });
    const watch = (p) => {
      p.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url || 'page'})`);
      });
      p.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
      p.on('request', (req) => {
        const url = req.url();
        if (url.startsWith('data:')) return;
        pageRequests.push(`${req.method()} ${url}`);
        if (new URL(url).origin !== base) foreignRequests.push(url);
      });
      return p;
    };
    page = watch(await context.newPage());
    const response = await page.goto(`${base}/dashboard`);
    assert.equal(response.status(), 200, `GET /dashboard answered ${response.status()}`);
    await page.waitForSelector('#conn-status[data-state="ok"]', { timeout: 10000 })
      .catch(async () => {
        throw new Error(`the page never loaded its stats; status line: "${await page.textContent('#conn-status')}"`);
      });

    step('sending requests and watching accepted/delivered move');
    const accepted0 = await tile(page, 'accepted-total');
    const delivered0 = await tile(page, 'delivered-total');
    assert.ok(accepted0 !== null && delivered0 !== null, 'the totals show no number');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await api.send(receiver.url));
    await until('the receiver to get the 5 callbacks', () => ids.every(receiver.delivered));
    await waitForTile(page, 'accepted-total', accepted0 + 5);
    await waitForTile(page, 'delivered-total', delivered0 + 5);
    await waitForTile(page, 'allowed-total', 5);
    console.log(`  accepted ${accepted0} → ${await tile(page, 'accepted-total')}, ` +
      `delivered ${delivered0} → ${await tile(page, 'delivered-total')}`);

    step('holding the receiver\'s answers: it shows in the Receivers table with its limit');
    const receiverOrigin = new URL(receiver.url).origin;
    const flowRow = page.locator(`#receiver-flow tr[data-receiver="${receiverOrigin}"]`);
    receiver.hold = true;
    const slowIds = [];
    for (let i = 0; i < 3; i++) slowIds.push(await api.send(receiver.url));
    await flowRow.waitFor({ timeout: 15000 }).catch(() => {
      throw new Error(`${receiverOrigin} never appeared in the Receivers table`);
    });
    const cells = await flowRow.locator('td').allTextContents();
    assert.equal(cells.length, 6, `six cells expected, the row has ${JSON.stringify(cells)}`);
    assert.ok(Number(cells[1].replace(/\D/g, '')) >= 1, `limit ${cells[1]} is not >= 1`);
    assert.ok(Number(cells[2].replace(/\D/g, '')) >= 1, `in flight ${cells[2]} is not >= 1`);
    receiver.release();
    await until('the held callbacks to be delivered', () => slowIds.every(receiver.delivered));
    await page.locator('#receiver-flow tr.empty').waitFor({ timeout: 15000 }).catch(() => {
      throw new Error('the Receivers table never went back to its empty row');
    });

    step('looking up one request in the lookup box');
    await page.fill('#lookup-id', ids[0]);
    await page.click('#lookup-form button[type="submit"]');
    await page.waitForSelector('#lookup-state[data-state="delivered"]', { timeout: 10000 });
    assert.equal(await page.textContent('#lookup-request-id'), ids[0]);
    assert.equal(await page.locator('#lookup-attempts tbody tr').count(), 1, 'one attempt expected');

    step('making a callback fail: receiver answers 500');
    receiver.mode = 'fail';
    const deadLettered0 = await tile(page, 'dead-lettered-total');
    const failedId = await api.send(receiver.url);
    console.log(`  request ${failedId}`);
    const row = page.locator(`#dead-letters tr[data-request-id="${failedId}"]`);
    await row.waitFor({ timeout: 15000 }).catch(() => {
      throw new Error(`request ${failedId} never appeared in the dead-letter list`);
    });
    assert.match(await row.textContent(), /500/, 'the dead-letter row shows the 500');
    await waitForTile(page, 'dead-lettered-total', deadLettered0 + 1);
    await page.locator(`#receivers-table tr[data-receiver="${receiverOrigin}"]`)
      .waitFor({ timeout: 10000 })
      .catch(() => { throw new Error(`${receiverOrigin} never appeared among the failing receivers`); });

    step('fixing the receiver and clicking Redeliver');
    receiver.mode = 'ok';
    await row.locator('button.redeliver').click();
    await until(`the receiver to get ${failedId} redelivered`, () => receiver.delivered(failedId));
    await row.waitFor({ state: 'detached', timeout: 15000 }).catch(() => {
      throw new Error(`request ${failedId} stayed in the dead-letter list after its redelivery`);
    });
    // The page shows the redelivered request in the lookup panel and follows it to delivered.
    await page.waitForSelector('#lookup-state[data-state="delivered"]', { timeout: 10000 });
    assert.equal(await page.textContent('#lookup-request-id'), failedId);
    const attemptRows = await page.locator('#lookup-attempts tbody tr').allTextContents();
    assert.equal(attemptRows.length, 2, `two attempts expected, the page shows ${attemptRows.length}`);
    assert.match(attemptRows[0], /500/, 'the first attempt shows the 500');
    assert.match(attemptRows[1], /200/, 'the second attempt shows the 200');
    const server = await api.request(failedId);
    assert.equal(server && server.state, 'delivered', 'the admin API reports it delivered');

    if (SAVE_SCREENSHOT) {
      step('dashboard under load, for docs/dashboard.png');
      await api.putAcl('FLEET-0000000000000042', { status: 'blocked', stations: null, expires_at: null });
      loadRunning = true;
      let n = 0;
      const worker = async () => {
        while (loadRunning) {
          const k = n++;
          // Mostly allowed and delivered; some refused tokens; a few callbacks that fail for good.
          const url = k % 200 === 7 ? failingReceiver.url : receiver.url;
          const token = k % 9 === 4 ? UNKNOWN_DRIVER : k % 13 === 5 ? 'FLEET-0000000000000042' : DRIVER;
          await api.send(url, token).catch(() => {});
          await sleep(25);
        }
      };
      loadLoop = Promise.all([worker(), worker(), worker(), worker()]);
      await until('the charts to have 12 points', async () => {
        const points = await page.getAttribute('#chart-throughput', 'data-points');
        return Number(points) >= 12;
      }, 60000, 500);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      loadRunning = false;
      await loadLoop;
      console.log(`  ${n} requests sent under load; saved ${path.relative(ROOT, SCREENSHOT)}`);
    }

    step('opening /dashboard/ (trailing slash): the page moves to /dashboard and goes live');
    const slash = watch(await context.newPage());
    await slash.goto(`${base}/dashboard/`);
    await slash.waitForSelector('#conn-status[data-state="ok"]', { timeout: 10000 }).catch(async () => {
      throw new Error(`opened at /dashboard/, the page is at ${slash.url()} and says ` +
        `"${await slash.textContent('#conn-status')}"`);
    });
    assert.equal(new URL(slash.url()).pathname, '/dashboard');
    await slash.close();

    step('opening http://user:token@host/dashboard (credentials in the URL): the page goes live');
    const inUrl = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const withCreds = watch(await inUrl.newPage());
    const credsUrl = new URL(`${base}/dashboard`);
    credsUrl.username = 'operator';
    credsUrl.password = ADMIN_TOKEN;
    const credsResponse = await withCreds.goto(credsUrl.href);
    assert.equal(credsResponse.status(), 200, `GET /dashboard answered ${credsResponse.status()}`);
    await withCreds.waitForSelector('#conn-status[data-state="ok"]', { timeout: 10000 }).catch(async () => {
      throw new Error(`opened with credentials in the URL, the page says ` +
        `"${await withCreds.textContent('#conn-status')}"; console: ${consoleErrors.join(' | ')}`);
    });
    assert.ok((await tile(withCreds, 'accepted-total')) >= 5, 'the totals did not load');
    await inUrl.close();

    step('checking the console and the origins of every request');
    assert.deepEqual(consoleErrors, [], `console errors on the page:\n  ${consoleErrors.join('\n  ')}`);
    assert.deepEqual(foreignRequests, [], `requests to another origin:\n  ${foreignRequests.join('\n  ')}`);
    assert.ok(pageRequests.some((r) => r.includes('/api/v1/admin/stats')), 'the page never polled stats');
    assert.ok(pageRequests.some((r) => r.includes('/api/v1/admin/dead-letters')), 'the page never polled dead letters');
    console.log(`  ${pageRequests.length} requests, all to ${base}; no console error`);
  } catch (e) {
    console.error(`\nFAILED during "${currentStep}" after ${elapsed()}:\n  ${e.stack || e}`);
    if (page) {
      const shot = path.join(os.tmpdir(), `cg-dashboard-failure-${process.pid}.png`);
      await page.screenshot({ path: shot, fullPage: true }).then(
        () => console.error(`  screenshot of the page: ${shot}`), () => {});
    }
    if (consoleErrors.length) console.error(`  console errors:\n    ${consoleErrors.join('\n    ')}`);
    if (service) console.error(`  service stderr (last lines):\n    ${service.log.slice(-30).join('\n    ')}`);
    throw e;
  } finally {
    loadRunning = false;
    await loadLoop.catch(() => {});
    if (browser) await browser.close().catch(() => {});
    await stopService(service);
    for (const r of [receiver, failingReceiver]) if (r) r.server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// Whatever ends this process (the overall timeout, Ctrl-C, an unexpected exit), the service goes
// with it: killed by its PID.
process.on('exit', () => {
  if (liveService && !liveService.exited) {
    try { process.kill(liveService.child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\ninterrupted (${sig}) during "${currentStep}"`);
    process.exit(130);
  });
}
const timer = setTimeout(() => {
  console.error(`\nFAILED: overall timeout of ${OVERALL_TIMEOUT_MS / 1000} s during "${currentStep}"`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

try {
  await main();
  console.log(`\ndashboard browser test: PASS (${elapsed()})`);
  clearTimeout(timer);
} catch {
  clearTimeout(timer);
  process.exitCode = 1;
}
