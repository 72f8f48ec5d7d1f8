// CSV as spreadsheets read it (RFC 4180: CRLF line ends, quotes doubled, fields with a comma,
// quote or line break quoted). Pure, so node's test runner checks it.

function cell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  // A leading = + - @ would be taken as a formula by spreadsheets: prefix a quote mark.
  const safe = /^[=+\-@]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** header: [string]; rows: [[value]]. */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}
