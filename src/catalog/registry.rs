//! Reads the supplier registry: `suppliers.csv` and `stock_lines.csv`, spreadsheet-friendly
//! CSV with a header row. Every bad row is reported with file, line, column and reason; good
//! rows are kept.

use std::collections::HashMap;

use super::problems::Problems;
use super::SourceFile;
use crate::domain::{
    CategoryIdx, CertSet, HolderKind, Id, LatLon, Place, PlaceIdx, PlaceKind, StockLine, Supplier,
    SupplierIdx,
};

pub const SUPPLIERS_FILE: &str = "suppliers.csv";
pub const STOCK_LINES_FILE: &str = "stock_lines.csv";
pub const SUPPLIERS_HEADER: [&str; 9] = [
    "supplier_id",
    "name",
    "place_id",
    "base_id",
    "latitude",
    "longitude",
    "certifications",
    "reliability",
    "kind",
];
pub const STOCK_LINES_HEADER: [&str; 6] = [
    "supplier_id",
    "category_id",
    "quantity_on_hand",
    "surge_per_day",
    "lead_time_hours",
    "crew_per_unit",
];
/// The last column of each file came later than the rest (`kind`, `crew_per_unit`): a file
/// written before it may leave it out, header and rows alike, and then every row takes the
/// documented default — `manufacturer` (what the registry listed before standing resources
/// existed) and a crew of 0 (equipment without operators). The catalog's `notes` say so; a
/// file that has the column must fill it on every row.
const COLUMNS_ADDED_LATER: usize = 1;

/// The most crew one unit may carry (a heavy USAR team is 59 people; a field hospital's team
/// some 120).
pub const CREW_PER_UNIT_MAX: u32 = 500;

/// The largest registry file accepted (bytes).
pub const REGISTRY_FILE_BYTES_MAX: usize = 1 << 30;
/// The most suppliers (indexes are `u32`; this is far below that and above national scale).
pub const SUPPLIERS_MAX: usize = 4_000_000;
/// The most stock lines.
pub const STOCK_LINES_MAX: usize = 40_000_000;
/// The largest quantity one stock line may hold, and the most it may make per day.
pub const STOCK_QUANTITY_MAX: f64 = 1e9;
/// The longest lead time accepted: 30 days.
pub const LEAD_TIME_HOURS_MAX: f64 = 720.0;
/// The most refused supplier rows remembered for pointing their stock lines at them (beyond
/// it, their stock lines report an unknown supplier each, as before).
const REFUSED_SUPPLIERS_TRACKED_MAX: usize = 100_000;
/// The longest supplier name (bytes).
pub const SUPPLIER_NAME_BYTES_MAX: usize = 256;

pub(super) struct Lookups<'a> {
    pub places: &'a [Place],
    pub place_ids: &'a HashMap<&'a str, PlaceIdx>,
    pub category_ids: &'a HashMap<&'a str, CategoryIdx>,
    pub cert_ids: &'a HashMap<&'a str, usize>,
}

/// One CSV file being read: name, text and the current row, for located problems.
struct Rows<'a> {
    file: &'a SourceFile,
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    line: u32,
    line_start: usize,
    /// Columns of this file: the full header, or the header without the columns added later.
    width: usize,
}

