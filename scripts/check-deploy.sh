#!/usr/bin/env bash
# Checks the files in deploy/ statically and against a live binary, without a container engine
# (scripts/check-containers.sh builds the image, starts compose and plays the manifests with
# podman; deploy/README.md says what stays unexercised). One line per check; exit 1 if any failed.
#
#   yaml        every *.yaml/*.yml under deploy/ parses (PyYAML safe_load_all), every *.json too
#   manifests   Kubernetes and compose files hang together: selectors, probes, grace period above
#               DRAIN_TIMEOUT_MS, non-root, resources; every setting name is one chargegate reads
#               (src/config/config.cpp)
#   kustomize   kubectl kustomize deploy/kubernetes renders (skipped without kubectl)
#   nginx       nginx -t accepts the compose balancer's config (skipped without nginx)
#   image-libs  the Dockerfile's runtime packages provide every library the binary links
#               (skipped without dpkg)
#   rules       promtool check rules + promtool test rules (alerts.test.yml)
#   config      promtool check config deploy/prometheus/prometheus.yml
#   dashboard   every Grafana query parses as PromQL (promtool, with the variables filled in)
#   live        the binary serves; a few POSTs with a failing authorizer and a dead callback
#               receiver fill the histograms, retries and dead letters
#   metrics     promtool check metrics on the live /metrics
#   names       every metric the alert rules and the dashboard use is in the live /metrics
#
# Usage: scripts/check-deploy.sh          CHARGEGATE_BIN=path/to/chargegate to check another binary
# Needs python3 with PyYAML (Debian: python3-yaml), promtool (Debian: prometheus) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${CHARGEGATE_BIN:-build/chargegate}"
# Series the single-process run below cannot show: cluster mode only (DATABASE_URL + REDIS_URL),
# or made by Prometheus itself.
NOT_IN_EMBEDDED_METRICS="broker_up broker_unpublished_hints rate_limit_redis_up up"

tmp="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap stops the service on Ctrl-C too

failures=0
# run NAME FUNCTION: runs the check in a subshell with errexit on; the last line it prints is
# its summary. Exit status 77 means skipped.
run() {
    local name="$1" rc=0
    set +e
    (set -e; "$2") >"$tmp/$name.out" 2>&1
    rc=$?
    set -e
    local summary
    summary="$(grep -v '^[[:space:]]*$' "$tmp/$name.out" | tail -n 1 || true)"
    if [ "$rc" = 0 ]; then
        printf 'PASS  %-11s %s\n' "$name" "$summary"
    elif [ "$rc" = 77 ]; then
        printf 'SKIP  %-11s %s\n' "$name" "$summary"
    else
        printf 'FAIL  %-11s %s\n' "$name" "$summary"
        sed 's/^/      | /' "$tmp/$name.out" | head -n 60
        failures=$((failures + 1))
    fi
}

check_yaml() {
    python3 - <<'EOF'
import glob, json, sys, yaml
files = sorted(glob.glob("deploy/**/*.y*ml", recursive=True))
docs, bad = 0, []
for f in files:
    try:
        with open(f) as fh:
            docs += sum(1 for d in yaml.safe_load_all(fh) if d is not None)
    except yaml.YAMLError as e:
        bad.append(f"{f}: {' '.join(str(e).split())}")
jsons = sorted(glob.glob("deploy/**/*.json", recursive=True))
for f in jsons:
    try:
        with open(f) as fh:
            json.load(fh)
    except ValueError as e:
        bad.append(f"{f}: {e}")
for b in bad: print(b)
if bad:
    sys.exit(f"{len(bad)} file(s) do not parse")
if not files or not jsons:
    sys.exit("no YAML or JSON files under deploy/")
print(f"{len(files)} YAML files ({docs} documents), {len(jsons)} JSON file(s) parse")
EOF
}

