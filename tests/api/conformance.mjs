// Checks that real answers conform to docs/openapi.yaml. Reads the exchanges the integration
// tests recorded (CG_API_RECORD_DIR, one JSON line per exchange with the service under test;
// tests/support/api_record.hpp), matches each to a path template, method and status of the
// description, and checks the documented headers and the body's schema.
//
// An exchange conforms when:
// - its path matches a documented path and its method is documented there: its status is
//   documented for that operation (exactly, as NXX, or by `default`), every header marked
//   required is present, every documented header present matches its schema, and its body is
//   of a documented media type and (for JSON) valid against the schema; HEAD answers have no
//   body;
// - its path matches but the method is not documented: the answer is 405 with the error body
//   and an `Allow` naming exactly the documented methods (HEAD implied by GET), or one of the
//   refusals made before routing (400, 413, 431, 503) with the error body;
// - its path matches no documented path: 404 (or a refusal made before routing) with the
//   error body.
// Prints, per operation, the statuses seen (and documented statuses never seen); exits 1 listing
// every mismatch, or when nothing was recorded.
// Usage: node conformance.mjs RECORD_DIR [path/to/openapi.yaml]
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
const specFile = process.argv[3] ?? path.join(here, "../../docs/openapi.yaml");
if (!dir) {
  console.error("usage: node conformance.mjs RECORD_DIR [openapi.yaml]");
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specFile, "utf8"));
const METHODS = ["get", "head", "post", "put", "delete", "patch", "options"];
const BEFORE_ROUTING = new Set([400, 413, 431, 503]);

// Schemas refer to each other by "#/components/schemas/X": point that at one added document.
const rebase = (node) => {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")
        ? `openapi#/$defs/${v.slice("#/components/schemas/".length)}`
        : rebase(v);
  }
  return out;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "openapi", $defs: rebase(spec.components.schemas) });
const compiled = new Map();
const validatorFor = (schema) => {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rebase(schema)));
  return compiled.get(key);
};
const errorBody = validatorFor({ $ref: "#/components/schemas/Error" });

// Follows a "#/components/..." reference (responses, headers).
const deref = (node) => {
  while (node && typeof node.$ref === "string") {
    node = node.$ref.replace(/^#\//, "").split("/").reduce((n, k) => n?.[k], spec);
  }
  return node;
};

// Path templates, those with fewer parameters first, so a literal path such as
// /api/v1/admin/stats is matched before any template that could also match it.
const templates = Object.keys(spec.paths)
  .map((t) => ({
    template: t,
    params: (t.match(/\{/g) ?? []).length,
    regex: new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }))
  .sort((a, b) => a.params - b.params);
const match = (target) => {
  let p = target.split("?")[0];
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);  // the service ignores it too
  return templates.find((t) => t.regex.test(p))?.template;
};

const mediaOf = (ct) => (ct ?? "").split(";")[0].trim().toLowerCase();
const mediaMatches = (documented, actual) => {
  if (documented === "*/*") return true;
  const [dt, ds] = documented.toLowerCase().split("/");
  const [at, as] = actual.split("/");
  return dt === at && (ds === "*" || ds === as);
};

const problems = [];
const seen = new Map();  // "METHOD template" -> Map(status -> count)
const note = (key, status) => {
  if (!seen.has(key)) seen.set(key, new Map());
  const m = seen.get(key);
  m.set(status, (m.get(status) ?? 0) + 1);
};

function checkErrorBody(x, where) {
  let body;
  try {
    body = JSON.parse(x.body);
  } catch {
    return problems.push(`${where}: body is not JSON: ${x.body.slice(0, 120)}`);
  }
  if (!errorBody(body)) {
    problems.push(`${where}: body is not the error shape: ${ajv.errorsText(errorBody.errors)}`);
  }
}

function checkOperation(x, op, where) {
  const status = String(x.status);
  const documented = op.responses ?? {};
  const key = documented[status] ? status : documented[`${status[0]}XX`] ? `${status[0]}XX` : "default";
  const response = deref(documented[key]);
  if (!response) {
    return problems.push(`${where}: status ${status} is not documented for this operation`);
  }
  for (const [name, h] of Object.entries(response.headers ?? {})) {
    const header = deref(h);
    const value = x.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`${where}: required header ${name} is missing`);
      continue;
    }
    if (header.schema) {
      const v = validatorFor(header.schema);
      if (!v(value)) problems.push(`${where}: header ${name}: "${value}" ${ajv.errorsText(v.errors)}`);
    }
  }
  if (x.method === "HEAD") {
    if (x.body.length) problems.push(`${where}: HEAD answer has a body`);
    return;
  }
  const content = response.content;
  if (!content) {
    if (x.body.length) problems.push(`${where}: body where none is documented: ${x.body.slice(0, 120)}`);
    return;
  }
  const actual = mediaOf(x.headers["content-type"]);
  const media = Object.keys(content).find((m) => mediaMatches(m, actual));
  if (!media) {
    return problems.push(
      `${where}: Content-Type "${x.headers["content-type"] ?? ""}" is not one of ${Object.keys(content).join(", ")}`);
  }
  const schema = content[media].schema;
  if (!schema || !media.endsWith("json")) return;
  let body;
  try {
    body = JSON.parse(x.body);
  } catch {
    return problems.push(`${where}: body is not JSON: ${x.body.slice(0, 120)}`);
  }
  const v = validatorFor(schema);
  if (!v(body)) {
    problems.push(`${where}: body does not match the schema: ${ajv.errorsText(v.errors)}; body ${x.body.slice(0, 300)}`);
  }
}

