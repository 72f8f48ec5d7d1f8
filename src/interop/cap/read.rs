//! Reads CAP alerts out of a document and checks them: the schema's rules (required elements,
//! code lists, dateTimes) for both versions, and for CAP 1.2 the specification's rules beyond
//! the schema (identifiers without spaces or commas, non-empty well-formed references, closed
//! polygons of at least four points, coordinates in range, restriction/addresses for restricted
//! and private scope, ceiling only with altitude). CAP 1.1 messages are held to their schema
//! and to what processing needs (geometry that parses): deployed 1.1 feeds in the corpus break
//! 1.2-only rules (an identifier with spaces, an empty polygon) and are still usable.
//!
//! Element order is not checked. Elements in other namespaces (XML signatures, profiles) are
//! skipped; an unknown element in the CAP namespace is refused.

use roxmltree::Node;

use super::{
    Alert, Area, CapSeverity, CapVersion, Category, Certainty, Circle, Found, Info, MsgType,
    NameValue, Polygon, Reference, ResponseType, Scope, Status, Urgency,
};
use super::{CAP_1_1_NS, CAP_1_2_NS, EDXL_DE_1_0_NS};
use crate::domain::LatLon;
use crate::interop::time::{parse_datetime, DateTimeRule};
use crate::interop::xml::{self, simple_text, Refusal};

/// The most alerts one document (an EDXL-DE feed) may carry.
pub const ALERTS_PER_DOCUMENT_MAX: usize = 64;
/// The most `<info>` blocks one alert may have (one per language and hazard).
pub const INFOS_PER_ALERT_MAX: usize = 32;
/// The most `<area>` blocks one info may have.
pub const AREAS_PER_INFO_MAX: usize = 64;
/// The most polygons or circles one area may have.
pub const POLYGONS_PER_AREA_MAX: usize = 64;
/// The most points one polygon may have.
pub const POLYGON_POINTS_MAX: usize = 10_000;
/// The most geocodes one area may have.
pub const GEOCODES_PER_AREA_MAX: usize = 1_000;
/// The most parameters or event codes one info may have.
pub const PARAMETERS_PER_INFO_MAX: usize = 500;
/// The most messages one `<references>` may name.
pub const REFERENCES_PER_ALERT_MAX: usize = 100;

/// Reads every alert a document carries. The document itself is refused when it is not
/// well-formed, breaks a bound, or carries no CAP alert at all ("not CAP").
pub fn read_document(bytes: &[u8]) -> Result<Vec<Found>, Refusal> {
    let text = xml::decode(bytes)?;
    let document = xml::parse(&text)?;
    let root = document.root_element();
    if let Some(version) = cap_version(root) {
        return Ok(vec![Found { location: String::new(), alert: read_alert(root, version) }]);
    }
    let found = if is_named(root, EDXL_DE_1_0_NS, "EDXLDistribution") {
        read_distribution(root)
    } else {
        let mut found = Vec::new();
        for (index, node) in root.descendants().filter(|n| cap_version(*n).is_some()).enumerate() {
            // An alert inside an alert is not a carried alert (and would be refused inside it).
            if node.ancestors().skip(1).any(|a| cap_version(a).is_some()) {
                continue;
            }
            let version = cap_version(node).unwrap_or(CapVersion::V1_2);
            let location = format!("{}/alert[{index}]", root.tag_name().name());
            found.push(Found { location, alert: read_alert(node, version) });
        }
        found
    };
    if found.is_empty() {
        return Err(not_cap(root));
    }
    if found.len() > ALERTS_PER_DOCUMENT_MAX {
        return Err(Refusal::whole(format!(
            "{} alerts in one document; at most {ALERTS_PER_DOCUMENT_MAX}",
            found.len()
        )));
    }
    Ok(found)
}

fn not_cap(root: Node<'_, '_>) -> Refusal {
    let namespace = root.tag_name().namespace().unwrap_or("");
    let name = root.tag_name().name();
    if name == "alert" {
        Refusal::whole(format!(
            "not CAP: <alert> is in namespace {namespace:?}, neither CAP 1.1 ({CAP_1_1_NS}) nor CAP 1.2 ({CAP_1_2_NS})"
        ))
    } else {
        Refusal::whole(format!(
            "not CAP: the root element is <{name}> in namespace {namespace:?} and it carries no CAP alert"
        ))
    }
}

