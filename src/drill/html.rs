//! The drill report as one self-contained HTML page: inline CSS and SVG charts (coverage over
//! time, shortfalls by stage, the supply map of places and bases, a map of incidents and
//! suppliers). No scripts, fonts or images from the network: it opens offline.

use std::fmt::Write as _;

use super::report::DrillReport;

/// Chart colours, one per incident (cycled), chosen to stay apart for colour-blind readers
/// (Okabe–Ito palette).
const PALETTE: [&str; 8] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
/// Incidents drawn as separate lines in the coverage chart; the rest are summarised in the
/// table (a 100-incident chart is unreadable).
const CHART_INCIDENTS_MAX: usize = 12;
/// The map's minimum frame: the Beijing–Tianjin–Hebei region (degrees; GK, from the
/// coordinates of places.toml's region cities with a margin).
const REGION_LAT: (f64, f64) = (36.0, 42.7);
const REGION_LON: (f64, f64) = (113.4, 119.9);
/// Rows of the shortfall and supply tables.
const TABLE_ROWS_MAX: usize = 40;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn stage_name(key: &str) -> &'static str {
    match key {
        "monitoring_warning" => "监测预警 monitoring",
        "safety_protection" => "安全防护 protection",
        "emergency_rescue" => "应急救援 rescue",
        _ => "?",
    }
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

