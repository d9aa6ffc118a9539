#!/usr/bin/env bash
# Runs the files in deploy/ for real with podman, from nothing on a fresh Debian 12 machine (as
# root; rootful podman), and removes every container, pod, network and volume it started, by id.
# One PASS/FAIL line per check, with the figures; exit 1 if any failed.
#
#   tools       apt installs podman, runc, podman-compose, netavark, aardvark-dns, catatonit (the
#               pods' pause process), debootstrap
#   base        Debian 12 base images from Debian's own packages (debootstrap; no image registry
#               is reachable here): localhost/debian:bookworm and :bookworm-slim, also tagged
#               docker.io/library/debian:* so that the Dockerfiles' FROM lines find them. Kept
#               between runs on the same machine, as are the images built below.
#   image       builds deploy/Dockerfile; records the build time and the runtime image's size
#               (must be <= CG_IMAGE_MAX_MB, default 150)
#   embedded    the image in embedded mode: /health/ready, a session POSTed from the host gets
#               its callback at a receiver on the host with a valid signature, the process runs
#               as uid 10001, `podman stop` drains and exits 0 within the grace period, and a
#               request acknowledged before a stop is delivered by a new container on the same
#               volume
#   compose     deploy/compose.yaml with podman-compose (2 API + 2 worker containers,
#               PostgreSQL, Redis, nginx, receiver, Prometheus): a signed callback through the
#               balancer, then `chargegate loadtest` through nginx for CG_COMPOSE_SECONDS (20)
#               with one worker container killed (`podman kill`) half-way; every acknowledged
#               request must be delivered, duplicates are counted
#   kube        the Kubernetes manifests with `podman kube play` (Deployments, Service,
#               ConfigMap, Secret, probes) beside PostgreSQL and Redis: both roles start, pass
#               their readiness probe's check and serve a session end to end
#
# Traffic stays on this machine: published ports are bound to 127.0.0.1, callbacks go to
# receivers on 127.0.0.1 (embedded, host network) or inside the stack's private network.
#
# Usage: scripts/check-containers.sh [check...]   (default: all; base and image run whenever a
# later check needs them). CG_IMAGE_MAX_MB, CG_COMPOSE_SECONDS tune the checks.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [ "$(id -u)" != 0 ]; then
  echo "check-containers.sh: needs root (rootful podman, apt-get, debootstrap)" >&2
  exit 1
fi
export CONTAINERS_CONF="$root/scripts/lib/containers.conf"
IMAGE=localhost/chargegate:local
IMAGE_MAX_MB="${CG_IMAGE_MAX_MB:-150}"
COMPOSE_SECONDS="${CG_COMPOSE_SECONDS:-20}"
SECRET=whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=  # compose.yaml's example secret
run_id="cgcheck$$"

tmp="$(mktemp -d)"
cleanup() {
  local rc=$?
  set +e
  if [ -s "$tmp/pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null; done <"$tmp/pids"
  fi
  # Everything this run started, by id (recorded as it was created), newest first.
  if [ -s "$tmp/started" ]; then
    tac "$tmp/started" | while read -r kind id; do
      case "$kind" in
        container) podman rm -f -v -t 0 "$id" >/dev/null 2>&1 ;;  # -v: its anonymous volumes too
        pod) podman pod rm -f -t 0 "$id" >/dev/null 2>&1 ;;
        volume) podman volume rm -f "$id" >/dev/null 2>&1 ;;
        network) podman network rm -f "$id" >/dev/null 2>&1 ;;
        secret) podman secret rm "$id" >/dev/null 2>&1 ;;
      esac
    done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started() { echo "$1 $2" >>"$tmp/started"; }
