#!/usr/bin/env python3
"""Makes console/geo/jingjinji.json: the outlines of Beijing, Tianjin and Hebei for the console's
map and the drill report's map, from DCW-GMT (the Digital Chart of the World as packaged for GMT,
Debian package gmt-dcw, LGPL-3.0-or-later), simplified (Douglas-Peucker) and rounded.

Run by hand when the outlines should change (not part of the build or CI):
    pip install h5py && python3 scripts/region-outlines.py
It downloads the Debian package with `apt-get download gmt-dcw` into a temporary folder.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py

# The provinces drawn (DCW-GMT keys) and their names.
REGIONS = [("CNBJ", "CN.BJ", "北京", "Beijing"), ("CNTJ", "CN.TJ", "天津", "Tianjin"),
           ("CNHE", "CN.HE", "河北", "Hebei")]
# Douglas-Peucker tolerance in degrees (about 1.1 km north-south): the maps are ~500 px across
# 7 degrees, so a pixel is ~0.014 degrees and nothing finer can be seen.
TOLERANCE_DEG = 0.01
# Rings with fewer points than this after simplification (specks, islets) are dropped.
RING_POINTS_MIN = 4
MARKER = 65535


def simplify(points, tolerance):
    """Douglas-Peucker on a closed or open polyline, iterative (no recursion limit)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5
        worst, worst_idx = -1.0, -1
        for i in range(first + 1, last):
            x, y = points[i]
            if norm == 0:
                d = ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
            else:
                d = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm
            if d > worst:
                worst, worst_idx = d, i
        if worst > tolerance:
            keep[worst_idx] = True
            stack.append((first, worst_idx))
            stack.append((worst_idx, last))
    return [p for p, k in zip(points, keep) if k]


def rings(f, key):
    lon, lat = f[key + "_lon"], f[key + "_lat"]
    lon_min, lon_scale = float(lon.attrs["min"][0]), float(lon.attrs["scale"][0])
    lat_min, lat_scale = float(lat.attrs["min"][0]), float(lat.attrs["scale"][0])
    xs, ys = lon[:].astype(int), lat[:].astype(int)
    out, current = [], None
    for x, y in zip(xs, ys):
        if x == MARKER:  # a new ring starts
            current = []
            out.append(current)
            continue
        current.append((lon_min + x / lon_scale, lat_min + y / lat_scale))
    return out


def main():
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "gmt-dcw"], cwd=tmp, check=True)
        deb = next(Path(tmp).glob("gmt-dcw_*.deb"))
        version = deb.name.split("_")[1]
        subprocess.run(["dpkg-deb", "-x", str(deb), "x"], cwd=tmp, check=True)
        f = h5py.File(Path(tmp) / "x/usr/share/gmt-dcw/dcw-gmt.nc", "r")
        regions = []
        for key, code, name_zh, name_en in REGIONS:
            kept = []
            for ring in rings(f, key):
                simple = simplify(ring, TOLERANCE_DEG)
                if len(simple) >= RING_POINTS_MIN:
                    kept.append([[round(x, 3), round(y, 3)] for x, y in simple])
            regions.append({"id": code, "name_zh": name_zh, "name_en": name_en, "rings": kept})
            print(f"{code}: {len(kept)} rings, {sum(len(r) for r in kept)} points", file=sys.stderr)
    doc = {
        "source": f"DCW-GMT {f.attrs['version'].decode()} (Debian package gmt-dcw {version}), "
                  "the Digital Chart of the World for GMT; provinces CN.BJ, CN.TJ, CN.HE; "
                  f"Douglas-Peucker {TOLERANCE_DEG} degrees, rounded to 0.001 degrees "
                  "by scripts/region-outlines.py",
        "licence": "LGPL-3.0-or-later (DCW-GMT); see console/geo/README.md",
        "regions": regions,
    }
    out = repo / "console/geo/jingjinji.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
