//! Safe XML input for CAP and EDXL: bytes are decoded by the XML declaration's encoding (UTF-8,
//! ISO-8859-1 or US-ASCII), parsed by roxmltree with DTDs refused (so no entity is ever
//! expanded and nothing external is ever fetched: roxmltree has no I/O at all), and held to
//! named bounds on bytes, depth, nodes, attributes, namespaces and text.

use std::fmt;

/// The largest document accepted (bytes). Real CAP messages are a few kB (the corpus's largest
/// alert is 17 kB; an EDXL-DE feed of seven alerts 26 kB).
pub const XML_BYTES_MAX: usize = 1 << 20;
/// The deepest element nesting accepted. CAP is 4 deep; inside a SOAP body or an EDXL-DE
/// envelope with an XML signature about 12.
pub const XML_DEPTH_MAX: usize = 32;
/// The most nodes (elements, text, comments) one document may have.
pub const XML_NODES_MAX: u32 = 50_000;
/// The most attributes one element may carry.
pub const XML_ATTRIBUTES_PER_ELEMENT_MAX: usize = 32;
/// The most namespace declarations one element may carry (EDXL-RM roots declare about 15).
pub const XML_NAMESPACES_PER_ELEMENT_MAX: usize = 32;
/// The longest text node (bytes): a polygon of several thousand points fits.
pub const XML_TEXT_BYTES_MAX: usize = 256 * 1024;

/// Why a document was refused: where (an element path such as `info[0].area[0].polygon`, or
/// empty for the whole document) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub path: String,
    pub reason: String,
}

impl Refusal {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Refusal {
        Refusal { path: path.into(), reason: reason.into() }
    }