check_manifests() {
    python3 - <<'EOF'
import glob, os, re, sys, yaml
errors = []
def err(msg): errors.append(msg)

src = open("src/config/config.cpp").read()
known = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', src[src.index("kKnownKeys"):src.index("};", src.index("kKnownKeys"))]))
if len(known) < 30:
    sys.exit(f"could not read kKnownKeys from src/config/config.cpp (found {len(known)})")
def setting_names(where, names):
    for n in names:
        if n not in known:
            err(f"{where}: {n} is not a setting chargegate reads (src/config/config.cpp)")

# --- Kubernetes
k8s = {}
for f in sorted(glob.glob("deploy/kubernetes/*.yaml")):
    for d in yaml.safe_load_all(open(f)):
        if d is None: continue
        if d.get("kind") == "Kustomization":
            for r in d.get("resources", []):
                if not os.path.exists(os.path.join("deploy/kubernetes", r)):
                    err(f"{f}: resource {r} does not exist")
            continue
        for key in ("apiVersion", "kind"):
            if key not in d: err(f"{f}: a document has no {key}")
        name = d.get("metadata", {}).get("name")
        if not name: err(f"{f}: a {d.get('kind')} has no metadata.name")
        k8s[(d.get("kind"), name)] = (f, d)

configmaps = {n for (k, n) in k8s if k == "ConfigMap"}
secrets = {n for (k, n) in k8s if k == "Secret"}
deployments = {n: d for (k, n), (f, d) in k8s.items() if k == "Deployment"}
drain_ms = None
for (k, n), (f, d) in k8s.items():
    if k == "ConfigMap":
        setting_names(f, d.get("data", {}))
        drain_ms = int(d.get("data", {}).get("DRAIN_TIMEOUT_MS", drain_ms or 10000))
    if k == "Secret":
        setting_names(f, d.get("stringData", {}) or d.get("data", {}))
if drain_ms is None: drain_ms = 10000  # chargegate's default

def matches(selector, labels):
    return selector and all(labels.get(k) == v for k, v in selector.items())

roles = []
for n, d in deployments.items():
    spec = d["spec"]; pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if not matches(spec["selector"].get("matchLabels"), labels):
        err(f"Deployment {n}: selector does not match the pod template's labels")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        err(f"Deployment {n}: pod securityContext.runAsNonRoot is not true")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    for c in pod.get("initContainers", []) + pod["containers"]:
        res = c.get("resources", {})
        if "memory" not in res.get("limits", {}) or "cpu" not in res.get("requests", {}):
            err(f"Deployment {n}/{c['name']}: needs requests.cpu and limits.memory")
        if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
            err(f"Deployment {n}/{c['name']}: allowPrivilegeEscalation is not false")
        for ref in c.get("envFrom", []):
            if "configMapRef" in ref and ref["configMapRef"]["name"] not in configmaps:
                err(f"Deployment {n}: ConfigMap {ref['configMapRef']['name']} is not defined")
            if "secretRef" in ref and ref["secretRef"]["name"] not in secrets:
                err(f"Deployment {n}: Secret {ref['secretRef']['name']} is not defined (secret.example.yaml)")
        setting_names(f"Deployment {n}/{c['name']}", [e["name"] for e in c.get("env", [])])
    for c in pod["containers"]:
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        roles.append(env.get("ROLE"))
        ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
        live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
        if (ready, live) != ("/health/ready", "/health/live"):
            err(f"Deployment {n}/{c['name']}: probes are {ready} / {live}, want /health/ready and /health/live")
        pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        pause = int(pre[1]) if len(pre) == 2 and pre[0] == "sleep" else 0
        if grace * 1000 <= drain_ms + pause * 1000:
            err(f"Deployment {n}: terminationGracePeriodSeconds {grace} is not above preStop {pause} s + DRAIN_TIMEOUT_MS {drain_ms}")
if sorted(r for r in roles if r) != ["api", "worker"]:
    err(f"want one Deployment with ROLE=api and one with ROLE=worker, got {roles}")

for (k, n), (f, d) in k8s.items():
    if k in ("Service", "PodDisruptionBudget"):
        sel = d["spec"]["selector"]
        sel = sel.get("matchLabels", sel) if k == "PodDisruptionBudget" else sel
        if not any(matches(sel, dep["spec"]["template"]["metadata"]["labels"]) for dep in deployments.values()):
            err(f"{k} {n}: selector matches no Deployment's pods")
    if k == "HorizontalPodAutoscaler":
        ref = d["spec"]["scaleTargetRef"]
        if ref["kind"] != "Deployment" or ref["name"] not in deployments:
            err(f"HorizontalPodAutoscaler {n}: scaleTargetRef {ref['name']} is not a Deployment here")

# --- compose
compose = yaml.safe_load(open("deploy/compose.yaml"))
services = compose["services"]
compose_roles = []
for name, s in services.items():
    for dep in (s.get("depends_on") or []):
        if dep not in services: err(f"compose service {name}: depends_on unknown service {dep}")
    # chargegate's own image (the other services' images are chargegate-<service>:local)
    if str(s.get("image", "")).startswith("chargegate:"):
        env = s.get("environment") or {}
        setting_names(f"compose service {name}", env)
        compose_roles.append(env.get("ROLE"))
for path in [v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if v.startswith("./")]:
    if not os.path.exists(os.path.join("deploy", path)):
        err(f"compose: mounted file {path} does not exist")
for name, s in services.items():
    b = s.get("build")
    if isinstance(b, dict):
        ctx = os.path.join("deploy", b.get("context", "."))
        if not os.path.exists(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))):
            err(f"compose service {name}: build file {b.get('dockerfile')} not found in {ctx}")
        if "target" in b and f"AS {b['target']}" not in open(os.path.join(ctx, b.get("dockerfile", "Dockerfile"))).read():
            err(f"compose service {name}: build target {b['target']} is not a stage of {b.get('dockerfile')}")