pub fn render(report: &DrillReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drill {id} · equipmatch</title>
<style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:24px;color:#1b1b1b;max-width:1340px}}
h1{{font-size:22px;margin:0 0 4px}} h2{{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}}
.muted{{color:#666}} table{{border-collapse:collapse;margin:6px 0}} td,th{{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}}
th{{background:#f6f6f6}} td:first-child,th:first-child{{text-align:left}} .bad{{color:#b00020;font-weight:600}} .ok{{color:#0a7d32}}
.cards{{display:flex;gap:12px;flex-wrap:wrap}} .card{{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}}
.card b{{font-size:20px;display:block}} svg text{{font-size:11px;fill:#333}} .row{{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}}
</style></head><body>
<h1>Drill: {name}</h1><div class="muted">{id} · policy <b>{policy}</b> · step {step} h · horizon {horizon} h · surge production {surge} · seed {seed} · catalog {version}</div>
<p>{summary}</p>
"#,
        id = esc(&report.drill_id),
        name = esc(&report.name),
        policy = esc(&report.policy),
        step = report.time_step_hours,
        horizon = report.horizon_hours,
        surge = if report.surge_production { "on" } else { "off" },
        seed = report.seed,
        version = esc(&report.catalog_version),
        summary = esc(&report.summary),
    );
    let t = &report.totals;
    let _ = write!(
        out,
        r#"<div class="cards"><div class="card">incidents<b>{}</b></div><div class="card">requirements<b>{}</b></div>
<div class="card">units required<b>{}</b></div><div class="card">on time<b class="ok">{}</b></div>
<div class="card">late<b>{}</b></div><div class="card">unmet<b class="bad">{}</b></div>
<div class="card">suppliers offline<b>{}</b></div></div>
"#,
        t.incidents,
        t.requirements,
        t.units_required,
        t.units_on_time,
        t.units_late,
        t.units_unmet,
        report.what_if.suppliers_offline_total
    );
    let w = &report.what_if;
    let _ = writeln!(
        out,
        "<p class=\"muted\">What-if: stock ×{} · road factor ×{} · random offline {} · places offline [{}] · zones offline [{}] · suppliers offline [{}]{}</p>",
        w.stock_factor,
        w.road_factor_scale,
        pct(w.random_suppliers_offline_share),
        esc(&w.places_offline.join(", ")),
        esc(&w.zones_offline.join(", ")),
        esc(&w.suppliers_offline_listed.join(", ")),
        if w.note.is_empty() { String::new() } else { format!(" · {}", esc(&w.note)) }
    );

    out.push_str(
        "<h2>Coverage over time (priority-weighted share of units arrived)</h2><div class=\"row\">",
    );
    coverage_chart(&mut out, report);
    map(&mut out, report);
    out.push_str("</div>");

    out.push_str("<h2>Incidents</h2><table><tr><th>incident</th><th>scenario</th><th>level</th><th>start h</th><th>place</th><th>required</th><th>on-time coverage</th><th>final coverage</th><th>full coverage after</th>");
    for stage in ["monitoring_warning", "safety_protection", "emergency_rescue"] {
        let _ = write!(out, "<th>{}</th>", stage_name(stage));
    }
    out.push_str("</tr>");
    for incident in &report.incidents {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(&incident.id),
            esc(&incident.scenario_id),
            esc(&incident.severity),
            incident.start_hours,
            esc(incident.place_id.as_deref().unwrap_or("(coordinates)")),
            incident.units_required,
            pct(incident.on_time_coverage),
            pct(incident.final_coverage),
            incident.hours_to_full_coverage.map_or("<span class=\"bad\">never</span>".to_owned(), |h| format!("{h:.1} h")),
        );
        for stage in &incident.stages {
            let _ = write!(
                out,
                "<td>{} / {}</td>",
                pct(stage.on_time_coverage),
                pct(stage.final_coverage)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><p class=\"muted\">Stage cells: on time / final.</p>");

    out.push_str("<h2>Gaps by chain stage</h2><div class=\"row\">");
    stage_chart(&mut out, report);
    out.push_str("<table><tr><th>stage</th><th>required</th><th>on time</th><th>late</th><th>by substitutes</th><th>unmet</th><th>categories short</th></tr>");
    for stage in &report.stages {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td class=\"bad\">{}</td><td>{}</td></tr>",
            stage_name(&stage.stage),
            stage.units_required,
            stage.units_on_time,
            stage.units_late,
            stage.units_substituted,
            stage.units_unmet,
            stage.categories_short
        );
    }
    out.push_str("</table></div><p class=\"muted\">By substitutes: required units covered by another category at its efficiency, after the category's own stock.</p>");
    standing_section(&mut out, report);

    let _ = write!(
        out,
        "<h2>Shortfalls by category ({} categories short)</h2>",
        report.shortfalls.len()
    );
    out.push_str("<table><tr><th>category</th><th>stage</th><th>MIIT class</th><th>incidents</th><th>required</th><th>on time</th><th>late</th><th>by substitutes</th><th>unmet</th></tr>");
    for row in report.shortfalls.iter().take(TABLE_ROWS_MAX) {
        let _ = write!(
            out,
            "<tr><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td class=\"bad\">{}</td></tr>",
            esc(&row.category_id),
            esc(&row.category_name_en),
            stage_name(&row.stage),
            esc(&row.miit_class),
            row.incidents,
            row.units_required,
            row.units_on_time,
            row.units_late,
            row.units_substituted,
            row.units_unmet
        );
    }
    out.push_str("</table>");

    let _ = write!(
        out,
        "<h2>Single points of failure ({})</h2><p class=\"muted\">Requirements that one supplier, or suppliers at one place, alone can serve by the deadline; <i>none</i>: nobody can.</p>",
        report.single_points_of_failure.len()
    );
    out.push_str("<table><tr><th>category</th><th>stage</th><th>incident</th><th>kind</th><th>held by</th></tr>");
    for row in report.single_points_of_failure.iter().take(TABLE_ROWS_MAX) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.category_id),
            stage_name(&row.stage),
            esc(&row.incident_id),
            esc(&row.kind),
            esc(&row.holder_id)
        );
    }
    out.push_str("</table>");

    out.push_str("<h2>Industry-chain map: who supplied what</h2><div class=\"row\">");
    supply_heatmap(&mut out, report);
    out.push_str("<table><tr><th>zone</th><th>monitoring</th><th>protection</th><th>rescue</th><th>total</th><th>share</th></tr>");
    for zone in &report.zones {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&zone.zone),
            zone.units_by_stage[0],
            zone.units_by_stage[1],
            zone.units_by_stage[2],
            zone.units_total,
            pct(zone.share)
        );
    }
    out.push_str("</table></div>");
    out.push_str("<p class=\"muted\">Generated by equipmatch. In the default registry every manufacturer is SYNTHETIC; standing holders carry real names where their existence is public, and their stock is SYNTHETIC.</p></body></html>\n");
    out
}