impl<'a> Rows<'a> {
    /// Opens a file whose header is `header`, or `header` without its last
    /// `COLUMNS_ADDED_LATER` columns (an older file: `notes` gets a line saying which defaults
    /// its rows take).
    fn open(
        file: &'a SourceFile,
        header: &[&str],
        problems: &mut Problems,
        notes: &mut Vec<String>,
    ) -> Option<Rows<'a>> {
        if file.text.len() > REGISTRY_FILE_BYTES_MAX {
            problems.push(
                &file.name,
                0,
                None,
                format!("file is larger than {REGISTRY_FILE_BYTES_MAX} bytes"),
            );
            return None;
        }
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file.text.as_bytes());
        let mut rows = Rows {
            file,
            reader,
            record: csv::ByteRecord::new(),
            line: 0,
            line_start: 0,
            width: header.len(),
        };
        if !rows.next(problems) {
            problems.push(
                &file.name,
                1,
                None,
                format!("empty file: expected the header {}", header.join(",")),
            );
            return None;
        }
        rows.width = header_width(file, &rows.record, header, problems, notes)?;
        Some(rows)
    }

    /// Advances to the next record; malformed CSV is reported and skipped.
    fn next(&mut self, problems: &mut Problems) -> bool {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {
                    let position =
                        self.record.position().cloned().unwrap_or_else(csv::Position::new);
                    (self.line, self.line_start) = self.locate(&position);
                    return true;
                }
                Ok(false) => return false,
                Err(error) => {
                    let line = error.position().map_or(0, |position| self.locate(position).0);
                    problems.push(&self.file.name, line, None, format!("malformed CSV: {error}"));
                    if !matches!(
                        error.kind(),
                        csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                    ) {
                        return false;
                    }
                }
            }
        }
    }

    /// The 1-based line and the byte offset where a record really starts. With CRLF line ends
    /// (what spreadsheets write) the reader ends a record at the `\r` and reports the next one
    /// from the `\n` that follows, still counted on the line before: skip the line ends and
    /// count them.
    fn locate(&self, position: &csv::Position) -> (u32, usize) {
        let bytes = self.file.text.as_bytes();
        let (mut line, mut start) = (position.line() as u32, position.byte() as usize);
        while let Some(byte @ (b'\r' | b'\n')) = bytes.get(start) {
            line += u32::from(*byte == b'\n');
            start += 1;
        }
        (line, start)
    }

    /// Whether the current row has the header's number of fields (reported when not).
    fn has_every_field(&self, problems: &mut Problems) -> bool {
        if self.record.len() == self.width {
            return true;
        }
        problems.push(
            &self.file.name,
            self.line,
            None,
            format!("expected {} fields, found {}", self.width, self.record.len()),
        );
        false
    }

    fn field(&self, idx: usize) -> &str {
        std::str::from_utf8(self.record.get(idx).unwrap_or_default()).unwrap_or("\u{FFFD}")
    }

    /// 1-based character column where field `idx` starts on the current line.
    fn column(&self, idx: usize) -> u32 {
        let rest = self.file.text.get(self.line_start..).unwrap_or_default();
        let line = rest.split('\n').next().unwrap_or_default().trim_end_matches('\r');
        let mut field = 0;
        let mut quoted = false;
        for (chars, ch) in line.chars().enumerate() {
            if field == idx {
                return chars as u32 + 1;
            }
            match ch {
                '"' => quoted = !quoted,
                ',' if !quoted => field += 1,
                _ => {}
            }
        }
        line.chars().count() as u32 + 1
    }

    fn report(
        &self,
        problems: &mut Problems,
        field_idx: usize,
        column_name: &str,
        message: impl std::fmt::Display,
    ) {
        problems.push(
            &self.file.name,
            self.line,
            Some(self.column(field_idx)),
            format!("{column_name}: {message}"),
        );
    }

    /// A finite number in [0, max].
    fn number(&self, problems: &mut Problems, idx: usize, name: &str, max: f64) -> Option<f64> {
        let text = self.field(idx).trim();
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (0.0..=max).contains(&x) => Some(x),
            Ok(x) => {
                self.report(
                    problems,
                    idx,
                    name,
                    format!("must be a finite number in [0, {max}], not {x}"),
                );
                None
            }
            Err(_) => {
                self.report(problems, idx, name, format!("{text:?} is not a number"));
                None
            }
        }
    }

    /// A whole number in [0, max].
    fn whole(&self, problems: &mut Problems, idx: usize, name: &str, max: u32) -> Option<u32> {
        let text = self.field(idx).trim();
        match text.parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.report(
                    problems,
                    idx,
                    name,
                    format!("{text:?} is not a whole number in [0, {max}]"),
                );
                None
            }
        }
    }
}