if sorted(r for r in compose_roles if r) != ["api", "api", "worker", "worker"]:
    err(f"compose: want 2 ROLE=api and 2 ROLE=worker services, got {compose_roles}")

for e in errors: print(e)
if errors: sys.exit(1)
print(f"{len(k8s)} Kubernetes objects and {len(services)} compose services consistent; "
      f"setting names checked against {len(known)} keys")
EOF
}

check_kustomize() {
    if ! command -v kubectl >/dev/null; then echo "kubectl not installed"; return 77; fi
    local n
    n="$(kubectl kustomize deploy/kubernetes | grep -c '^kind:')"
    echo "kubectl kustomize deploy/kubernetes renders $n objects"
}

# nginx -t on the compose balancer's config, with the upstream host names (which only resolve
# inside compose) replaced by loopback addresses.
check_nginx() {
    if ! command -v nginx >/dev/null; then echo "nginx not installed"; return 77; fi
    mkdir -p "$tmp/nginx/logs"
    { echo 'events {}'; echo 'http {'
      sed -E 's/(api-[0-9]+):8080/127.0.0.1:8080/' deploy/compose/nginx.conf; echo '}'; } >"$tmp/nginx/nginx.conf"
    nginx -t -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
        -g "pid $tmp/nginx/nginx.pid; error_log $tmp/nginx/logs/error.log;"
    echo "nginx -t accepts deploy/compose/nginx.conf"
}

check_image_libs() {
    if ! command -v dpkg >/dev/null; then echo "no dpkg to map libraries to packages"; return 77; fi
    [ -x "$BIN" ] || { echo "$BIN is not an executable (set CHARGEGATE_BIN)"; return 1; }
    BIN="$BIN" python3 - <<'EOF'
import os, re, subprocess, sys
df = open("deploy/Dockerfile").read()
runtime = df[df.rindex("\nFROM "):]
m = re.search(r"apt-get install((?:[^\n]*\\\n)*[^\n]*)", runtime)
listed = {t for t in re.split(r"[\s\\]+", m.group(1).split("&&")[0]) if re.match(r"^[a-z0-9][a-z0-9.+-]+$", t)} if m else set()
base = {"libc6", "libstdc++6", "libgcc-s1"}  # in debian:bookworm-slim already (apt needs them)
ldd = subprocess.run(["ldd", os.environ["BIN"]], capture_output=True, text=True, check=True).stdout
paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                    subprocess.run(["readelf", "-d", os.environ["BIN"]], capture_output=True, text=True, check=True).stdout)
# One dpkg -S for all (it reads the whole package database each time). With merged /usr a file
# is registered under /lib or /usr/lib, so ask for every spelling of each path.
spellings = {so: {paths[so], os.path.realpath(paths[so]), "/usr" + paths[so]} for so in needed if so in paths}
found = subprocess.run(["dpkg", "-S"] + sorted(set().union(*spellings.values())),
                       capture_output=True, text=True).stdout