/// What standing resources cover before any manufacturer, and who supplied by holder kind.
fn standing_section(out: &mut String, report: &DrillReport) {
    out.push_str("<h2>Standing resources before manufacturers</h2>");
    match &report.standing {
        Some(standing) => {
            out.push_str("<p class=\"muted\">Reserve depots, fire and rescue, professional teams alone (every manufacturer offline), next to every holder.</p><table><tr><th>stage</th><th>required</th><th>on time, standing alone</th><th>on time, every holder</th><th>final, standing alone</th><th>final, every holder</th></tr>");
            for stage in &standing.stages {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    stage_name(&stage.stage),
                    stage.units_required,
                    pct(stage.on_time_coverage_standing),
                    pct(stage.on_time_coverage_all),
                    pct(stage.final_coverage_standing),
                    pct(stage.final_coverage_all)
                );
            }
            out.push_str("</table><table><tr><th>incident</th><th>on time, standing alone</th><th>on time, every holder</th></tr>");
            for incident in &standing.incidents {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&incident.incident_id),
                    pct(incident.on_time_coverage_standing),
                    pct(incident.on_time_coverage_all)
                );
            }
            out.push_str("</table>");
        }
        None => out.push_str("<p class=\"muted\">Not run: the registry has no standing holder, or manufacturers are offline in this drill already.</p>"),
    }
    if !report.prefer_kinds.is_empty() {
        let _ = write!(
            out,
            "<p>Each category used these holders first: {}.</p>",
            esc(&report.prefer_kinds.join(", "))
        );
    }
    out.push_str("<table><tr><th>holder kind</th><th>monitoring</th><th>protection</th><th>rescue</th><th>total</th><th>share</th><th>with crew</th><th>crew (people)</th><th>holders</th></tr>");
    for row in &report.holder_kinds {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.kind),
            row.units_by_stage[0],
            row.units_by_stage[1],
            row.units_by_stage[2],
            row.units_total,
            pct(row.share),
            row.units_crewed,
            row.crew_people,
            row.suppliers_used
        );
    }
    out.push_str("</table>");
}

fn coverage_chart(out: &mut String, report: &DrillReport) {
    let (w, h, left, bottom, top, right) = (640.0, 300.0, 44.0, 30.0, 10.0, 150.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let horizon = report.horizon_hours.max(1.0);
    let x = |hours: f64| left + plot_w * hours / horizon;
    let y = |share: f64| top + plot_h * (1.0 - share);
    let _ = write!(
        out,
        r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="coverage over time">"#
    );
    for k in 0..=4 {
        let share = f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="4" y="{:.1}">{}</text>"##,
            left + plot_w,
            y(share) + 4.0,
            pct(share),
            y = y(share)
        );
    }
    let ticks = 6;
    for k in 0..=ticks {
        let hours = horizon * f64::from(k) / f64::from(ticks);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{:.0} h</text>"#,
            x(hours),
            h - 10.0,
            hours
        );
    }
    for (n, incident) in report.incidents.iter().take(CHART_INCIDENTS_MAX).enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        let points: Vec<String> = report
            .series_hours
            .iter()
            .zip(&incident.coverage_series)
            .map(|(t, c)| format!("{:.1},{:.1}", x(*t), y(*c)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/><line x1="{sx:.1}" x2="{sx:.1}" y1="{top}" y2="{}" stroke="{colour}" stroke-dasharray="3 3"/>"#,
            points.join(" "),
            top + plot_h,
            sx = x(incident.start_hours)
        );
        let ly = top + 14.0 * n as f64 + 8.0;
        let _ = write!(
            out,
            r#"<rect x="{}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{}" y="{:.1}">{}</text>"#,
            left + plot_w + 8.0,
            ly - 8.0,
            left + plot_w + 22.0,
            ly + 1.0,
            esc(&incident.id)
        );
    }
    out.push_str("</svg>");
}