fn is_named(node: Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn cap_version(node: Node<'_, '_>) -> Option<CapVersion> {
    if is_named(node, CAP_1_2_NS, "alert") {
        Some(CapVersion::V1_2)
    } else if is_named(node, CAP_1_1_NS, "alert") {
        Some(CapVersion::V1_1)
    } else {
        None
    }
}

/// EDXL-DE: each `contentObject/xmlContent/embeddedXMLContent` element is one entry.
fn read_distribution(root: Node<'_, '_>) -> Vec<Found> {
    let mut found = Vec::new();
    let objects = root.children().filter(|n| is_named(*n, EDXL_DE_1_0_NS, "contentObject"));
    for (index, object) in objects.enumerate() {
        let location = format!("contentObject[{index}]");
        let embedded: Vec<Node<'_, '_>> = object
            .children()
            .filter(|n| is_named(*n, EDXL_DE_1_0_NS, "xmlContent"))
            .flat_map(|n| n.children())
            .filter(|n| is_named(*n, EDXL_DE_1_0_NS, "embeddedXMLContent"))
            .flat_map(|n| n.children())
            .filter(|n| n.is_element())
            .collect();
        if embedded.is_empty() {
            let alert = Err(Refusal::new(
                location.clone(),
                "no embedded XML content (an empty embeddedXMLContent, or non-XML content)",
            ));
            found.push(Found { location, alert });
            continue;
        }
        for element in embedded {
            let alert = match cap_version(element) {
                Some(version) => read_alert(element, version),
                None => Err(Refusal::new(
                    location.clone(),
                    format!("not CAP: embedded <{}>", element.tag_name().name()),
                )),
            };
            found.push(Found { location: location.clone(), alert });
        }
    }
    found
}

/// The element children of `node` in the CAP namespace, refusing any CAP element not in
/// `allowed`; elements of other namespaces are skipped.
fn cap_children<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: &str,
    path: &str,
    allowed: &[&str],
) -> Result<Vec<Node<'a, 'input>>, Refusal> {
    let mut out = Vec::new();
    for child in node.children().filter(|n| n.is_element()) {
        if child.tag_name().namespace() != Some(namespace) {
            continue;
        }
        let name = child.tag_name().name();
        if !allowed.contains(&name) {
            let at = if path.is_empty() { String::new() } else { format!("{path}.") };
            return Err(Refusal::new(format!("{at}{name}"), "unknown element in CAP"));
        }
        out.push(child);
    }
    Ok(out)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The elements named `name` among `children`.
fn named<'a, 'input>(children: &[Node<'a, 'input>], name: &str) -> Vec<Node<'a, 'input>> {
    children.iter().copied().filter(|n| n.tag_name().name() == name).collect()
}

/// The text of an element that may appear at most once.
fn optional_text(
    children: &[Node<'_, '_>],
    path: &str,
    name: &str,
) -> Result<Option<String>, Refusal> {
    let found = named(children, name);
    match found.as_slice() {
        [] => Ok(None),
        [one] => simple_text(*one, &join(path, name)).map(Some),
        _ => Err(Refusal::new(join(path, name), "appears more than once")),
    }
}

/// The trimmed text of an element that must appear exactly once.
fn required_text(children: &[Node<'_, '_>], path: &str, name: &str) -> Result<String, Refusal> {
    match optional_text(children, path, name)? {
        Some(text) => Ok(text.trim().to_owned()),
        None => Err(Refusal::new(join(path, name), "required element is missing")),
    }
}

fn code<T>(
    text: &str,
    path: &str,
    parse: fn(&str) -> Option<T>,
    spellings: fn() -> String,
) -> Result<T, Refusal> {
    parse(text.trim()).ok_or_else(|| {
        Refusal::new(path, format!("{:?} is not one of {}", text.trim(), spellings()))
    })
}

fn datetime(text: &str, path: &str, version: CapVersion) -> Result<i64, Refusal> {
    let rule = match version {
        CapVersion::V1_2 => DateTimeRule::Cap12,
        CapVersion::V1_1 => DateTimeRule::XsdDateTime,
    };
    parse_datetime(text, rule).map(|t| t.unix_ms).map_err(|reason| Refusal::new(path, reason))
}

/// CAP 1.2: identifiers and senders "MUST NOT include spaces, commas or restricted characters
/// (< and &)".
fn check_identifier(text: &str, path: &str, version: CapVersion) -> Result<(), Refusal> {
    if text.is_empty() {
        return Err(Refusal::new(path, "empty"));
    }
    if version == CapVersion::V1_2
        && text.chars().any(|c| c.is_whitespace() || matches!(c, ',' | '<' | '&'))
    {
        return Err(Refusal::new(path, "must not contain spaces, commas, '<' or '&' (CAP 1.2)"));
    }
    Ok(())
}

const ALERT_ELEMENTS: &[&str] = &[
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
];

fn read_alert(node: Node<'_, '_>, version: CapVersion) -> Result<Alert, Refusal> {
    let namespace = match version {
        CapVersion::V1_1 => CAP_1_1_NS,
        CapVersion::V1_2 => CAP_1_2_NS,
    };
    let children = cap_children(node, namespace, "", ALERT_ELEMENTS)?;
    let mut warnings = Vec::new();
    let identifier = required_text(&children, "", "identifier")?;
    check_identifier(&identifier, "identifier", version)?;
    let sender = required_text(&children, "", "sender")?;
    check_identifier(&sender, "sender", version)?;
    let sent = required_text(&children, "", "sent")?;
    let sent_ms = datetime(&sent, "sent", version)?;
    let status =
        code(&required_text(&children, "", "status")?, "status", Status::parse, Status::spellings)?;
    let msg_type = code(
        &required_text(&children, "", "msgType")?,
        "msgType",
        MsgType::parse,
        MsgType::spellings,
    )?;
    let scope =
        code(&required_text(&children, "", "scope")?, "scope", Scope::parse, Scope::spellings)?;
    let restriction = optional_text(&children, "", "restriction")?.unwrap_or_default();
    let addresses = optional_text(&children, "", "addresses")?.unwrap_or_default();
    if version == CapVersion::V1_2 {
        if scope == Scope::Restricted && restriction.trim().is_empty() {
            return Err(Refusal::new("restriction", "required when scope is Restricted"));
        }
        if scope == Scope::Private && addresses.trim().is_empty() {
            return Err(Refusal::new("addresses", "required when scope is Private"));
        }
    }
    for name in ["source", "note", "incidents"] {
        optional_text(&children, "", name)?;
    }
    for (i, node) in named(&children, "code").into_iter().enumerate() {
        simple_text(node, &format!("code[{i}]"))?;
    }
    let references = match optional_text(&children, "", "references")? {
        None => Vec::new(),
        Some(text) => match parse_references(&text, version) {
            Ok(references) => references,
            // A 1.1 alert that only mentions earlier messages can do without them; an Update
            // or Cancel cannot.
            Err(reason)
                if version == CapVersion::V1_1
                    && !matches!(msg_type, MsgType::Update | MsgType::Cancel) =>
            {
                warnings.push(format!("references ignored: {reason}"));
                Vec::new()
            }
            Err(reason) => return Err(Refusal::new("references", reason)),
        },
    };
    let info_nodes = named(&children, "info");
    if info_nodes.len() > INFOS_PER_ALERT_MAX {
        return Err(Refusal::new(
            "info",
            format!("{} info blocks; at most {INFOS_PER_ALERT_MAX}", info_nodes.len()),
        ));
    }
    let mut infos = Vec::with_capacity(info_nodes.len());
    for (index, info) in info_nodes.into_iter().enumerate() {
        infos.push(read_info(info, namespace, version, index, &mut warnings)?);
    }
    Ok(Alert {
        version,
        identifier,
        sender,
        sent,
        sent_ms,
        status,
        msg_type,
        scope,
        references,
        infos,
        warnings,
    })
}

/// Whitespace-separated `sender,identifier,sent` triples; at least one.
fn parse_references(text: &str, version: CapVersion) -> Result<Vec<Reference>, String> {
    let triples: Vec<&str> = text.split_whitespace().collect();
    if triples.is_empty() {
        return Err("empty: at least one sender,identifier,sent triple is required".into());
    }
    if triples.len() > REFERENCES_PER_ALERT_MAX {
        return Err(format!("{} references; at most {REFERENCES_PER_ALERT_MAX}", triples.len()));
    }
    let rule = match version {
        CapVersion::V1_1 => DateTimeRule::XsdDateTime,
        CapVersion::V1_2 => DateTimeRule::Cap12,
    };
    triples
        .into_iter()
        .map(|triple| {
            let parts: Vec<&str> = triple.split(',').collect();
            match parts.as_slice() {
                [sender, identifier, sent]
                    if !sender.is_empty() && !identifier.is_empty() && !sent.is_empty() =>
                {
                    parse_datetime(sent, rule).map_err(|e| format!("{triple:?}: {e}"))?;
                    Ok(Reference {
                        sender: (*sender).to_owned(),
                        identifier: (*identifier).to_owned(),
                        sent: (*sent).to_owned(),
                    })
                }
                _ => Err(format!("{triple:?} is not a sender,identifier,sent triple")),
            }
        })
        .collect()
}

const INFO_ELEMENTS: &[&str] = &[
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
];

fn read_info(
    node: Node<'_, '_>,
    namespace: &str,
    version: CapVersion,
    index: usize,
    warnings: &mut Vec<String>,
) -> Result<Info, Refusal> {
    let path = format!("info[{index}]");
    let children = cap_children(node, namespace, &path, INFO_ELEMENTS)?;
    let language = optional_text(&children, &path, "language")?
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "en-US".to_owned());
    let mut categories = Vec::new();
    for (i, node) in named(&children, "category").into_iter().enumerate() {
        let at = format!("{path}.category[{i}]");
        let category = code(&simple_text(node, &at)?, &at, Category::parse, Category::spellings)?;
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    if categories.is_empty() {
        return Err(Refusal::new(join(&path, "category"), "required element is missing"));
    }
    let event = required_text(&children, &path, "event")?;
    if event.is_empty() {
        return Err(Refusal::new(join(&path, "event"), "empty"));
    }
    let mut response_types = Vec::new();
    for (i, node) in named(&children, "responseType").into_iter().enumerate() {
        let at = format!("{path}.responseType[{i}]");
        let text = simple_text(node, &at)?;
        response_types.push(code(&text, &at, ResponseType::parse, ResponseType::spellings)?);
    }
    let urgency = code(
        &required_text(&children, &path, "urgency")?,
        &join(&path, "urgency"),
        Urgency::parse,
        Urgency::spellings,
    )?;
    let severity = code(
        &required_text(&children, &path, "severity")?,
        &join(&path, "severity"),
        CapSeverity::parse,
        CapSeverity::spellings,
    )?;
    let certainty_text = required_text(&children, &path, "certainty")?;
    let certainty = if version == CapVersion::V1_1 && certainty_text == "Very Likely" {
        warnings.push(format!("{path}.certainty: CAP 1.1 \"Very Likely\" read as Likely"));
        Certainty::Likely
    } else {
        code(&certainty_text, &join(&path, "certainty"), Certainty::parse, Certainty::spellings)?
    };
    let mut when = [None; 3];
    for (slot, name) in when.iter_mut().zip(["effective", "onset", "expires"]) {
        if let Some(text) = optional_text(&children, &path, name)? {
            *slot = Some(datetime(&text, &join(&path, name), version)?);
        }
    }
    let [effective_ms, onset_ms, expires_ms] = when;
    for name in ["audience", "description", "instruction", "web", "contact"] {
        optional_text(&children, &path, name)?;
    }
    let sender_name = optional_text(&children, &path, "senderName")?.map(|t| t.trim().to_owned());
    let headline = optional_text(&children, &path, "headline")?.map(|t| t.trim().to_owned());
    let event_codes = name_values(&children, namespace, &path, "eventCode")?;
    let parameters = name_values(&children, namespace, &path, "parameter")?;
    for (i, resource) in named(&children, "resource").into_iter().enumerate() {
        check_resource(resource, namespace, version, &format!("{path}.resource[{i}]"))?;
    }
    let area_nodes = named(&children, "area");
    if area_nodes.len() > AREAS_PER_INFO_MAX {
        return Err(Refusal::new(
            join(&path, "area"),
            format!("{} areas; at most {AREAS_PER_INFO_MAX}", area_nodes.len()),
        ));
    }
    let mut areas = Vec::with_capacity(area_nodes.len());
    for (i, area) in area_nodes.into_iter().enumerate() {
        areas.push(read_area(area, namespace, version, &format!("{path}.area[{i}]"), warnings)?);
    }
    Ok(Info {
        language,
        categories,
        event,
        response_types,
        urgency,
        severity,
        certainty,
        event_codes,
        effective_ms,
        onset_ms,
        expires_ms,
        sender_name,
        headline,
        parameters,
        areas,
    })
}

/// `eventCode`, `parameter` or `geocode` elements: each a `valueName` and a `value`.
fn name_values(
    children: &[Node<'_, '_>],
    namespace: &str,
    path: &str,
    name: &str,
) -> Result<Vec<NameValue>, Refusal> {
    let nodes = named(children, name);
    if nodes.len() > PARAMETERS_PER_INFO_MAX.max(GEOCODES_PER_AREA_MAX) {
        return Err(Refusal::new(join(path, name), format!("{} entries: too many", nodes.len())));
    }
    let many = nodes.len() > 1;
    let mut out = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.into_iter().enumerate() {
        let at = if many { format!("{}[{i}]", join(path, name)) } else { join(path, name) };
        let pair = cap_children(node, namespace, &at, &["valueName", "value"])?;
        let value_name = required_text(&pair, &at, "valueName")?;
        let value = required_text(&pair, &at, "value")?;
        out.push(NameValue { name: value_name, value });
    }
    Ok(out)
}

fn check_resource(
    node: Node<'_, '_>,
    namespace: &str,
    version: CapVersion,
    path: &str,
) -> Result<(), Refusal> {
    let allowed = ["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"];
    let children = cap_children(node, namespace, path, &allowed)?;
    required_text(&children, path, "resourceDesc")?;
    if version == CapVersion::V1_2 {
        required_text(&children, path, "mimeType")?;
    }
    if let Some(size) = optional_text(&children, path, "size")? {
        if size.trim().parse::<i64>().is_err() {
            return Err(Refusal::new(join(path, "size"), format!("{size:?} is not an integer")));
        }
    }
    Ok(())
}

fn read_area(
    node: Node<'_, '_>,
    namespace: &str,
    version: CapVersion,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<Area, Refusal> {
    let allowed = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"];
    let children = cap_children(node, namespace, path, &allowed)?;
    let description = required_text(&children, path, "areaDesc")?;
    let polygon_nodes = named(&children, "polygon");
    let circle_nodes = named(&children, "circle");
    if polygon_nodes.len() > POLYGONS_PER_AREA_MAX || circle_nodes.len() > POLYGONS_PER_AREA_MAX {
        return Err(Refusal::new(
            path,
            format!("more than {POLYGONS_PER_AREA_MAX} polygons or circles"),
        ));
    }
    let mut polygons = Vec::new();
    let many = polygon_nodes.len() > 1;
    for (i, polygon) in polygon_nodes.into_iter().enumerate() {
        let at = if many { format!("{path}.polygon[{i}]") } else { format!("{path}.polygon") };
        let text = simple_text(polygon, &at)?;
        if text.trim().is_empty() && version == CapVersion::V1_1 {
            warnings.push(format!("{at}: empty polygon ignored (CAP 1.1)"));
            continue;
        }
        polygons.push(parse_polygon(&text, &at)?);
    }
    let mut circles = Vec::new();
    let many = circle_nodes.len() > 1;
    for (i, circle) in circle_nodes.into_iter().enumerate() {
        let at = if many { format!("{path}.circle[{i}]") } else { format!("{path}.circle") };
        let text = simple_text(circle, &at)?;
        if text.trim().is_empty() && version == CapVersion::V1_1 {
            warnings.push(format!("{at}: empty circle ignored (CAP 1.1)"));
            continue;
        }
        circles.push(parse_circle(&text, &at)?);
    }
    let geocodes = name_values(&children, namespace, path, "geocode")?;
    if geocodes.len() > GEOCODES_PER_AREA_MAX {
        return Err(Refusal::new(
            join(path, "geocode"),
            format!("{} geocodes; at most {GEOCODES_PER_AREA_MAX}", geocodes.len()),
        ));
    }
    let altitude = optional_text(&children, path, "altitude")?;
    let ceiling = optional_text(&children, path, "ceiling")?;
    if version == CapVersion::V1_2 {
        for (name, value) in [("altitude", &altitude), ("ceiling", &ceiling)] {
            if let Some(text) = value {
                if !text.trim().parse::<f64>().is_ok_and(f64::is_finite) {
                    return Err(Refusal::new(
                        join(path, name),
                        format!("{:?} is not a decimal number (feet)", text.trim()),
                    ));
                }
            }
        }
        if ceiling.is_some() && altitude.is_none() {
            return Err(Refusal::new(join(path, "ceiling"), "ceiling needs an altitude"));
        }
    }
    Ok(Area { description, polygons, circles, geocodes })
}

/// `lat,lon` with both numbers in range.
fn parse_point(text: &str, path: &str) -> Result<LatLon, Refusal> {
    let parts: Vec<&str> = text.split(',').collect();
    let [lat, lon] = parts.as_slice() else {
        return Err(Refusal::new(path, format!("{text:?} is not a lat,lon pair")));
    };
    let number = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
    let (Some(lat), Some(lon)) = (number(lat), number(lon)) else {
        return Err(Refusal::new(path, format!("{text:?} is not a lat,lon pair of numbers")));
    };
    LatLon::new(lat, lon).map_err(|reason| {
        Refusal::new(path, format!("{text:?}: coordinate out of range: {reason}"))
    })
}

/// At least four `lat,lon` points separated by whitespace, the first equal to the last.
pub(crate) fn parse_polygon(text: &str, path: &str) -> Result<Polygon, Refusal> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.len() > POLYGON_POINTS_MAX {
        return Err(Refusal::new(
            path,
            format!("{} points; at most {POLYGON_POINTS_MAX}", tokens.len()),
        ));
    }
    let points = tokens
        .iter()
        .map(|token| parse_point(token, path))
        .collect::<Result<Vec<LatLon>, Refusal>>()?;
    if points.len() < 4 {
        return Err(Refusal::new(
            path,
            format!("{} points; a polygon needs at least 4 (first = last)", points.len()),
        ));
    }
    if points.first() != points.last() {
        return Err(Refusal::new(
            path,
            format!(
                "not closed: the first point {} differs from the last {}",
                tokens[0],
                tokens[tokens.len() - 1]
            ),
        ));
    }
    Ok(Polygon { points })
}

/// `lat,lon radius` with the radius in km, finite and ≥ 0.
pub(crate) fn parse_circle(text: &str, path: &str) -> Result<Circle, Refusal> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let [centre, radius] = tokens.as_slice() else {
        return Err(Refusal::new(path, format!("{text:?} is not \"lat,lon radius_km\"")));
    };
    let centre = parse_point(centre, path)?;
    let radius_km =
        radius.parse::<f64>().ok().filter(|r| r.is_finite() && *r >= 0.0).ok_or_else(|| {
            Refusal::new(path, format!("radius {radius:?} is not a number ≥ 0 (km)"))
        })?;
    Ok(Circle { centre, radius_km })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The polygon and circle strings of the Go CAP validator's tests (interop README §1.5).
    #[test]
    fn polygon_rules_follow_the_go_validator_strings() {
        let valid = "38.47,-120.14 38.52,-119.74 38.62,-119.89 38.47,-120.14";
        assert_eq!(parse_polygon(valid, "p").unwrap().points.len(), 4);
        let short = parse_polygon("38.47,-120.14 38.62,-119.89 38.47,-120.14", "p").unwrap_err();
        assert!(short.reason.contains("at least 4"), "{short}");
        let open = "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89";
        assert!(parse_polygon(open, "p").unwrap_err().reason.contains("not closed"));
        let bad_point = "38.47,-120.14 38.52 38.62,-119.89 38.47,-120.14";
        assert!(parse_polygon(bad_point, "p").unwrap_err().reason.contains("lat,lon"));
        assert!(parse_polygon("", "p").is_err());
        let out_of_range = "38.47,-120.14 98.52,-119.74 38.62,-119.89 38.47,-120.14";
        assert!(parse_polygon(out_of_range, "p").unwrap_err().reason.contains("out of range"));
    }

    #[test]
    fn circle_rules_follow_the_go_validator_strings() {
        let circle = parse_circle("32.9525,-115.5527 1", "c").unwrap();
        assert_eq!(circle.radius_km, 1.0);
        assert!(parse_circle("-115.5527 1", "c").is_err());
        assert!(parse_circle("1", "c").is_err());
        assert!(parse_circle("32.9525,-115.5527", "c").is_err());
        assert!(parse_circle("32.9525,-115.5527 -1", "c").is_err());
    }

    #[test]
    fn references_are_triples() {
        let ok = parse_references(
            "a@b,ID-1,2003-06-11T20:30:00-07:00 c,ID-2,2003-06-11T20:31:00-07:00",
            CapVersion::V1_2,
        )
        .unwrap();
        assert_eq!(ok[1].identifier, "ID-2");
        assert!(parse_references("  ", CapVersion::V1_2).unwrap_err().contains("empty"));
        assert!(parse_references("cap:references", CapVersion::V1_1).is_err());
        assert!(parse_references("a,b,2003-06-11T20:30:00Z", CapVersion::V1_2).is_err());
    }
}