/// The width of a file's rows, from its header: exactly `header` (a UTF-8 byte-order mark
/// allowed), or `header` without the columns added later (noted: what their rows then read
/// as). None, reported, for any other header.
fn header_width(
    file: &SourceFile,
    record: &csv::ByteRecord,
    header: &[&str],
    problems: &mut Problems,
    notes: &mut Vec<String>,
) -> Option<usize> {
    let found: Vec<&[u8]> = record.iter().collect();
    let expected: Vec<&[u8]> = header.iter().map(|name| name.as_bytes()).collect();
    // A spreadsheet may save a UTF-8 byte-order mark before the header.
    let bom_free = found.first().map(|first| first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first));
    let older = expected.len() - COLUMNS_ADDED_LATER;
    if !(found.len() == expected.len() || found.len() == older)
        || bom_free != expected.first().copied()
        || found[1..] != expected[1..found.len()]
    {
        problems.push(
            &file.name,
            1,
            Some(1),
            format!(
                "header must be exactly {} (or, in a file written before the column {:?}, {})",
                header.join(","),
                header[older..].join(","),
                header[..older].join(",")
            ),
        );
        return None;
    }
    if found.len() == older {
        notes.push(format!(
            "{}: no {} column (a file written before it existed): {}",
            file.name,
            header[older..].join(","),
            match header[older] {
                "kind" => "every holder is read as a manufacturer",
                _ => "every stock line is read as leaving without crew (0 per unit)",
            }
        ));
    }
    Some(found.len())
}

/// What `load_suppliers` read: the suppliers it kept, their ids, and the rows it refused.
#[derive(Default)]
pub(super) struct LoadedSuppliers {
    pub suppliers: Vec<Supplier>,
    pub ids: HashMap<Id, SupplierIdx>,
    /// Ids of rows that were refused for another reason than their id, with their line: the
    /// stock lines of such a supplier point at this line once instead of each reporting an
    /// unknown supplier.
    pub refused: HashMap<String, u32>,
    /// The suppliers file's name, for those pointers.
    pub file_name: String,
}

pub(super) fn load_suppliers(
    file: &SourceFile,
    lookups: &Lookups<'_>,
    problems: &mut Problems,
    notes: &mut Vec<String>,
) -> LoadedSuppliers {
    let mut loaded = LoadedSuppliers { file_name: file.name.clone(), ..LoadedSuppliers::default() };
    let Some(mut rows) = Rows::open(file, &SUPPLIERS_HEADER, problems, notes) else {
        return loaded;
    };
    let LoadedSuppliers { suppliers, ids, refused, .. } = &mut loaded;
    while rows.next(problems) {
        if !rows.has_every_field(problems) {
            continue;
        }
        if suppliers.len() >= SUPPLIERS_MAX {
            problems.push(
                &file.name,
                rows.line,
                None,
                format!("more than {SUPPLIERS_MAX} suppliers"),
            );
            break;
        }
        let id = supplier_id(&rows, problems, ids);
        let name = supplier_name(&rows, problems);
        let place = lookups.place_ids.get(rows.field(2)).copied();
        if place.is_none() {
            rows.report(problems, 2, "place_id", format!("unknown place {:?}", rows.field(2)));
        }
        let base = supplier_base(&rows, problems, lookups, place);
        let location = supplier_location(&rows, problems);
        let certifications = supplier_certifications(&rows, problems, lookups);
        let reliability = rows.number(problems, 7, "reliability", 1.0);
        let kind = holder_kind(&rows, problems);
        let (
            Some(id),
            Some(name),
            Some(place),
            Some(base),
            Some(location),
            Some(certifications),
            Some(reliability),
            Some(kind),
        ) = (id, name, place, base, location, certifications, reliability, kind)
        else {
            if let Ok(id) = Id::parse(rows.field(0)) {
                if !ids.contains_key(&id) && refused.len() < REFUSED_SUPPLIERS_TRACKED_MAX {
                    refused.entry(id.as_str().to_owned()).or_insert(rows.line);
                }
            }
            continue;
        };
        ids.insert(id.clone(), SupplierIdx(suppliers.len() as u32));
        suppliers.push(Supplier {
            id,
            name: name.to_owned(),
            place,
            base,
            location,
            certifications,
            reliability,
            kind,
        });
    }
    loaded
}