owner = {line.split(": ", 1)[1]: line.split(":")[0] for line in found.splitlines() if ": " in line}
want = {}
for so in needed:
    pkg = next((owner[c] for c in spellings.get(so, ()) if c in owner), None)
    if not pkg: sys.exit(f"cannot tell which package provides {so}")
    want.setdefault(pkg, []).append(so)
missing = sorted(set(want) - listed - base)
unused = sorted(p for p in listed if p.startswith("lib") and p not in want)
for p in missing: print(f"deploy/Dockerfile runtime stage lacks {p} (for {', '.join(want[p])})")
for p in unused: print(f"deploy/Dockerfile runtime stage installs {p}, which the binary does not link")
if missing or unused: sys.exit(1)
print(f"{len(needed)} linked libraries come from {len(want)} packages, all in the runtime stage or the base image")
EOF
}

check_rules() {
    promtool check rules deploy/prometheus/alerts.yml
    promtool test rules deploy/prometheus/alerts.test.yml
    local n
    n="$(grep -c '^ *- alert:' deploy/prometheus/alerts.yml)"
    echo "$n alert rules valid; alerts.test.yml passes"
}

check_config() {
    promtool check config deploy/prometheus/prometheus.yml
    echo "prometheus.yml valid (with its rule file)"
}

# Grafana queries as recording rules, so that promtool parses them. $__rate_interval and the
# dashboard's variables are filled in with values of the right shape.
check_dashboard() {
    python3 - "$tmp/dashboard-rules.yml" <<'EOF'
import glob, json, re, sys
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str): exprs.append(v)
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
for f in glob.glob("deploy/grafana/*.json"):
    walk(json.load(open(f)))
