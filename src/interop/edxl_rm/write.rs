//! Writes RequestResource and CommitResource documents. Elements are written in the order the
//! XSD sequences require; every text goes through `escape`.

use std::fmt::Write as _;

use super::{
    CATEGORY_URN, GML_NS, PRIORITY_URN, RM_MSG_NS, RM_NS, STAGE_URN, SUPPLIER_URN, UNIT_URN,
};
use crate::catalog::Catalog;
use crate::domain::{ChainStage, LatLon};
use crate::holds::{Hold, HoldState};
use crate::interop::time::format_utc;
use crate::matching::{MatchQuery, MatchResult, RequirementResult};

/// What a RequestResource says beyond the Match.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// When the message is sent (Unix ms); requested arrivals count from it.
    pub sent_ms: i64,
    /// The incident's id in the requester's system; derived from the message when empty.
    pub incident_id: String,
    /// Who asks (ContactDescription).
    pub requester: String,
    /// Request only what the plan leaves short, not every requirement.
    pub shortfalls_only: bool,
}

/// What a CommitResource says beyond the hold.
#[derive(Debug, Clone)]
pub struct CommitOptions {
    pub sent_ms: i64,
    /// The request this commitment answers; the hold's incident reference when empty.
    pub preceding_message_id: String,
}

/// A small XML writer: two-space indentation, escaped text, elements closed in order.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn new() -> Xml {
        Xml { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let _ = write!(self.out, "{:width$}<{name}", "", width = 2 * self.depth);
        for (key, value) in attributes {
            let _ = write!(self.out, " {key}=\"{}\"", escape(value));
        }
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        let _ = writeln!(self.out, "{:width$}</{name}>", "", width = 2 * self.depth);
    }

    fn leaf(&mut self, name: &str, text: &str) {
        let _ = writeln!(
            self.out,
            "{:width$}<{name}>{}</{name}>",
            "",
            escape(text),
            width = 2 * self.depth
        );
    }

    fn value_list(&mut self, name: &str, urn: &str, value: &str) {
        self.open(name, &[]);
        self.leaf("rm:ValueListURN", urn);
        self.leaf("rm:Value", value);
        self.close(name);
    }

    fn point(&mut self, description: &str, location: Option<LatLon>) {
        self.leaf("rm:LocationDescription", description);
        if let Some(location) = location {
            self.open("rm:TargetArea", &[]);
            self.open("gml:Point", &[]);
            self.leaf("gml:pos", &format!("{} {}", location.latitude(), location.longitude()));
            self.close("gml:Point");
            self.close("rm:TargetArea");
        }
    }

    fn measured(&mut self, amount: f64, unit: &str) {
        self.open("rmsg:Quantity", &[]);
        self.open("rm:MeasuredQuantity", &[]);
        self.leaf("rm:Amount", &format!("{amount}"));
        self.value_list("rm:UnitOfMeasure", UNIT_URN, unit);
        self.close("rm:MeasuredQuantity");
        self.close("rmsg:Quantity");
    }
}