/// A row's supplier id: valid and not given by an earlier row.
fn supplier_id(
    rows: &Rows<'_>,
    problems: &mut Problems,
    ids: &HashMap<Id, SupplierIdx>,
) -> Option<Id> {
    match Id::parse(rows.field(0)) {
        Ok(id) if ids.contains_key(&id) => {
            rows.report(
                problems,
                0,
                "supplier_id",
                format!("duplicate supplier id {:?}", id.as_str()),
            );
            None
        }
        Ok(id) => Some(id),
        Err(error) => {
            rows.report(problems, 0, "supplier_id", error);
            None
        }
    }
}

/// A row's supplier name, trimmed: 1 to `SUPPLIER_NAME_BYTES_MAX` bytes.
fn supplier_name<'r>(rows: &'r Rows<'_>, problems: &mut Problems) -> Option<&'r str> {
    let name = rows.field(1).trim();
    if name.is_empty() || name.len() > SUPPLIER_NAME_BYTES_MAX {
        rows.report(problems, 1, "name", format!("must be 1 to {SUPPLIER_NAME_BYTES_MAX} bytes"));
        return None;
    }
    Some(name)
}

/// A row's certifications (`;`-separated), each declared in the taxonomy; None when one is not
/// (every unknown one reported).
fn supplier_certifications(
    rows: &Rows<'_>,
    problems: &mut Problems,
    lookups: &Lookups<'_>,
) -> Option<CertSet> {
    let mut certifications = CertSet::default();
    let mut known = true;
    for cert in rows.field(6).split(';').map(str::trim).filter(|cert| !cert.is_empty()) {
        match lookups.cert_ids.get(cert) {
            Some(idx) => certifications.insert(*idx),
            None => {
                rows.report(
                    problems,
                    6,
                    "certifications",
                    format!("unknown certification {cert:?}"),
                );
                known = false;
            }
        }
    }
    known.then_some(certifications)
}

/// A supplier row's demonstration base: `Some(None)` when it has none, `None` when the field
/// is refused (reported).
fn supplier_base(
    rows: &Rows<'_>,
    problems: &mut Problems,
    lookups: &Lookups<'_>,
    place: Option<PlaceIdx>,
) -> Option<Option<PlaceIdx>> {
    match rows.field(3) {
        "" => Some(None),
        base_id => match lookups.place_ids.get(base_id) {
            Some(base) if lookups.places[base.0 as usize].kind != PlaceKind::DemonstrationBase => {
                rows.report(
                    problems,
                    3,
                    "base_id",
                    format!("{base_id:?} is not a demonstration base"),
                );
                None
            }
            Some(base) if place.is_some() && lookups.places[base.0 as usize].host != place => {
                rows.report(
                    problems,
                    3,
                    "base_id",
                    format!("base {base_id:?} does not belong to place {:?}", rows.field(2)),
                );
                None
            }
            Some(base) => Some(Some(*base)),
            None => {
                rows.report(
                    problems,
                    3,
                    "base_id",
                    format!("unknown demonstration base {base_id:?}"),
                );
                None
            }
        },
    }
}