    pub fn whole(reason: impl Into<String>) -> Refusal {
        Refusal { path: String::new(), reason: reason.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// Decodes a document to text by the encoding its XML declaration names (UTF-8 when none).
pub fn decode(bytes: &[u8]) -> Result<String, Refusal> {
    if bytes.len() > XML_BYTES_MAX {
        return Err(Refusal::whole(format!(
            "document is {} bytes; at most {XML_BYTES_MAX} are accepted",
            bytes.len()
        )));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(Refusal::whole("UTF-16 is not accepted: send UTF-8 or ISO-8859-1"));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let encoding = declared_encoding(bytes)?.unwrap_or_else(|| "UTF-8".to_owned());
    match encoding.to_ascii_uppercase().as_str() {
        "UTF-8" | "UTF8" => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(error) => {
                let at = error.valid_up_to();
                Err(Refusal::whole(format!(
                    "not valid UTF-8 at line {} (byte {at}); the declaration says {encoding}",
                    line_of(bytes, at)
                )))
            }
        },
        // ISO-8859-1 is the first 256 code points of Unicode, byte for byte.
        "ISO-8859-1" | "ISO8859-1" | "ISO_8859-1" | "LATIN1" | "LATIN-1" | "L1" => {
            Ok(bytes.iter().map(|b| char::from(*b)).collect())
        }
        "US-ASCII" | "ASCII" => match bytes.iter().position(|b| !b.is_ascii()) {
            None => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
            Some(at) => Err(Refusal::whole(format!(
                "a non-ASCII byte at line {} although the declaration says {encoding}",
                line_of(bytes, at)
            ))),
        },
        _ => Err(Refusal::whole(format!(
            "encoding {encoding:?} is not accepted: use UTF-8, ISO-8859-1 or US-ASCII"
        ))),
    }
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// The `encoding` pseudo-attribute of a leading `<?xml …?>` declaration, if any.
fn declared_encoding(bytes: &[u8]) -> Result<Option<String>, Refusal> {
    if !bytes.starts_with(b"<?xml") {
        return Ok(None);
    }
    let Some(end) = bytes.windows(2).take(512).position(|w| w == b"?>") else {
        return Err(Refusal::whole("the XML declaration is not closed within 512 bytes"));
    };
    let declaration = String::from_utf8_lossy(&bytes[..end]);
    let Some(at) = declaration.find("encoding") else { return Ok(None) };
    let rest = declaration[at + "encoding".len()..].trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        return Err(Refusal::whole("malformed encoding in the XML declaration"));
    };
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
    let Some(quote) = quote else {
        return Err(Refusal::whole("malformed encoding in the XML declaration"));
    };
    match rest[1..].find(quote) {
        Some(close) => Ok(Some(rest[1..1 + close].trim().to_owned())),
        None => Err(Refusal::whole("malformed encoding in the XML declaration")),
    }
}

/// Parses decoded text: DTDs refused, every bound checked. Positions in messages are
/// line:column of the decoded text.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, Refusal> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: XML_NODES_MAX,
        entity_resolver: None,
    };
    let document = match roxmltree::Document::parse_with_options(text, options) {
        Ok(document) => document,
        Err(roxmltree::Error::DtdDetected) => {
            let line = text.find("<!DOCTYPE").map_or(1, |at| line_of(text.as_bytes(), at));
            return Err(Refusal::whole(format!(
                "a DOCTYPE (line {line}) is not accepted: no DTD processing, no entities"
            )));
        }
        Err(roxmltree::Error::NodesLimitReached) => {
            return Err(Refusal::whole(format!("more than {XML_NODES_MAX} XML nodes")));
        }
        Err(error) => return Err(Refusal::whole(format!("not well-formed XML: {error}"))),
    };
    check_bounds(&document)?;
    Ok(document)
}

/// Depth, attributes, namespaces and text of every node, in one pass in document order (a
/// parent before its children) without recursion.
fn check_bounds(document: &roxmltree::Document<'_>) -> Result<(), Refusal> {
    // Element depth by node id; the nodes limit bounds this vector.
    let mut depth_of: Vec<u32> = Vec::new();
    for node in document.root().descendants() {
        let id = node.id().get() as usize;
        if depth_of.len() <= id {
            depth_of.resize(id + 1, 0);
        }
        let parent_depth =
            node.parent().map_or(0, |p| depth_of.get(p.id().get() as usize).copied().unwrap_or(0));
        let at = || {
            let pos = document.text_pos_at(node.range().start);
            format!("line {}:{}", pos.row, pos.col)
        };
        if node.is_element() {
            let depth = parent_depth + 1;
            depth_of[id] = depth;
            if depth as usize > XML_DEPTH_MAX {
                return Err(Refusal::whole(format!(
                    "elements nested deeper than {XML_DEPTH_MAX} ({})",
                    at()
                )));
            }
            if node.attributes().len() > XML_ATTRIBUTES_PER_ELEMENT_MAX {
                return Err(Refusal::whole(format!(
                    "an element with more than {XML_ATTRIBUTES_PER_ELEMENT_MAX} attributes ({})",
                    at()
                )));
            }
            // `namespaces()` lists every namespace in scope; the bound is on what one element
            // may see, which also bounds what it declares.
            if node.namespaces().len() > XML_NAMESPACES_PER_ELEMENT_MAX {
                return Err(Refusal::whole(format!(
                    "more than {XML_NAMESPACES_PER_ELEMENT_MAX} namespaces in scope ({})",
                    at()
                )));
            }
        } else {
            depth_of[id] = parent_depth;
            if node.is_text() && node.text().is_some_and(|t| t.len() > XML_TEXT_BYTES_MAX) {
                return Err(Refusal::whole(format!(
                    "a text longer than {XML_TEXT_BYTES_MAX} bytes ({})",
                    at()
                )));
            }
        }
    }
    Ok(())
}

/// The concatenated text children of an element (comments and CDATA boundaries do not split
/// a value), or a refusal when it has element children.
pub fn simple_text(node: roxmltree::Node<'_, '_>, path: &str) -> Result<String, Refusal> {
    let mut out = String::new();
    for child in node.children() {
        if child.is_element() {
            return Err(Refusal::new(
                path,
                format!("unexpected element <{}> inside a text value", child.tag_name().name()),
            ));
        }
        if let Some(text) = child.text().filter(|_| child.is_text()) {
            out.push_str(text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declaration_picks_the_decoder() {
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Usulut\xe1n</a>";
        assert_eq!(
            decode(latin).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Usulután</a>"
        );
        let bad = b"<?xml version='1.0' encoding='UTF-8'?>\n<a>\xe1</a>";
        assert!(decode(bad).unwrap_err().reason.contains("line 2"));
        assert!(decode(b"<?xml version='1.0' encoding='Shift_JIS'?><a/>").is_err());
        assert!(decode(b"\xFF\xFE<\x00a\x00/\x00>\x00").is_err());
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    }

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_read() {
        let text = "<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x 'y'>]>\n<a>&x;</a>";
        let refusal = parse(text).unwrap_err();
        assert!(refusal.reason.contains("DOCTYPE (line 2)"), "{refusal}");
        let undefined = parse("<a>&xxe;</a>").unwrap_err();
        assert!(undefined.reason.contains("xxe"), "{undefined}");
    }

    #[test]
    fn bounds_are_enforced() {
        let deep = "<a>".repeat(XML_DEPTH_MAX + 1) + &"</a>".repeat(XML_DEPTH_MAX + 1);
        assert!(parse(&deep).unwrap_err().reason.contains("nested deeper"));
        let attributes: String =
            (0..=XML_ATTRIBUTES_PER_ELEMENT_MAX).map(|i| format!(" a{i}='1'")).collect();
        assert!(parse(&format!("<a{attributes}/>")).unwrap_err().reason.contains("attributes"));
        let long = format!("<a>{}</a>", "x".repeat(XML_TEXT_BYTES_MAX + 1));
        assert!(parse(&long).unwrap_err().reason.contains("text longer"));
        let many = format!("<a>{}</a>", "<b/>".repeat(XML_NODES_MAX as usize));
        assert!(parse(&many).unwrap_err().reason.contains("nodes"));
        assert!(decode(&vec![b' '; XML_BYTES_MAX + 1]).is_err());
    }

    #[test]
    fn very_deep_nesting_within_the_byte_bound_neither_overflows_nor_passes() {
        // Just under the nodes bound, so the parser builds the whole tree and the depth check
        // must refuse it: both must be iterative, or this overflows the test thread's stack.
        let levels = XML_NODES_MAX as usize - 10;
        let deep = "<a>".repeat(levels) + &"</a>".repeat(levels);
        assert!(deep.len() < XML_BYTES_MAX);
        assert!(parse(&deep).unwrap_err().reason.contains("nested deeper"));
    }
}
