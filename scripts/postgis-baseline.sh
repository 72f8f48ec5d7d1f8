#!/usr/bin/env bash
# The PostGIS baseline of BENCHMARKS.md: the same shortlist query (category filter, nearest
# suppliers, the same score as far as SQL expresses it) on a throwaway PostgreSQL 15 + PostGIS
# cluster on loopback, loaded from the same registry, timed in the same run as the in-process
# shortlist. Usage: scripts/postgis-baseline.sh REGISTRY_DIR [SECONDS] [CATEGORY]
# Needs root (apt-get for missing packages, runuser for initdb). Prints one JSON line.
set -euo pipefail
registry=$(realpath "${1:?usage: $0 REGISTRY_DIR [SECONDS] [CATEGORY]}")
seconds=${2:-10}
category=${3:-ambulance}
root=$(cd "$(dirname "$0")/.." && pwd)
pgbin=/usr/lib/postgresql/15/bin

if [ ! -x "$pgbin/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 postgresql-15-postgis-3 >/dev/null
fi
(cd "$root" && cargo build --release -q)
equipmatch="$root/target/release/equipmatch"

work=$(mktemp -d /tmp/equipmatch-postgis.XXXXXX)
chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() { runuser -u postgres -- "$@"; }
as_pg "$pgbin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
# fsync off: the baseline measures query work, not durability (the data is a throwaway copy).
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c fsync=off -c shared_buffers=512MB -c max_parallel_workers_per_gather=0" start >/dev/null
trap 'as_pg "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
psql_() { psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -q "$@"; }

# Zone values and category speeds come from the same catalog the service embeds.
python3 - "$root/scenarios" "$work" <<'PY'
import csv, sys, tomllib
scen, out = sys.argv[1], sys.argv[2]
zone_value = {"core": 1.0, "key": 0.85, "support": 0.7, "metro": 0.7, "outside": 0.4}  # domain::zone_value
speed = {"light": 70.0, "truck": 60.0, "heavy": 50.0, "air": 250.0}        # src/matching/eta.rs
places = tomllib.load(open(f"{scen}/places.toml", "rb"))["place"]
with open(f"{out}/places.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "zone_value"])
    for p in places: w.writerow([p["id"], zone_value[p["zone"]]])
cats = tomllib.load(open(f"{scen}/taxonomy.toml", "rb"))["category"]
with open(f"{out}/categories.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["id", "speed_kmh", "road_factor", "certs"])
    for c in cats:
        w.writerow([c["id"], speed[c["transport"]], 1.0 if c["transport"] == "air" else 1.25,
                    "{" + ",".join(c.get("certifications", [])) + "}"])
PY
chmod a+r "$work"/*.csv

# The registry's own headers name the columns: files written before `kind` and
# `crew_per_unit` (which the shortlist does not read) leave them out.
suppliers_columns=$(head -n 1 "$registry/suppliers.csv" | tr -d '\r')
stock_lines_columns=$(head -n 1 "$registry/stock_lines.csv" | tr -d '\r')
load_started=$(date +%s.%N)
psql_ <<SQL
CREATE EXTENSION postgis;
CREATE EXTENSION btree_gist;
CREATE TABLE places (id text PRIMARY KEY, zone_value float8);
CREATE TABLE categories (id text PRIMARY KEY, speed_kmh float8, road_factor float8, certs text[]);
CREATE TABLE suppliers (supplier_id text PRIMARY KEY, name text, place_id text, base_id text,
  latitude float8, longitude float8, certifications text, reliability float8, kind text);
CREATE TABLE stock_lines (supplier_id text, category_id text, quantity_on_hand float8,
  surge_per_day float8, lead_time_hours float8, crew_per_unit float8);
\copy places FROM '$work/places.csv' CSV HEADER
\copy categories FROM '$work/categories.csv' CSV HEADER
\copy suppliers ($suppliers_columns) FROM '$registry/suppliers.csv' CSV HEADER
\copy stock_lines ($stock_lines_columns) FROM '$registry/stock_lines.csv' CSV HEADER
-- One row per stock line with its supplier's position and score inputs, and a GiST index on
-- (category, position): the category filter and the nearest-first order in one index.
CREATE TABLE lines AS
SELECT l.supplier_id, l.category_id, l.quantity_on_hand, l.surge_per_day, l.lead_time_hours,
       s.reliability,
       least(1.0, p.zone_value + CASE WHEN coalesce(s.base_id, '') <> '' THEN 0.15 ELSE 0 END) AS zone_value,
       CASE WHEN cardinality(c.certs) = 0 THEN 1.0
            ELSE cardinality(ARRAY(SELECT unnest(c.certs) INTERSECT SELECT unnest(string_to_array(coalesce(s.certifications, ''), ';'))))::float8 / cardinality(c.certs) END AS cert_fit,
       c.speed_kmh, c.road_factor,
       ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326)::geography AS geom
FROM stock_lines l JOIN suppliers s USING (supplier_id) JOIN places p ON p.id = s.place_id
JOIN categories c ON c.id = l.category_id;
CREATE INDEX lines_category_geom ON lines USING gist (category_id, geom);
ANALYZE lines;
SQL
load_seconds=$(python3 -c "import time; print(round(time.time() - $load_started, 1))")

# The shortlist: the 200 nearest lines of the category (KNN on the index), then ETA, window
# quantity and the five score parts with the default weights; the same ranking rules.
cat > "$work/shortlist.sql" <<SQL
\set latm random(36500, 41000)
\set lonm random(114000, 119500)
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lonm / 1000.0, :latm / 1000.0), 4326)::geography AS g),
near AS (
  SELECT l.*, ST_Distance(l.geom, here.g) / 1000.0 AS gc_km FROM lines l, here
  WHERE l.category_id = '$category' ORDER BY l.geom <-> here.g LIMIT 200),
timed AS (SELECT n.*, n.lead_time_hours + n.gc_km * n.road_factor / n.speed_kmh AS eta FROM near n),
avail AS (SELECT t.*, t.quantity_on_hand
            + CASE WHEN t.eta <= 12 THEN floor(t.surge_per_day * (12 - t.eta) / 24) ELSE 0 END AS available
          FROM timed t)
SELECT supplier_id, eta, eta <= 12 AS on_time, available,
       0.40 / (1 + eta / 12) + 0.25 * least(1.0, available / 10.0) + 0.15 * reliability
         + 0.10 * cert_fit + 0.10 * zone_value AS score
FROM avail WHERE available > 0
ORDER BY on_time DESC, score DESC, supplier_id LIMIT 20;
SQL
pg_tps=$(runuser -u postgres -- pgbench -h 127.0.0.1 -p "$port" -U postgres -n -c 1 -j 1 -T "$seconds" -f "$work/shortlist.sql" postgres 2>/dev/null \
  | awk '/^tps/ {print $3}')
inproc=$("$equipmatch" bench inproc --registry "$registry" --category "$category" --seconds "$seconds" --json)
python3 - "$pg_tps" "$inproc" "$load_seconds" <<'PY'
import json, sys
pg = float(sys.argv[1]); inproc = json.loads(sys.argv[2])
print(json.dumps({"stock_lines": inproc["stock_lines"], "postgis_load_seconds": float(sys.argv[3]),
                  "postgis_shortlist_qps": pg, "postgis_shortlist_us": 1e6 / pg,
                  "inproc_shortlist_qps": inproc["shortlist_qps"], "inproc_shortlist_us": inproc["shortlist_us"],
                  "inproc_over_postgis": inproc["shortlist_qps"] / pg}))
PY