/// A supplier row's latitude and longitude, or `None` (reported).
fn supplier_location(rows: &Rows<'_>, problems: &mut Problems) -> Option<LatLon> {
    let latitude = rows.field(4).trim().parse::<f64>();
    let longitude = rows.field(5).trim().parse::<f64>();
    match (latitude, longitude) {
        (Ok(lat), Ok(lon)) => match LatLon::new(lat, lon) {
            Ok(location) => Some(location),
            Err(message) => {
                let idx = if message.starts_with("latitude") { 4 } else { 5 };
                rows.report(
                    problems,
                    idx,
                    SUPPLIERS_HEADER[idx],
                    format!("coordinate out of range: {message}"),
                );
                None
            }
        },
        (Err(_), _) => {
            rows.report(problems, 4, "latitude", format!("{:?} is not a number", rows.field(4)));
            None
        }
        (_, Err(_)) => {
            rows.report(problems, 5, "longitude", format!("{:?} is not a number", rows.field(5)));
            None
        }
    }
}

/// A supplier row's holder kind (`manufacturer` for a file without the column), or `None`
/// (reported).
fn holder_kind(rows: &Rows<'_>, problems: &mut Problems) -> Option<HolderKind> {
    if rows.width > 8 {
        let text = rows.field(8).trim();
        let kind = HolderKind::parse(text);
        if kind.is_none() {
            let kinds: Vec<&str> = HolderKind::ALL.iter().map(|k| k.key()).collect();
            rows.report(
                problems,
                8,
                "kind",
                format!("{text:?} is not a holder kind: use one of {}", kinds.join(", ")),
            );
        }
        kind
    } else {
        Some(HolderKind::Manufacturer)
    }
}

/// A stock line as read, with its category: the catalog groups lines by category and then
/// keeps only the `StockLine`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CategoryLine {
    pub category: CategoryIdx,
    pub line: StockLine,
}

pub(super) fn load_stock_lines(
    file: &SourceFile,
    lookups: &Lookups<'_>,
    suppliers: &LoadedSuppliers,
    problems: &mut Problems,
    notes: &mut Vec<String>,
) -> Vec<CategoryLine> {
    let supplier_ids = &suppliers.ids;
    // Per refused supplier row met here: the first stock line that names it, and how many do.
    let mut of_refused: HashMap<&str, (u32, u32, u32)> = HashMap::new();
    let mut lines = Vec::new();
    // Line numbers of accepted rows, to locate duplicates found after sorting.
    let mut line_numbers: Vec<u32> = Vec::new();
    let Some(mut rows) = Rows::open(file, &STOCK_LINES_HEADER, problems, notes) else {
        return lines;
    };
    // Parsing ids through `Id` would allocate per row; look suppliers up by &str instead.
    let supplier_by_str: HashMap<&str, SupplierIdx> =
        supplier_ids.iter().map(|(id, idx)| (id.as_str(), *idx)).collect();
    while rows.next(problems) {
        if !rows.has_every_field(problems) {
            continue;
        }
        if lines.len() >= STOCK_LINES_MAX {
            problems.push(
                &file.name,
                rows.line,
                None,
                format!("more than {STOCK_LINES_MAX} stock lines"),
            );
            break;
        }
        let supplier =
            stock_line_supplier(&rows, &supplier_by_str, suppliers, &mut of_refused, problems);
        let Some(line) = stock_line_fields(&rows, supplier, lookups, problems) else {
            continue;
        };
        lines.push(line);
        line_numbers.push(rows.line);
    }
    report_refused_suppliers(&file.name, suppliers, of_refused, problems);
    drop_duplicates(&file.name, &mut lines, &line_numbers, problems);
    lines
}

