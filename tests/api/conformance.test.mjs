// Self-test of conformance.mjs: conforming exchanges pass, and each kind of mismatch is
// reported (exit 1). Run by scripts/api-check.sh before the real check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const json = "application/json; charset=utf-8";

function exchange(method, target, status, headers, body) {
  return { method, url: `http://127.0.0.1:1${target}`, target, request_content_type: "",
           port: 1, status, headers: { server: "chargegate", ...headers },
           body: typeof body === "string" ? body : JSON.stringify(body) };
}

function check(exchanges) {
  const dir = mkdtempSync(path.join(tmpdir(), "cg-api-"));
  writeFileSync(path.join(dir, "exchanges-1.jsonl"),
                exchanges.map((x) => JSON.stringify(x)).join("\n") + "\n");
  return spawnSync(process.execPath, [path.join(here, "conformance.mjs"), dir], { encoding: "utf8" });
}

const accepted = { status: "accepted", message: "Request queued for async processing.", request_id: id };
const good = [
  exchange("POST", "/api/v1/charging-session", 200,
           { "content-type": json, location: `/api/v1/charging-session/${id}` }, accepted),
  exchange("POST", "/api/v1/charging-session", 400, { "content-type": json },
           { status: "invalid", message: "m", errors: [{ field: "station_id", message: "m" }] }),
  exchange("GET", "/health/live", 200, { "content-type": json }, { status: "UP" }),
  exchange("GET", "/metrics", 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }, "x 1\n"),
  exchange("DELETE", "/api/v1/acl/ABCD-efgh1234567890_~valid.token", 204, {}, ""),
  exchange("POST", "/health", 405, { "content-type": json, allow: "GET" }, { status: "error", message: "m" }),
  exchange("GET", "/nowhere", 404, { "content-type": json }, { status: "error", message: "Not found." }),
];

test("conforming answers pass", () => {
  const r = check(good);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /every answer conforms/);
});

test("each kind of mismatch is reported", () => {
  const r = check([
    ...good,
    exchange("POST", "/api/v1/charging-session", 200, { "content-type": json }, accepted),
    exchange("GET", `/api/v1/charging-session/${id}`, 200, { "content-type": json }, { request_id: id }),
    exchange("GET", "/metrics", 201, { "content-type": "text/plain" }, ""),
    exchange("POST", "/health", 405, { "content-type": json, allow: "GET, POST" }, { status: "error", message: "m" }),
    exchange("GET", "/health/live", 200, { "content-type": "text/html" }, "<p>"),
    exchange("GET", "/nowhere", 200, { "content-type": json }, { status: "error", message: "m" }),
  ]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /6 answer\(s\) do not conform/);
  assert.match(r.stderr, /required header Location is missing/);
  assert.match(r.stderr, /body does not match the schema/);
  assert.match(r.stderr, /status 201 is not documented/);
  assert.match(r.stderr, /Allow "GET, POST" differs/);
  assert.match(r.stderr, /Content-Type "text\/html" is not one of application\/json/);
  assert.match(r.stderr, /a path that is no route must be 404/);
});

test("an empty record dir fails", () => {
  const r = check([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no exchanges recorded/);
});