/// Escapes the five XML special characters; control characters other than tab and newline
/// (not allowed in XML 1.0) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// FNV-1a: a stable message id from the message's content.
fn digest(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn root_attributes() -> [(&'static str, &'static str); 3] {
    [("xmlns:rmsg", RM_MSG_NS), ("xmlns:rm", RM_NS), ("xmlns:gml", GML_NS)]
}

/// A RequestResource for the Match `result` of `query`: one ResourceInformation per
/// requirement (or per shortfall), in the Match's order; an error when there is nothing to ask.
pub fn request_resource(
    catalog: &Catalog,
    query: &MatchQuery<'_>,
    result: &MatchResult,
    options: &RequestOptions,
) -> Result<String, String> {
    let (scenario, severity, location) = (query.scenario, query.severity, query.location);
    let (affected_population, affected_area_km2) =
        (query.affected_population, query.affected_area_km2);
    let lines: Vec<_> = result
        .stages
        .iter()
        .flat_map(|stage| stage.requirements.iter().map(move |r| (stage.stage, r)))
        .filter_map(|(stage, requirement)| {
            // Whole units: a shortfall left by substitutes at an efficiency can be fractional,
            // and nobody can send 6.2 kits.
            let amount = if options.shortfalls_only {
                (requirement.shortfall - 1e-9).ceil().max(0.0)
            } else {
                requirement.quantity_required
            };
            (amount > 0.0).then_some((stage, requirement, amount))
        })
        .collect();
    if lines.is_empty() {
        return Err(if options.shortfalls_only {
            "the plan covers every requirement: no shortfall to request".into()
        } else {
            "the Match has no requirement with a quantity".into()
        });
    }
    let sent = format_utc(options.sent_ms);
    let place = format!("{:.5},{:.5}", location.latitude(), location.longitude());
    let amounts: String =
        lines.iter().map(|(_, r, a)| format!("{}={a};", catalog.category(r.category).id)).collect();
    let message_id = format!(
        "equipmatch-rr-{}",
        digest(&[
            &result.catalog_version,
            scenario.id.as_str(),
            severity.roman(),
            &place,
            &sent,
            &amounts
        ])
    );
    let incident_id = if options.incident_id.is_empty() {
        format!("equipmatch-incident-{}", &message_id["equipmatch-rr-".len()..])
    } else {
        options.incident_id.clone()
    };
    let mut xml = Xml::new();
    xml.open("rmsg:RequestResource", &root_attributes());
    xml.leaf("rmsg:MessageID", &message_id);
    xml.leaf("rmsg:SentDateTime", &sent);
    xml.leaf("rmsg:MessageContentType", "RequestResource");
    xml.leaf(
        "rmsg:MessageDescription",
        &format!(
            "{} for {} ({}), level {} ({}): {} by equipmatch, catalog {}; coverage in the region {:.0}%",
            if options.shortfalls_only { "Shortfalls" } else { "Requirements" },
            scenario.name_en,
            scenario.name_zh,
            severity.roman(),
            severity.name_zh(),
            if options.shortfalls_only { "what the region's plan cannot cover" } else { "every requirement" },
            result.catalog_version,
            100.0 * result.coverage
        ),
    );
    xml.leaf("rmsg:OriginatingMessageID", &message_id);
    xml.open("rmsg:IncidentInformation", &[]);
    xml.leaf("rm:IncidentID", &incident_id);
    xml.leaf(
        "rm:IncidentDescription",
        &format!(
            "{} / {} (scenario {}), level {} ({}, {}), at {place}; {affected_population} people and {affected_area_km2} km² affected",
            scenario.name_zh,
            scenario.name_en,
            scenario.id,
            severity.roman(),
            severity.name_zh(),
            severity.warning_colour()
        ),
    );
    xml.close("rmsg:IncidentInformation");
    xml.open("rmsg:ContactInformation", &[]);
    xml.leaf("rm:ContactDescription", &options.requester);
    xml.leaf("rm:ContactRole", "Requester");
    xml.open("rm:ContactLocation", &[]);
    xml.point("incident location", Some(location));
    xml.close("rm:ContactLocation");
    xml.close("rmsg:ContactInformation");
    for (stage, requirement, amount) in lines {
        resource_information(&mut xml, catalog, stage, requirement, amount, options, location);
    }
    xml.close("rmsg:RequestResource");
    Ok(xml.out)
}

/// One requested resource: the category, why and how much, by when, where.
fn resource_information(
    xml: &mut Xml,
    catalog: &Catalog,
    stage: ChainStage,
    requirement: &RequirementResult,
    amount: f64,
    options: &RequestOptions,
    location: LatLon,
) {
    let category = catalog.category(requirement.category);
    xml.open("rmsg:ResourceInformation", &[]);
    xml.leaf("rmsg:ResourceInfoElementID", &format!("{}.{}", category.id, stage.key()));
    xml.open("rmsg:Resource", &[]);
    xml.leaf("rmsg:Name", &format!("{} ({})", category.name_en, category.name_zh));
    xml.value_list("rmsg:TypeStructure", CATEGORY_URN, category.id.as_str());
    xml.value_list("rmsg:Keyword", STAGE_URN, stage.key());
    xml.value_list("rmsg:Keyword", PRIORITY_URN, requirement.priority.key());
    xml.leaf(
        "rmsg:Description",
        &format!(
            "{}: needed {} {} within {} h ({}); the region's plan covers {} ({:.0}%), short {}. Rule: {}",
            stage.name_en(),
            requirement.quantity_required,
            category.unit,
            requirement.needed_within_hours,
            requirement.priority.key(),
            requirement.quantity_planned,
            100.0 * requirement.coverage,
            requirement.shortfall,
            requirement.rule
        ),
    );
    xml.close("rmsg:Resource");
    xml.open("rmsg:AssignmentInformation", &[]);
    xml.measured(amount, &category.unit);
    xml.leaf("rmsg:AnticipatedFunction", &format!("{} ({})", stage.name_en(), stage.name_zh()));
    xml.close("rmsg:AssignmentInformation");
    xml.open("rmsg:ScheduleInformation", &[]);
    xml.leaf("rmsg:ScheduleType", "RequestedArrival");
    let arrival_ms = options.sent_ms + (requirement.needed_within_hours * 3_600_000.0) as i64;
    xml.leaf("rmsg:DateTime", &format_utc(arrival_ms));
    xml.open("rmsg:Location", &[]);
    xml.point("incident location", Some(location));
    xml.close("rmsg:Location");
    xml.close("rmsg:ScheduleInformation");
    xml.close("rmsg:ResourceInformation");
}

/// A CommitResource for a confirmed hold: one ResourceInformation per hold line, accepted,
/// committed at the supplier's location when the hold was confirmed.
pub fn commit_resource(
    catalog: &Catalog,
    hold: &Hold,
    options: &CommitOptions,
) -> Result<String, String> {
    if hold.state != HoldState::Confirmed {
        return Err(format!(
            "hold {} is {}: only a confirmed hold is a commitment",
            hold.hold_id, hold.state
        ));
    }
    let preceding = if options.preceding_message_id.is_empty() {
        hold.incident_ref.to_string()
    } else {
        options.preceding_message_id.clone()
    };
    let message_id = format!("equipmatch-cr-{}", hold.hold_id);
    let committed_at = format_utc(hold.resolved_at_ms.unwrap_or(hold.placed_at_ms));
    let mut xml = Xml::new();
    xml.open("rmsg:CommitResource", &root_attributes());
    xml.leaf("rmsg:MessageID", &message_id);
    xml.leaf("rmsg:SentDateTime", &format_utc(options.sent_ms));
    xml.leaf("rmsg:MessageContentType", "CommitResource");
    xml.leaf(
        "rmsg:MessageDescription",
        &format!("Stock committed by equipmatch hold {} (confirmed {committed_at})", hold.hold_id),
    );
    xml.leaf("rmsg:OriginatingMessageID", &preceding);
    xml.leaf("rmsg:PrecedingMessageID", &preceding);
    xml.open("rmsg:IncidentInformation", &[]);
    xml.leaf("rm:IncidentID", hold.incident_ref.as_str());
    xml.close("rmsg:IncidentInformation");
    xml.open("rmsg:ContactInformation", &[]);
    xml.leaf(
        "rm:ContactDescription",
        &format!("equipmatch, hold {} placed by {}", hold.hold_id, hold.placed_by),
    );
    xml.leaf("rm:ContactRole", "RespondingOrg");
    xml.close("rmsg:ContactInformation");
    for (n, line) in hold.lines.iter().enumerate() {
        let supplier =
            catalog.supplier_by_id(line.supplier_id.as_str()).map(|s| catalog.supplier(s));
        let category =
            catalog.category_by_id(line.category_id.as_str()).map(|c| catalog.category(c));
        xml.open("rmsg:ResourceInformation", &[]);
        xml.leaf("rmsg:ResourceInfoElementID", &format!("{}", n + 1));
        xml.open("rmsg:ResponseInformation", &[]);
        xml.leaf("rm:PrecedingResourceInfoElementID", line.category_id.as_str());
        xml.leaf("rm:ResponseType", "Accept");
        xml.close("rmsg:ResponseInformation");
        xml.open("rmsg:Resource", &[]);
        xml.leaf("rmsg:ResourceID", &format!("{}/{}", line.supplier_id, line.category_id));
        let name = match (category, supplier) {
            (Some(c), Some(s)) => format!("{} from {}", c.name_en, s.name),
            _ => format!("{} from {}", line.category_id, line.supplier_id),
        };
        xml.leaf("rmsg:Name", &name);
        xml.value_list("rmsg:TypeStructure", CATEGORY_URN, line.category_id.as_str());
        xml.value_list("rmsg:Keyword", SUPPLIER_URN, line.supplier_id.as_str());
        xml.close("rmsg:Resource");
        xml.open("rmsg:AssignmentInformation", &[]);
        xml.measured(line.quantity_units as f64, category.map_or("unit", |c| c.unit.as_str()));
        xml.close("rmsg:AssignmentInformation");
        xml.open("rmsg:ScheduleInformation", &[]);
        xml.leaf("rmsg:ScheduleType", "Committed");
        xml.leaf("rmsg:DateTime", &committed_at);
        if let Some(supplier) = supplier {
            let place = catalog.place(supplier.place);
            xml.open("rmsg:Location", &[]);
            xml.point(&format!("{} ({})", supplier.name, place.name_en), Some(supplier.location));
            xml.close("rmsg:Location");
        }
        xml.close("rmsg:ScheduleInformation");
        xml.close("rmsg:ResourceInformation");
    }
    xml.close("rmsg:CommitResource");
    Ok(xml.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}");
        assert_eq!(escape("暴雨\n"), "暴雨\n");
    }
}
