/**
 * A small RFC 4180 encoder: fields separated by commas, records by CRLF, a field quoted when it
 * holds a comma, a quote, CR or LF (its quotes doubled). null and undefined are empty fields;
 * numbers are written as JavaScript writes them (unformatted: 0.25, never "25 %").
 *
 * A text cell that a spreadsheet would run as a formula (it begins with =, +, -, @, a tab or a
 * CR) is written with a leading apostrophe, so a display name like `=HYPERLINK(…)` reaches the
 * sheet as text (CSV formula injection, OWASP). Numbers are never touched: -3 stays -3.
 *
 * A spreadsheet whose locale separates lists with semicolons (Excel in Norwegian, German,
 * French…) opens a comma-separated file by splitting each line at its semicolons, quotes or not,
 * so a name like `Kari;=1+1` would begin a cell of its own with `=1+1` (and a line break
 * inside quotes, which such a reader does not see as quotes, a row of its own). A semicolon or
 * line break followed by a formula's first character gets the same apostrophe after it:
 * `Kari;'=1+1`.
 */
export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const FORMULA_INSIDE = /([;\r\n])(?=[=+\-@\t\r])/g;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const guarded = value.replace(FORMULA_INSIDE, "$1'");
  const text = FORMULA_START.test(guarded) ? `'${guarded}` : guarded;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, with its CRLF. */
export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A whole document: the header row, then the rows. */
export function csvDocument(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
  let out = csvLine(header);
  for (const row of rows) out += csvLine(row);
  return out;
}

/**
 * The reverse, for tests and clients: records of fields, quotes undone (RFC 4180, CRLF or LF
 * line ends). It does not undo the formula guard: a guarded cell reads back with its apostrophe.
 * `separator` reads the text as a program set to another list separator would.
 */
export function parseCsv(text: string, separator = ','): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === separator) {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else field += c;
    i++;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}