host_process() { echo "$1" >>"$tmp/pids"; }  # a process on the host, stopped at the end
# Records every container, pod, volume and network that carries the label (compose and kube
# play create them; the label is how they are found, the id is how they are removed).
started_by_label() {
  local label="$1" id
  for id in $(podman ps -a -q --no-trunc --filter "label=$label"); do started container "$id"; done
  for id in $(podman pod ps -q --no-trunc --filter "label=$label"); do started pod "$id"; done
  for id in $(podman volume ls -q --filter "label=$label"); do started volume "$id"; done
  for id in $(podman network ls -q --no-trunc --filter "label=$label"); do started network "$id"; done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.5 s until it succeeds; 1 when it never did.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.5
  done
}

failures=0
# check NAME FUNCTION: runs one check in a subshell with errexit on; its last output line is the
# summary. Its whole output is shown when it fails, which counts in $failures. Never call it in
# a condition (`check ... || ...`): bash would then ignore errexit inside the check.
check() {
  local name="$1" rc=0 t0=$SECONDS
  set +e
  # podman schedules HEALTHCHECKs and liveness probes with systemd timers; without systemd (as
  # on CI's machines) it logs an error line per container and goes on; podman exec adds a syslog
  # complaint. Both are left out of the output.
  (set -e; "$2") 2>&1 | grep --line-buffered -v -e 'unable to get systemd connection' -e 'failed to connect to syslog' >"$tmp/$name.out"
  rc=${PIPESTATUS[0]}
  set -e
  local summary
  summary="$(grep -v '^[[:space:]]*$' "$tmp/$name.out" | tail -n 1 || true)"
  [ -n "$summary" ] || summary="(no output; exit status $rc)"
  if [ "$rc" = 0 ]; then
    printf 'PASS  %-9s %s (%ds)\n' "$name" "$summary" $((SECONDS - t0))
    grep -v '^[[:space:]]*$' "$tmp/$name.out" | sed '$d' | sed 's/^/      | /' | tail -n 30 || true
  else
    printf 'FAIL  %-9s %s (%ds)\n' "$name" "$summary" $((SECONDS - t0))
    sed 's/^/      | /' "$tmp/$name.out" | tail -n 80 || true
    failures=$((failures + 1))
  fi
}

# ---- tools -----------------------------------------------------------------------------------
check_tools() {
  local pkgs=(podman runc podman-compose netavark aardvark-dns catatonit debootstrap curl python3)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  echo "$(podman --version), podman-compose $(podman-compose version 2>/dev/null |
    sed -n 's/^podman-composer version *//p' | head -n 1), network $(podman info --format '{{.Host.NetworkBackend}}')"
}

# ---- base images -----------------------------------------------------------------------------
# The Debian archive apt already uses here (a deb822 URIs: line or a one-line deb entry).
# Either file may be missing (Debian 12 images use sources.list.d/debian.sources only).
debian_mirror() {
  local found
  found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' |
    grep -oE 'https?://[^ ]+/debian/?([[:space:]]|$)' || true)"
  found="${found%%$'\n'*}"
  echo "${found//[[:space:]]/}"
}