fn stage_chart(out: &mut String, report: &DrillReport) {
    let (w, bar_h, gap, left) = (460.0, 22.0, 12.0, 150.0);
    let h = (bar_h + gap) * report.stages.len() as f64 + 30.0;
    let _ = write!(
        out,
        r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="gaps by stage">"#
    );
    for (n, stage) in report.stages.iter().enumerate() {
        let total = stage.units_required.max(1) as f64;
        let y = n as f64 * (bar_h + gap) + 6.0;
        let width = w - left - 10.0;
        let mut x = left;
        let _ =
            write!(out, r#"<text x="4" y="{:.1}">{}</text>"#, y + 15.0, stage_name(&stage.stage));
        for (units, colour) in [
            (stage.units_on_time, "#009E73"),
            (stage.units_late, "#E69F00"),
            (stage.units_unmet, "#D55E00"),
        ] {
            let part = width * units as f64 / total;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{part:.1}" height="{bar_h}" fill="{colour}"/>"#
            );
            x += part;
        }
    }
    let y = report.stages.len() as f64 * (bar_h + gap) + 16.0;
    let _ = write!(
        out,
        r##"<rect x="{left}" y="{:.1}" width="10" height="10" fill="#009E73"/><text x="{}" y="{y:.1}">on time</text><rect x="{}" y="{:.1}" width="10" height="10" fill="#E69F00"/><text x="{}" y="{y:.1}">late</text><rect x="{}" y="{:.1}" width="10" height="10" fill="#D55E00"/><text x="{}" y="{y:.1}">unmet</text>"##,
        y - 9.0,
        left + 14.0,
        left + 80.0,
        y - 9.0,
        left + 94.0,
        left + 140.0,
        y - 9.0,
        left + 154.0,
    );
    out.push_str("</svg>");
}