/// The supplier a stock line names. A supplier whose own row was refused is counted for one
/// problem on its first stock line (`report_refused_suppliers`), not reported on each.
/// A stock line row with its supplier (`None`: already reported), or nothing once the
/// problems of its other fields are reported, in column order.
fn stock_line_fields(
    rows: &Rows<'_>,
    supplier: Option<SupplierIdx>,
    lookups: &Lookups<'_>,
    problems: &mut Problems,
) -> Option<CategoryLine> {
    let category = lookups.category_ids.get(rows.field(1)).copied();
    if category.is_none() {
        rows.report(problems, 1, "category_id", format!("unknown category {:?}", rows.field(1)));
    }
    let on_hand = rows.number(problems, 2, "quantity_on_hand", STOCK_QUANTITY_MAX);
    let surge = rows.number(problems, 3, "surge_per_day", STOCK_QUANTITY_MAX);
    let lead = rows.number(problems, 4, "lead_time_hours", LEAD_TIME_HOURS_MAX);
    let crew = if rows.width > 5 {
        rows.whole(problems, 5, "crew_per_unit", CREW_PER_UNIT_MAX)
    } else {
        Some(0)
    };
    let line = StockLine {
        supplier: supplier?,
        quantity_on_hand: on_hand?,
        surge_per_day: surge?,
        lead_time_hours: lead?,
        crew_per_unit: crew?,
    };
    Some(CategoryLine { category: category?, line })
}

fn stock_line_supplier<'s>(
    rows: &Rows<'_>,
    supplier_by_str: &HashMap<&str, SupplierIdx>,
    suppliers: &'s LoadedSuppliers,
    of_refused: &mut HashMap<&'s str, (u32, u32, u32)>,
    problems: &mut Problems,
) -> Option<SupplierIdx> {
    let supplier = supplier_by_str.get(rows.field(0)).copied();
    if supplier.is_none() {
        match suppliers.refused.get_key_value(rows.field(0)) {
            Some((id, _)) => {
                let (line, column) = (rows.line, rows.column(0));
                of_refused.entry(id.as_str()).or_insert((line, column, 0)).2 += 1;
            }
            None => rows.report(
                problems,
                0,
                "supplier_id",
                format!("unknown supplier {:?}", rows.field(0)),
            ),
        }
    }
    supplier
}

/// One problem per refused supplier row that stock lines named (on the first of them, with
/// their count and where the supplier row is), in file order: not one per stock line.
fn report_refused_suppliers(
    file_name: &str,
    suppliers: &LoadedSuppliers,
    of_refused: HashMap<&str, (u32, u32, u32)>,
    problems: &mut Problems,
) {
    let mut refused: Vec<(&str, (u32, u32, u32))> = of_refused.into_iter().collect();
    refused.sort_unstable_by_key(|(_, (line, _, _))| *line);
    for (id, (line, column, count)) in refused {
        let plural = if count == 1 { "" } else { "s" };
        problems.push(
            file_name,
            line,
            Some(column),
            format!(
                "supplier_id: supplier {id:?} was not loaded (see {}:{}): its {count} stock line{plural} skipped",
                suppliers.file_name, suppliers.refused[id]
            ),
        );
    }
}

/// Reports and drops every stock line whose (supplier, category) an earlier line of the file
/// already gave.
fn drop_duplicates(
    file_name: &str,
    lines: &mut Vec<CategoryLine>,
    line_numbers: &[u32],
    problems: &mut Problems,
) {
    // Duplicates of (supplier, category): sort a permutation, compare neighbours.
    let mut order: Vec<u32> = (0..lines.len() as u32).collect();
    order.sort_unstable_by_key(|&i| {
        let row = &lines[i as usize];
        (row.line.supplier, row.category, line_numbers[i as usize])
    });
    let mut duplicate = vec![false; lines.len()];
    for pair in order.windows(2) {
        let (first, second) = (&lines[pair[0] as usize], &lines[pair[1] as usize]);
        if first.line.supplier == second.line.supplier && first.category == second.category {
            duplicate[pair[1] as usize] = true;
            problems.push(
                file_name,
                line_numbers[pair[1] as usize],
                Some(1),
                format!(
                    "duplicate stock line: this supplier already lists this category on line {}",
                    line_numbers[pair[0] as usize]
                ),
            );
        }
    }
    if duplicate.iter().any(|d| *d) {
        let mut keep = duplicate.iter().map(|d| !d);
        lines.retain(|_| keep.next().unwrap_or(false));
    }
}
