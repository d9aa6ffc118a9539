// Validates an OpenAPI 3.1 description (default: docs/openapi.yaml) with
// @seriousme/openapi-schema-validator, then compiles every schema under components/schemas and
// every inline response/request schema with Ajv (JSON Schema 2020-12, strict mode), so a typo
// in a schema keyword is an error rather than a schema that accepts everything.
// Usage: node validate.mjs [path/to/openapi.yaml]; exit 1 on any error.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, "../../docs/openapi.yaml");
const text = readFileSync(file, "utf8");

const validator = new Validator();
const res = await validator.validate(file);
if (!res.valid) {
  console.error(`${file}: not a valid OpenAPI document:`);
  console.error(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (validator.version !== "3.1") {
  console.error(`${file}: OpenAPI ${validator.version}, expected 3.1`);
  process.exit(1);
}

// Every $ref must resolve (the meta-schema checks only their shape).
const spec = YAML.parse(text);
const problems = [];
const pointer = (p) =>
  p.replace(/^#\//, "").split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((node, key) => (node === undefined ? undefined : node[key]), spec);
(function walk(node, where) {
  if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}/${i}`));
  if (node === null || typeof node !== "object") return;
  if (typeof node.$ref === "string" && pointer(node.$ref) === undefined) {
    problems.push(`${where}: $ref ${node.$ref} does not resolve`);
  }
  for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
})(spec, "#");

// Schemas compile under strict JSON Schema 2020-12.
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addKeyword("example");
ajv.addSchema({ $id: "openapi", $defs: rebase(spec.components.schemas) });
for (const name of Object.keys(spec.components.schemas)) {
  try {
    ajv.getSchema(`openapi#/$defs/${name}`);
  } catch (e) {
    problems.push(`components/schemas/${name}: ${e.message}`);
  }
}
const inline = [];
(function collect(node, where) {
  if (Array.isArray(node)) return node.forEach((n, i) => collect(n, `${where}/${i}`));
  if (node === null || typeof node !== "object") return;
  if (node.schema && typeof node.schema === "object" && !where.includes("/components/schemas")) {
    inline.push([where, node.schema]);
  }
  for (const [k, v] of Object.entries(node)) if (k !== "schema") collect(v, `${where}/${k}`);
})({ paths: spec.paths, webhooks: spec.webhooks, components: spec.components }, "#");
for (const [i, [where, schema]] of inline.entries()) {
  try {
    ajv.compile({ $id: `inline-${i}`, ...rebase(schema) });
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
}

// Schemas refer to each other by "#/components/schemas/X": point that at the added document.
function rebase(node) {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")
        ? `openapi#/$defs/${v.slice("#/components/schemas/".length)}`
        : rebase(v);
  }
  return out;
}

if (problems.length) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
const ops = Object.values(spec.paths).flatMap((item) =>
  Object.keys(item).filter((k) => ["get", "head", "post", "put", "delete", "patch"].includes(k)));
console.log(
  `${path.relative(process.cwd(), file)}: valid OpenAPI ${spec.openapi}; ` +
    `${Object.keys(spec.paths).length} paths, ${ops.length} operations, ` +
    `${Object.keys(spec.webhooks ?? {}).length} webhook(s), ` +
    `${Object.keys(spec.components.schemas).length} schemas compiled (JSON Schema 2020-12, strict)`);