with open(sys.argv[1], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = re.sub(r"\$\{?(__rate_interval|__interval|__range)\}?", "5m", e)
        e = re.sub(r"\$\{?\w+\}?", ".*", e)
        out.write(f"      - record: q{i}\n        expr: {json.dumps(e)}\n")
EOF
    promtool check rules "$tmp/dashboard-rules.yml"
    echo "$(grep -c 'record:' "$tmp/dashboard-rules.yml") dashboard queries parse as PromQL"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

metric_value() {  # metric_value NAME: the value of an unlabelled series in the saved /metrics
    awk -v n="$1" '$1 == n {print $2}' "$tmp/metrics.txt"
}

check_live() {
    [ -x "$BIN" ] || { echo "$BIN is not an executable (set CHARGEGATE_BIN)"; return 1; }
    local port closed base i code accepted=0 rejected=0
    port="$(free_port)"
    closed="$(free_port)"  # nothing listens there: the authorizer and the receiver are down
    base="http://127.0.0.1:$port"
    mkdir -p "$tmp/data"
    # env -i: a DATABASE_URL or ROLE in the caller's environment must not switch modes.
    env -i PATH="$PATH" PORT="$port" BIND_ADDRESS=127.0.0.1 DATA_DIR="$tmp/data" LOG_LEVEL=WARN \
        WORKERS=1 HTTP_THREADS=1 CALLBACK_ALLOW_PRIVATE_NETWORKS=true \
        AUTHORIZER_URL="http://127.0.0.1:$closed/authorize" AUTHORIZER_BREAKER_MIN_CALLS=2 \
        CALLBACK_MAX_ATTEMPTS=2 CALLBACK_RETRY_BASE_MS=50 CALLBACK_RETRY_MAX_MS=100 \
        "$BIN" serve >"$tmp/serve.log" 2>&1 &
    pid=$!
    for i in $(seq 100); do
        curl -fs -o /dev/null "$base/health/live" && break
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log"; echo "chargegate exited at start"; return 1; }
        sleep 0.1
    done
    curl -fs -o /dev/null "$base/health/live" || { echo "no /health/live within 10 s"; return 1; }
    for i in 1 2 3 4; do
        code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v1/charging-session" \
            -H 'Content-Type: application/json' -H "Idempotency-Key: check-deploy-$i" \
            -d "{\"station_id\":\"123e4567-e89b-12d3-a456-42661417400$i\",
                 \"driver_token\":\"ABCD-efgh1234567890_~valid.token\",
                 \"callback_url\":\"http://127.0.0.1:$closed/callbacks/charge-result\"}")"
        [ "$code" = 200 ] && accepted=$((accepted + 1))
    done
    code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/v1/charging-session" \
        -H 'Content-Type: application/json' -d '{"station_id":"not-a-uuid"}')"
    [ "$code" = 400 ] && rejected=1
    [ "$accepted" = 4 ] && [ "$rejected" = 1 ] || {
        echo "want 4 accepted and 1 rejected, got $accepted and $rejected"; return 1; }
    # Each request: authorizer refused (unknown), two callback attempts, dead-lettered.
    for i in $(seq 100); do
        curl -fs "$base/metrics" >"$tmp/metrics.txt"
        [ "$(metric_value callback_dead_lettered_total)" = 4 ] && break
        sleep 0.1
    done
    echo "accepted 4, rejected 1, dead-lettered $(metric_value callback_dead_lettered_total) of 4;" \
        "/metrics has $(grep -vc '^#' "$tmp/metrics.txt") samples"
}

check_metrics() {
    [ -s "$tmp/metrics.txt" ] || { echo "no /metrics from the live check"; return 1; }
    promtool check metrics <"$tmp/metrics.txt"
    echo "promtool check metrics: no problems in $(grep -c '^# TYPE' "$tmp/metrics.txt") families"
}

check_names() {
    [ -s "$tmp/metrics.txt" ] || { echo "no /metrics from the live check"; return 1; }
    ALLOW="$NOT_IN_EMBEDDED_METRICS" python3 - "$tmp/metrics.txt" <<'EOF'
import glob, json, os, re, sys, yaml
exposed = set()
for line in open(sys.argv[1]):
    if line.startswith("# TYPE "):
        exposed.add(line.split()[2])
    elif line.strip() and not line.startswith("#"):
        exposed.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
allow = set(os.environ["ALLOW"].split())

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan"}
def names(expr):
    e = re.sub(r"label_values\(\s*([^,]+?)\s*,\s*\w+\s*\)", r"\1", expr)  # Grafana
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)
    e = re.sub(r"\{[^}]*\}", " ", e)          # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)         # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)        # Grafana variables
    out = set()
    for m in re.finditer(r"(?<![0-9.\w])[A-Za-z_:][A-Za-z0-9_:]*", e):
        if m.group(0).lower() in KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue  # a keyword or a function
        out.add(m.group(0))
    return out

used = {}
def use(where, expr):
    for n in names(expr): used.setdefault(n, set()).add(where)
for g in yaml.safe_load(open("deploy/prometheus/alerts.yml"))["groups"]:
    for r in g["rules"]:
        use("alerts.yml", r["expr"])
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str): use("dashboard", v)
            else: walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
for f in glob.glob("deploy/grafana/*.json"):
    walk(json.load(open(f)))

missing = sorted(n for n in used if n not in exposed and n not in allow)
for n in missing:
    print(f"{n} (used in {', '.join(sorted(used[n]))}) is not in /metrics")
if missing:
    print(f"{len(missing)} of {len(used)} metric names used are missing from /metrics")
    sys.exit(1)
print(f"all {len(used)} metric names used are in /metrics "
      f"({len(allow & set(used))} allowed cluster-only/Prometheus: {' '.join(sorted(allow & set(used)))})")
EOF
}

run yaml check_yaml
run manifests check_manifests
run kustomize check_kustomize
run nginx check_nginx
run image-libs check_image_libs
run rules check_rules
run config check_config
run dashboard check_dashboard
# The live check runs in this shell, not in run's subshell: it leaves the service running for
# the next two checks, and its pid for the exit trap.
set +e
check_live >"$tmp/live.out" 2>&1
rc=$?
set -e
if [ "$rc" = 0 ]; then
    printf 'PASS  %-11s %s\n' live "$(tail -n 1 "$tmp/live.out")"
else
    printf 'FAIL  %-11s %s\n' live "$(tail -n 1 "$tmp/live.out")"
    sed 's/^/      | /' "$tmp/live.out" | head -n 60
    failures=$((failures + 1))
fi
run metrics check_metrics
run names check_names

if [ "$failures" -gt 0 ]; then
    echo "check-deploy: $failures check(s) failed"
    exit 1
fi
echo "check-deploy: all checks passed"