const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort();
let count = 0;
for (const f of files) {
  const lines = readFileSync(path.join(dir, f), "utf8").split("\n");
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let x;
    try {
      x = JSON.parse(line);
    } catch {
      return problems.push(`${f}:${i + 1}: not a JSON line`);
    }
    count++;
    const method = x.method.toUpperCase();
    const template = match(x.target);
    const where = `${method} ${x.target} -> ${x.status} (${f}:${i + 1})`;
    if (!template) {
      note("(no route)", x.status);
      if (x.status !== 404 && !BEFORE_ROUTING.has(x.status)) {
        problems.push(`${where}: a path that is no route must be 404`);
      }
      if (method !== "HEAD") checkErrorBody(x, where);
      return;
    }
    const item = spec.paths[template];
    const op = item[method.toLowerCase()];
    if (!op) {
      note(`${method} ${template} (not served)`, x.status);
      if (x.status === 405) {
        const allow = new Set((x.headers.allow ?? "").split(",").map((m) => m.trim().toLowerCase()).filter(Boolean));
        if (allow.has("get")) allow.add("head");
        const documented = new Set(METHODS.filter((m) => item[m]));
        const same = allow.size === documented.size && [...allow].every((m) => documented.has(m));
        if (!same) {
          problems.push(`${where}: Allow "${x.headers.allow ?? ""}" differs from the documented methods ${[...documented].join(", ")}`);
        }
      } else if (!BEFORE_ROUTING.has(x.status)) {
        problems.push(`${where}: an undocumented method must be answered 405`);
      }
      if (method !== "HEAD") checkErrorBody(x, where);
      return;
    }
    note(`${method} ${template}`, x.status);
    checkOperation({ ...x, method }, op, where);
  });
}

console.log(`api conformance: ${count} exchanges from ${files.length} file(s) in ${dir}`);
const documentedOps = [];
for (const [template, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) if (item[m]) documentedOps.push([`${m.toUpperCase()} ${template}`, item[m]]);
}
const width = Math.max(...documentedOps.map(([k]) => k.length), ...[...seen.keys()].map((k) => k.length));
for (const [key, op] of documentedOps) {
  const s = seen.get(key);
  const statuses = s ? [...s.entries()].sort((a, b) => a[0] - b[0]).map(([st, n]) => `${st}×${n}`).join(" ") : "-";
  const never = Object.keys(op.responses).filter((st) => !s?.has(Number(st)));
  console.log(`  ${key.padEnd(width)}  seen: ${statuses}${never.length ? `   never seen: ${never.join(" ")}` : ""}`);
}
for (const [key, s] of seen) {
  if (documentedOps.some(([k]) => k === key)) continue;
  const statuses = [...s.entries()].sort((a, b) => a[0] - b[0]).map(([st, n]) => `${st}×${n}`).join(" ");
  console.log(`  ${key.padEnd(width)}  seen: ${statuses}`);
}
if (count === 0) {
  console.error(`api conformance: no exchanges recorded in ${dir}`);
  process.exit(1);
}
if (problems.length) {
  console.error(`api conformance: ${problems.length} answer(s) do not conform to ${path.relative(process.cwd(), specFile)}:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`api conformance: every answer conforms to ${path.relative(process.cwd(), specFile)}`);