/// Incidents (red, area by affected population) and supplying places (blue, area by units) on
/// an equirectangular projection of their bounding box.
fn map(out: &mut String, report: &DrillReport) {
    let (w, h, pad): (f64, f64, f64) = (520.0, 420.0, 30.0);
    // The frame: the Beijing–Tianjin–Hebei region plus every incident. Supplying places outside
    // it (national suppliers far away) are listed under the map instead of squeezing it.
    let mut lats = vec![REGION_LAT.0, REGION_LAT.1];
    let mut lons = vec![REGION_LON.0, REGION_LON.1];
    lats.extend(report.incidents.iter().map(|i| i.latitude));
    lons.extend(report.incidents.iter().map(|i| i.longitude));
    let (lat_min, lat_max) = bounds(&lats);
    let (lon_min, lon_max) = bounds(&lons);
    let inside = |lat: f64, lon: f64| {
        (lat_min..=lat_max).contains(&lat) && (lon_min..=lon_max).contains(&lon)
    };
    // Keep degrees of longitude shorter than degrees of latitude by cos(latitude).
    let mid = ((lat_min + lat_max) / 2.0).to_radians().cos().max(0.2);
    let span_x = (lon_max - lon_min) * mid;
    let span_y = lat_max - lat_min;
    let scale = ((w - 2.0 * pad) / span_x).min((h - 2.0 * pad) / span_y);
    let x = |lon: f64| pad + (lon - lon_min) * mid * scale;
    let y = |lat: f64| h - pad - (lat - lat_min) * scale;
    let _ = write!(
        out,
        r##"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="map of incidents and suppliers"><rect width="{w}" height="{h}" fill="#f4f8fb" stroke="#ccd"/>"##
    );
    let units_max =
        report.supply_map.iter().map(|r| r.units_total).max().unwrap_or(1).max(1) as f64;
    let mut outside = Vec::new();
    for row in report.supply_map.iter().take(TABLE_ROWS_MAX) {
        if !inside(row.latitude, row.longitude) {
            if outside.len() < 6 {
                outside.push(format!("{} {}", row.place_id, row.units_total));
            }
            continue;
        }
        let r = 3.0 + 14.0 * (row.units_total as f64 / units_max).sqrt();
        let (cx, cy) = (x(row.longitude), y(row.latitude));
        let fill = if row.kind == "demonstration_base" { "#56B4E9" } else { "#0072B2" };
        let _ = write!(
            out,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{fill}" fill-opacity="0.55"><title>{} · {} units</title></circle><text x="{:.1}" y="{:.1}" fill="#0b3d66">{}</text>"##,
            esc(&row.place_id),
            row.units_total,
            cx + r + 2.0,
            cy + 4.0,
            esc(&row.place_id)
        );
    }
    let pop_max = report.incidents.iter().map(|i| i.affected_population).fold(1.0, f64::max);
    for incident in &report.incidents {
        let r = 4.0 + 12.0 * (incident.affected_population / pop_max).sqrt();
        let (cx, cy) = (x(incident.longitude), y(incident.latitude));
        let _ = write!(
            out,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="none" stroke="#D55E00" stroke-width="2.5"><title>{} · {}</title></circle><text x="{:.1}" y="{:.1}" fill="#a33" font-weight="bold">{}</text>"##,
            esc(&incident.id),
            esc(&incident.scenario_id),
            cx + r + 2.0,
            cy - r,
            esc(&incident.id)
        );
    }
    let _ = write!(
        out,
        r##"<text x="8" y="{}">○ incident (size: population) · ● supplying place (size: units), light blue: demonstration base</text>"##,
        h - 8.0
    );
    if !outside.is_empty() {
        let _ = write!(
            out,
            r##"<text x="8" y="16">also from outside the frame: {}</text>"##,
            esc(&outside.join(", "))
        );
    }
    out.push_str("</svg>");
}

fn bounds(values: &[f64]) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        (lo - 0.1, hi + 0.1)
    } else {
        (0.0, 1.0)
    }
}

/// Places and bases × chain stage, shaded by units supplied.
fn supply_heatmap(out: &mut String, report: &DrillReport) {
    let rows: Vec<_> = report.supply_map.iter().take(TABLE_ROWS_MAX).collect();
    let (cell_w, cell_h, left, top) = (110.0, 20.0, 190.0, 24.0);
    let w = left + cell_w * 3.0 + 10.0;
    let h = top + cell_h * rows.len() as f64 + 10.0;
    let max =
        rows.iter().flat_map(|r| r.units_by_stage.iter()).copied().max().unwrap_or(1).max(1) as f64;
    let _ = write!(
        out,
        r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="supply by place and stage">"#
    );
    for (k, stage) in ["monitoring", "protection", "rescue"].iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="16" text-anchor="middle">{stage}</text>"#,
            left + cell_w * (k as f64 + 0.5)
        );
    }
    for (n, row) in rows.iter().enumerate() {
        let y = top + cell_h * n as f64;
        let _ = write!(
            out,
            r#"<text x="4" y="{:.1}">{} ({})</text>"#,
            y + 14.0,
            esc(&row.place_id),
            esc(&row.zone)
        );
        for (k, units) in row.units_by_stage.iter().enumerate() {
            let shade = (*units as f64 / max).sqrt();
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{y:.1}" width="{}" height="{}" fill="#0072B2" fill-opacity="{:.2}" stroke="#fff"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                left + cell_w * k as f64,
                cell_w,
                cell_h,
                0.06 + 0.9 * shade,
                left + cell_w * (k as f64 + 0.5),
                y + 14.0,
                units
            );
        }
    }
    out.push_str("</svg>");
}
