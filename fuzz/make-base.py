#!/usr/bin/env python3
"""Cuts the small, consistent catalog the fuzz targets mutate (fuzz/base/) out of the real files.

A fuzz execution loads a whole catalog; the real taxonomy (89 KB) and places (29 KB) would make
each one cost milliseconds. The base keeps the real files' blocks (comments dropped, long prose cut): every
certification, the categories of the first requirements of each stage of earthquake.toml (and
their substitutes' targets), the places those suppliers sit at, and the first suppliers of
the sample registry with their stock lines in those categories. Run from the repository root:

    python3 fuzz/make-base.py && cargo run -- check --scenarios fuzz/base/scenarios --registry fuzz/base/registry
"""

import csv
import io
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fuzz", "base")
REQUIREMENTS_PER_STAGE = 2
SUPPLIERS = 12
# Prose values (source, summary…) are cut to this many characters.
PROSE_CHARS_MAX = 40
# The places the base drill (equipmatch::fuzzing::BASE_DRILL) and its incidents name.
ALWAYS_PLACES = {"tangshan"}


def blocks(text):
    """(header, block text) for each [[table]] block; the preamble is ("", text)."""
    parts = re.split(r"(?m)^(?=\[\[)", text)
    out = []
    for part in parts:
        m = re.match(r"\[\[([^\]]+)\]\]", part)
        out.append((m.group(1) if m else "", part))
    return out


def field(block, name):
    m = re.search(rf'(?m)^{name}\s*=\s*"([^"]*)"', block)
    return m.group(1) if m else None


def main():
    read = lambda *p: open(os.path.join(ROOT, *p), encoding="utf-8").read()
    quake = blocks(read("scenarios", "earthquake.toml"))
    kept_quake, per_stage, categories = [], {}, set()
    for header, block in quake:
        if header in ("monitoring_warning", "safety_protection", "emergency_rescue"):
            if per_stage.get(header, 0) >= REQUIREMENTS_PER_STAGE:
                continue
            per_stage[header] = per_stage.get(header, 0) + 1
            categories.add(field(block, "category"))
        kept_quake.append(block)

    taxonomy = blocks(read("scenarios", "taxonomy.toml"))
    by_id = {field(b, "id"): b for h, b in taxonomy if h == "category"}
    substitutes = {}
    current = None
    for header, block in taxonomy:
        if header == "category":
            current = field(block, "id")
        elif header == "category.substitute":
            substitutes.setdefault(current, []).append(field(block, "id"))
    queue = list(categories)
    while queue:
        for target in substitutes.get(queue.pop(), []):
            if target not in categories:
                categories.add(target)
                queue.append(target)
    kept_taxonomy, current = [], None
    for header, block in taxonomy:
        if header == "category":
            current = field(block, "id")
            if current in categories:
                kept_taxonomy.append(block)
        elif header == "category.substitute":
            if current in categories and field(block, "id") in categories:
                kept_taxonomy.append(block)
        else:
            kept_taxonomy.append(block)
    assert categories <= set(by_id), categories - set(by_id)

    stock = list(csv.DictReader(io.StringIO(read("registry", "sample", "stock_lines.csv"))))
    suppliers = list(csv.DictReader(io.StringIO(read("registry", "sample", "suppliers.csv"))))
    holding = {row["supplier_id"] for row in stock if row["category_id"] in categories}
    kept_suppliers = [s for s in suppliers if s["supplier_id"] in holding][:SUPPLIERS]
    ids = {s["supplier_id"] for s in kept_suppliers}
    kept_stock = [r for r in stock if r["supplier_id"] in ids and r["category_id"] in categories]

    places = blocks(read("scenarios", "places.toml"))
    wanted = {s["place_id"] for s in kept_suppliers} | {s["base_id"] for s in kept_suppliers if s["base_id"]}
    wanted |= ALWAYS_PLACES
    hosts = {field(b, "host") for h, b in places if h == "place" and field(b, "id") in wanted}
    wanted |= {h for h in hosts if h}
    tags = set()
    for block in kept_taxonomy:
        m = re.search(r"(?m)^tags\s*=\s*\[([^\]]*)\]", block)
        if m:
            tags |= set(re.findall(r'"([^"]+)"', m.group(1)))

    def only_known_tags(block):
        def keep(m):
            known = [t for t in re.findall(r'"([^"]+)"', m.group(1)) if t in tags]
            return "specialities = [" + ", ".join(f'"{t}"' for t in known) + "]"
        return re.sub(r"(?m)^specialities\s*=\s*\[([^\]]*)\]", keep, block)

    kept_places = [only_known_tags(b) for h, b in places if h != "place" or field(b, "id") in wanted]

    os.makedirs(os.path.join(OUT, "scenarios"), exist_ok=True)

    def compact(text):
        """Comments dropped and long prose values cut: the loader's cost grows with bytes, and
        the fuzzer mutates the structure, not the prose (the seeds keep whole real files)."""
        lines = []
        for line in text.splitlines():
            if line.lstrip().startswith("#") or not line.strip():
                continue
            m = re.match(r'^(\s*(?:source|summary|grading|note|name_en|name|aliases)\s*=\s*)"([^"\\]*)"\s*(#.*)?$', line)
            if m and len(m.group(2)) > PROSE_CHARS_MAX:
                line = f'{m.group(1)}"{m.group(2)[:PROSE_CHARS_MAX]}"'
            lines.append(line)
        return "\n".join(lines) + "\n"

    kept_taxonomy = [compact(b) for b in kept_taxonomy]
    kept_places = [compact(b) for b in kept_places]
    kept_quake = [compact(b) for b in kept_quake]
    os.makedirs(os.path.join(OUT, "registry"), exist_ok=True)
    note = "# GENERATED by fuzz/make-base.py from the real file: a small consistent fuzz base.\n"
    for name, kept in [("taxonomy.toml", kept_taxonomy), ("places.toml", kept_places),
                       ("earthquake.toml", kept_quake)]:
        with open(os.path.join(OUT, "scenarios", name), "w", encoding="utf-8") as f:
            f.write(note + "".join(kept))
    for name, header, rows in [("suppliers.csv", suppliers[0].keys(), kept_suppliers),
                               ("stock_lines.csv", stock[0].keys(), kept_stock)]:
        with open(os.path.join(OUT, "registry", name), "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(header), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    print(f"{len(categories)} categories, {len(wanted)} places, {len(kept_suppliers)} suppliers, "
          f"{len(kept_stock)} stock lines -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