check_base() {
  if podman image exists localhost/debian:bookworm && podman image exists localhost/debian:bookworm-slim; then
    echo "cached: localhost/debian:bookworm $(image_mb localhost/debian:bookworm) MB, bookworm-slim $(image_mb localhost/debian:bookworm-slim) MB"
    return
  fi
  local mirror rootfs t0=$SECONDS
  # Debian's official images set PATH in their configuration; `podman kube play` (unlike
  # `podman run`) adds none, so entrypoints would not be found without it.
  local base_env='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  mirror="$(debian_mirror)"
  [ -n "$mirror" ] || { echo "no Debian mirror found in apt's sources"; return 1; }
  rootfs="$(mktemp -d /var/tmp/cg-rootfs.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 20 "$tmp/debootstrap.log"; return 1; }
  # Downloaded packages and package lists are not part of an image (Dockerfiles run
  # apt-get update first), and apt is told to drop what later installs download, as in Debian's
  # official images (/etc/apt/apt.conf.d/docker-clean).
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  tar -C "$rootfs" -c . | podman import -q --change "$base_env" --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
  # -slim, as Debian's official one: no documentation, manual pages or translations, and dpkg
  # told not to install them later.
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/doc-base/* "$rootfs"/usr/share/lintian/*
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/doc-base/*
path-exclude /usr/share/lintian/*
CFG
  tar -C "$rootfs" -c . | podman import -q --change "$base_env" --change 'CMD ["bash"]' - localhost/debian:bookworm-slim >/dev/null
  podman tag localhost/debian:bookworm docker.io/library/debian:bookworm
  podman tag localhost/debian:bookworm-slim docker.io/library/debian:bookworm-slim
  echo "built from $mirror in $((SECONDS - t0)) s: bookworm $(image_mb localhost/debian:bookworm) MB, bookworm-slim $(image_mb localhost/debian:bookworm-slim) MB"
}

image_mb() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.1f", $1 / 1e6}'; }

# ---- the chargegate image --------------------------------------------------------------------
# podman build as a user runs `docker build -f deploy/Dockerfile .` (Docker format, so that the
# HEALTHCHECK is kept; host network for apt-get; the Dockerfile's own ignore file).
check_image() {
  local t0=$SECONDS mb
  podman build --format docker --network host --ignorefile deploy/Dockerfile.dockerignore \
    -f deploy/Dockerfile -t "$IMAGE" . >"$tmp/image-build.log" 2>&1 ||
    { tail -n 40 "$tmp/image-build.log"; return 1; }
  local secs=$((SECONDS - t0))
  mb="$(image_mb "$IMAGE")"
  podman run --rm "$IMAGE" --version
  # The compose file's and the manifests' name for it.
  podman tag "$IMAGE" localhost/chargegate:0.1.0
  if awk -v m="$mb" -v max="$IMAGE_MAX_MB" 'BEGIN { exit !(m > max) }'; then
    echo "runtime image is $mb MB, above $IMAGE_MAX_MB MB"
    return 1
  fi
  echo "built in $secs s; runtime image $mb MB (limit $IMAGE_MAX_MB MB)"
}

# ---- helpers for the runs below --------------------------------------------------------------
DRIVER_TOKEN="ABCD-efgh1234567890_~valid.token"
STATION=123e4567-e89b-12d3-a456-426614174000

# post_session BASE_URL CALLBACK_URL [CURL_ARGS...]: POSTs a charging session (e.g. with
# -H "X-API-Key: ..."); prints its request_id, fails unless it was accepted.
post_session() {
  local answer
  answer="$(curl -sS --max-time 10 -X POST "$1/api/v1/charging-session" "${@:3}" \
    -H 'Content-Type: application/json' \
    -d "{\"station_id\":\"$STATION\",\"driver_token\":\"$DRIVER_TOKEN\",\"callback_url\":\"$2\"}")"
  python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["status"]=="accepted", a; print(a["request_id"])' "$answer"
}

# allow_token BASE_URL ADMIN_TOKEN: puts the check's driver token in the ACL.
allow_token() {
  curl -fsS --max-time 10 -X PUT "$1/api/v1/acl/$DRIVER_TOKEN" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' -d '{"status":"allowed","stations":null,"expires_at":null}' >/dev/null
}

# signed_callback_seen FILE REQUEST_ID: the receiver's log (deploy/compose/receiver.py lines)
# holds a callback for the request whose signature verified and whose decision is "allowed".
signed_callback_seen() {
  python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        c = json.loads(line)
    except ValueError:
        continue
    if c.get("headers", {}).get("webhook-id") == sys.argv[2]:
        body = json.loads(c["body"])
        assert c.get("signature") == "valid", c
        assert body["request_id"] == sys.argv[2] and body["status"] == "allowed", body
        sys.exit(0)
sys.exit(1)
PY
}

# start_receiver PORT LOG: deploy/compose/receiver.py on 127.0.0.1:PORT, verifying signatures.
start_receiver() {
  RECEIVER_HOST=127.0.0.1 RECEIVER_PORT="$1" CALLBACK_SIGNING_SECRET="$SECRET" \
    python3 deploy/compose/receiver.py >>"$2" 2>&1 &
  host_process $!
  echo $!
}

# ---- embedded mode ---------------------------------------------------------------------------
check_embedded() {
  local port rport vol base cb log rpid c1 c2 id1 id2 pid uid t0 stop_s code
  port="$(free_port)"; rport="$(free_port)"
  base="http://127.0.0.1:$port"; cb="http://127.0.0.1:$rport/api/callbacks/charge-result"
  log="$tmp/embedded-callbacks.jsonl"; : >"$log"
  vol="$run_id-data"
  podman volume create "$vol" >/dev/null && started volume "$vol"
  # Host network: the service and the receiver both on 127.0.0.1. The SSRF guard lets callbacks
  # reach loopback only with CALLBACK_ALLOW_PRIVATE_NETWORKS.
  local run_args=(-d --network host --stop-timeout 30 -v "$vol:/var/lib/chargegate"
    -e PORT="$port" -e BIND_ADDRESS=127.0.0.1 -e CALLBACK_ALLOW_PRIVATE_NETWORKS=true
    -e CALLBACK_SIGNING_SECRET="$SECRET" -e ADMIN_TOKEN=check-admin-token
    -e CALLBACK_RETRY_BASE_MS=200 -e CALLBACK_RETRY_MAX_MS=1000 -e DRAIN_TIMEOUT_MS=10000)

  rpid="$(start_receiver "$rport" "$log")"
  c1="$(podman run --name "$run_id-embedded-1" "${run_args[@]}" "$IMAGE")" && started container "$c1"
  wait_for 30 curl -fsS "$base/health/ready" || { podman logs "$c1" | tail -n 20; echo "not ready after 30 s"; return 1; }
  echo "ready: $(curl -fsS "$base/health/ready")"

  pid="$(podman inspect -f '{{.State.Pid}}' "$c1")"
  uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
  [ "$uid" = 10001 ] || { echo "the service runs as uid $uid, not 10001"; return 1; }
  echo "process $(cat "/proc/$pid/comm") runs as uid $uid"
  # The image's HEALTHCHECK command, run once by hand (podman schedules it with systemd timers,
  # which these machines do not run).
  podman healthcheck run "$c1" >/dev/null || { echo "the image's HEALTHCHECK fails"; return 1; }
  echo "the image's HEALTHCHECK passes"

  allow_token "$base" check-admin-token
  id1="$(post_session "$base" "$cb")"
  wait_for 20 signed_callback_seen "$log" "$id1" || { cat "$log"; echo "no signed callback for $id1"; return 1; }
  echo "signed callback received for $id1"

  # Acknowledged while the receiver is down, then the container stops and a new one takes over
  # the same volume.
  kill "$rpid"; wait "$rpid" 2>/dev/null || true
  id2="$(post_session "$base" "$cb")"
  echo "acknowledged $id2 with the receiver down"
  sleep 1  # at least one failed attempt before the stop
  t0=$SECONDS
  podman stop -t 30 "$c1" >/dev/null
  stop_s=$((SECONDS - t0))
  code="$(podman inspect -f '{{.State.ExitCode}}' "$c1")"
  podman logs "$c1" 2>&1 | tail -n 3
  [ "$code" = 0 ] || { echo "exit code $code after podman stop"; return 1; }
  [ "$stop_s" -lt 30 ] || { echo "podman stop took $stop_s s (grace 30 s)"; return 1; }
  echo "podman stop: drained and exited 0 in $stop_s s"
  podman rm "$c1" >/dev/null

  rpid="$(start_receiver "$rport" "$log")"
  c2="$(podman run --name "$run_id-embedded-2" "${run_args[@]}" "$IMAGE")" && started container "$c2"
  wait_for 30 curl -fsS "$base/health/ready" || { podman logs "$c2" | tail -n 20; echo "second container not ready"; return 1; }
  wait_for 30 signed_callback_seen "$log" "$id2" || { cat "$log"; echo "$id2 was not delivered after the restart"; return 1; }
  state_is_delivered() {
    curl -fsS "$base/api/v1/charging-session/$id2" |
      python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["state"] == "delivered" else 1)'
  }
  wait_for 10 state_is_delivered || { echo "$id2 is not in state delivered"; return 1; }
  echo "after the restart on the same volume: $id2 delivered"
  podman stop -t 30 "$c2" >/dev/null
  code="$(podman inspect -f '{{.State.ExitCode}}' "$c2")"
  [ "$code" = 0 ] || { echo "second container exited $code"; return 1; }
  echo "uid 10001, signed callback, stop drains and exits 0 in $stop_s s, acknowledged request delivered after a restart on the same volume"
}

# ---- compose ---------------------------------------------------------------------------------
# The other services' images, as `docker compose build` would make them (compose.yaml's build:).
build_service_images() {
  local t targets=("$@")
  [ "${#targets[@]}" -gt 0 ] || targets=(postgres redis nginx receiver prometheus)
  for t in "${targets[@]}"; do
    podman build --format docker --network host -f deploy/compose/images/Dockerfile --target "$t" \
      -t "chargegate-$t:local" deploy/compose >"$tmp/service-$t.log" 2>&1 ||
      { tail -n 30 "$tmp/service-$t.log"; echo "building chargegate-$t:local failed"; return 1; }
  done
}

# container_ready NAME: the chargegate in container NAME answers /health/ready.
container_ready() { podman exec "$1" curl -fsS -o /dev/null http://127.0.0.1:8080/health/ready; }

check_compose() {
  local proj="${run_id}c" port pport t0 lb c lt out kill_at restarts
  port="$(free_port)"; pport="$(free_port)"
  t0=$SECONDS
  build_service_images
  echo "service images built in $((SECONDS - t0)) s"
  local pc=(podman-compose -f deploy/compose.yaml -p "$proj")
  t0=$SECONDS
  CHARGEGATE_PUBLISH="127.0.0.1:$port" PROMETHEUS_PUBLISH="127.0.0.1:$pport" \
    "${pc[@]}" up -d --no-build >"$tmp/compose-up.log" 2>&1 || up_rc=$?
  started_by_label "io.podman.compose.project=$proj"
  [ -z "${up_rc:-}" ] || { tail -n 30 "$tmp/compose-up.log"; echo "podman-compose up failed"; return 1; }
  for c in api-1 api-2 worker-1 worker-2; do
    wait_for 90 container_ready "${proj}_${c}_1" ||
      { podman logs "${proj}_${c}_1" 2>&1 | tail -n 20; echo "$c not ready after 90 s"; return 1; }
  done
  lb="http://127.0.0.1:$port"
  wait_for 30 curl -fsS -o /dev/null "$lb/health/ready" || { echo "the balancer does not answer"; return 1; }
  echo "2 API + 2 worker containers ready $((SECONDS - t0)) s after podman-compose up"

  # One session through the balancer, delivered signed to the compose receiver.
  allow_token "$lb" dev-admin-token
  local id
  id="$(post_session "$lb" http://receiver:9000/api/callbacks/charge-result)"
  wait_for 30 eval "podman logs ${proj}_receiver_1 >'$tmp/compose-receiver.jsonl' 2>&1 && signed_callback_seen '$tmp/compose-receiver.jsonl' '$id'" ||
    { tail -n 5 "$tmp/compose-receiver.jsonl"; echo "no signed callback for $id at the receiver container"; return 1; }
  echo "signed callback for $id at the receiver container"

  # chargegate loadtest through nginx, from a container on the stack's network (its built-in
  # receiver must be reachable from the workers), with worker-1 killed half-way.
  out="$tmp/loadtest"; mkdir -m 0777 "$out"
  lt="$(podman run -d --name "$proj-loadtest" --network "${proj}_default" -v "$out:/out" "$IMAGE" \
    loadtest --url http://lb:8080 --receiver-host "$proj-loadtest" --receiver-port 9100 \
    -c 16 -t 1 -d "$COMPOSE_SECONDS" --warmup 0 --seed-acl --admin-token dev-admin-token \
    --drain 120 -q --json /out/result.json)" && started container "$lt"
  kill_at=$((COMPOSE_SECONDS / 2))
  sleep "$kill_at"
  podman kill "${proj}_worker-1_1" >/dev/null
  echo "killed worker-1 (SIGKILL) ${kill_at} s into the load"
  local code
  code="$(podman wait "$lt")"
  podman logs "$lt" 2>&1 | tail -n 15
  [ "$code" = 0 ] || { echo "loadtest exited $code"; return 1; }
  restarts="$(podman inspect -f '{{.RestartCount}} {{.State.Status}}' "${proj}_worker-1_1")"
  python3 - "$out/result.json" "$restarts" "$tmp/compose-figures" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
accepted = r["accepted_total"]
unique = r["callbacks_unique"]
dups = r["callbacks"] - unique
lost = max(0, accepted - unique)
errors = r.get("errors", 0)
if isinstance(errors, dict):  # counts by kind
    errors = sum(errors.values())
line = (f"accepted {accepted}, delivered {unique}, lost {lost}, duplicates {dups}, "
        f"errors {errors}; worker-1 after the kill: restarts/state {sys.argv[2]}")
open(sys.argv[3], "w").write(line + "\n")
print(line)
sys.exit(1 if lost or accepted == 0 else 0)
PY
  # Prometheus (compose's scrape configuration and alert rules) sees the chargegate containers.
  # (worker-1 stays down: 3 of the 4 targets.)
  local up=0
  targets_up() {
    up="$(curl -fsS "http://127.0.0.1:$pport/api/v1/query?query=sum(up%7Bjob%3D%22chargegate%22%7D)" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')" &&
      [ "$up" -ge 3 ]
  }
  wait_for 30 targets_up || { echo "Prometheus sees $up chargegate targets up, not 3"; return 1; }
  echo "Prometheus: $up chargegate targets up"
  echo "$(cat "$tmp/compose-figures"); Prometheus scrapes $up targets"
}

# ---- Kubernetes manifests --------------------------------------------------------------------
# What `kubectl kustomize deploy/kubernetes` renders, as far as podman plays it: the resources
# of kustomization.yaml with its images: tag applied, without the kinds podman 4.3 does not play
# (HorizontalPodAutoscaler, PodDisruptionBudget: deploy/README.md lists them as untested).
# Three changes podman 4.3 needs on one host, none of which Kubernetes sees:
# - restartPolicy OnFailure instead of a Deployment's Always: podman applies the pod's policy
#   to init containers too, so under Always it restarts the finished migrate forever and never
#   starts the pod's main container;
# - each containerPort gets hostIP 127.0.0.1 and a free hostPort (NAME=PORT arguments): podman
#   publishes every containerPort on the host, on all addresses and on the same port number, so
#   the api and worker pods would both claim 8080;
# - replicas: 1, as podman runs every replica as a pod of its own on this one host, and the
#   replicas would claim the same host port.
render_manifests() {
  python3 - "$@" <<'PY'
import sys, yaml
host_ports = dict(a.split("=") for a in sys.argv[2:])
kust = yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))
tags = {i["name"]: i.get("newName", i["name"]) + ":" + i["newTag"] for i in kust.get("images", [])}
played, skipped = [], []
for f in kust["resources"]:
    for d in yaml.safe_load_all(open("deploy/kubernetes/" + f)):
        if d is None:
            continue
        if d["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
            skipped.append(d["kind"] + "/" + d["metadata"]["name"])
            continue
        if d["kind"] == "Deployment":
            spec = d["spec"]["template"]["spec"]
            d["spec"]["replicas"] = 1
            spec["restartPolicy"] = "OnFailure"
            for c in spec.get("initContainers", []) + spec["containers"]:
                c["image"] = tags.get(c["image"], c["image"])
            for c in spec["containers"]:
                for p in c.get("ports", []):
                    p["hostIP"] = "127.0.0.1"
                    p["hostPort"] = int(host_ports[d["metadata"]["name"]])
        played.append(d)
yaml.safe_dump_all(played, open(sys.argv[1], "w"))
print("played:", ", ".join(d["kind"] + "/" + d["metadata"]["name"] for d in played),
      "| not played:", ", ".join(skipped))
PY
}

# The Secret chargegate-secrets with secret.example.yaml's keys, as `kubectl create secret
# generic` would make it. podman 4.3 looks envFrom's secretRef up in its own secret store, as a
# JSON map of base64 values (a Secret document in the played YAML is stored in a form its own
# envFrom cannot read).
create_kube_secret() {
  python3 - "$tmp/kube-secret.json" <<PY
import base64, json, sys
values = {
    "DATABASE_URL": "postgresql://chargegate:kube-check@postgres:5432/chargegate",
    "REDIS_URL": "redis://redis:6379",
    "ADMIN_TOKEN": "kube-check-admin-token",
    "CALLBACK_SIGNING_SECRET": "$SECRET",
}
json.dump({k: base64.b64encode(v.encode()).decode() for k, v in values.items()}, open(sys.argv[1], "w"))
PY
  if podman secret inspect chargegate-secrets >/dev/null 2>&1; then
    echo "a podman secret named chargegate-secrets exists already (not this run's); remove it first"
    return 1
  fi
  local id
  id="$(podman secret create chargegate-secrets "$tmp/kube-secret.json")" && started secret "$id"
}

check_kube() {
  local net="$run_id-kube" t0 c id key status api worker
  podman network create "$net" >/dev/null && started network "$net"
  for t in postgres redis; do
    podman image exists "chargegate-$t:local" || build_service_images "$t"
  done
  # PostgreSQL and Redis are the platform's own in the manifests; here, containers beside the
  # pods on the same network, under the names the Secret uses.
  c="$(podman run -d --name "$run_id-postgres" --network "$net" --network-alias postgres \
    -e POSTGRES_USER=chargegate -e POSTGRES_PASSWORD=kube-check -e POSTGRES_DB=chargegate \
    chargegate-postgres:local)" && started container "$c"
  c="$(podman run -d --name "$run_id-redis" --network "$net" --network-alias redis \
    chargegate-redis:local)" && started container "$c"
  wait_for 60 podman exec "$run_id-postgres" pg_isready -h 127.0.0.1 -U chargegate -d chargegate ||
    { echo "PostgreSQL did not start"; return 1; }
  create_kube_secret
  local api_port worker_port
  api_port="$(free_port)"; worker_port="$(free_port)"
  render_manifests "$tmp/kube.yaml" "chargegate-api=$api_port" "chargegate-worker=$worker_port"

  t0=$SECONDS
  local before
  before="$(podman volume ls -q | sort)"
  # Bounded: podman waits for init containers, and one that never ends would hang it.
  timeout 180 podman kube play --network "$net" "$tmp/kube.yaml" >"$tmp/kube-play.log" 2>&1 || play_rc=$?
  # kube play prints "Pod:" and the new pod's id for each pod it made.
  for id in $(awk '/^Pod:/ { getline; print }' "$tmp/kube-play.log"); do started pod "$id"; done
  for id in $(comm -13 <(echo "$before") <(podman volume ls -q | sort)); do started volume "$id"; done
  [ -z "${play_rc:-}" ] || { tail -n 20 "$tmp/kube-play.log"; echo "podman kube play failed"; return 1; }
  api="$(podman ps --format '{{.Names}}' --filter name='^chargegate-api-pod-0-chargegate$')"
  worker="$(podman ps --format '{{.Names}}' --filter name='^chargegate-worker-pod-0-chargegate$')"
  [ -n "$api" ] && [ -n "$worker" ] || { podman ps -a; echo "the chargegate containers of the pods are not running"; return 1; }
  # The readiness probes' request, made from the host through each pod's published port as a
  # kubelet would (podman 4.3 does not act on readinessProbe itself).
  local port probe
  for c in "$api=$api_port" "$worker=$worker_port"; do
    port="${c#*=}"; c="${c%=*}"
    probe="http://127.0.0.1:$port$(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d["kind"] == "Deployment" and sys.argv[2].startswith(d["metadata"]["name"] + "-pod"):
        print(d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"])' "$tmp/kube.yaml" "$c")"
    wait_for 60 curl -fsS -o /dev/null "$probe" ||
      { podman logs "$c" 2>&1 | tail -n 20; echo "$c: $probe never answered 2xx"; return 1; }
  done
  # Ready in cluster mode means the schema is there, and only the init containers' migrate made
  # it (MIGRATE_ON_START is off).
  echo "api and worker pods ready $((SECONDS - t0)) s after podman kube play (readiness probe ${probe#http://127.0.0.1:"$port"}; schema from the init container migrate)"
  for c in "$api" "$worker"; do
    local pid uid
    pid="$(podman inspect -f '{{.State.Pid}}' "$c")"
    uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
    [ "$uid" = 10001 ] || { echo "$c runs as uid $uid"; return 1; }
  done
  echo "both run as uid 10001 with a read-only root filesystem: $(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$api")"

  # A session through both roles: API_AUTH is on in the ConfigMap, so a key first (as
  # deploy/README.md tells users), then the api accepts and the worker decides.
  local base="http://127.0.0.1:$api_port"
  key="$(podman exec "$api" chargegate api-key create --client kube-check 2>/dev/null | grep -oE '^cgk_[0-9a-f]+_[0-9a-f]+$' | head -n 1)"
  [ -n "$key" ] || { echo "api-key create printed no key"; return 1; }
  allow_token "$base" kube-check-admin-token
  # The api pod learns of new keys within API_KEYS_REFRESH_MS.
  post_with_key() { id="$(post_session "$base" https://receiver.example/cb -H "X-API-Key: $key" 2>/dev/null)"; }
  wait_for 30 post_with_key || { post_session "$base" https://receiver.example/cb -H "X-API-Key: $key"; return 1; }
  decided() {
    curl -fsS "$base/api/v1/charging-session/$id" -H "X-API-Key: $key" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if (d.get("decision") or {}).get("status")=="allowed" else 1)'
  }
  wait_for 30 decided || { echo "the worker pod did not decide $id"; return 1; }
  echo "session $id accepted by the api pod (API key) and decided (allowed) by the worker pod"

  # SIGTERM drains and exits 0 within terminationGracePeriodSeconds.
  t0=$SECONDS
  podman pod stop -t 40 "${api%-chargegate}" >/dev/null
  status="$(podman inspect -f '{{.State.ExitCode}}' "$api")"
  [ "$status" = 0 ] || { podman logs "$api" 2>&1 | tail -n 5; echo "the api container exited $status on stop"; return 1; }
  echo "api pod ready, worker pod ready, both uid 10001; a session accepted and decided; pod stop exits 0 in $((SECONDS - t0)) s"
}

# ---- main --------------------------------------------------------------------------------------
wanted=("$@")
[ "${#wanted[@]}" -gt 0 ] || wanted=(embedded compose kube)
want() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

for c in tools base image; do  # what every later check needs
  check "$c" "check_$c"
  [ "$failures" = 0 ] || exit 1
done
for c in embedded compose kube; do
  if want "$c"; then check "$c" "check_$c"; fi
done
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all passed"
