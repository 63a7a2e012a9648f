import { describe, expect, it } from 'vitest';
import { csvCell, csvDocument, parseCsv } from './csv.js';

describe('csv (RFC 4180)', () => {
  it('writes plain cells as they are and empty cells for null', () => {
    expect(csvDocument(['a', 'b', 'c', 'd'], [['x', 3, null, 0.25], [undefined, -3, true, '']])).toBe('a,b,c,d\r\nx,3,,0.25\r\n,-3,true,\r\n');
  });

  it('quotes a cell with a comma, a quote, CR or LF, doubling its quotes', () => {
    expect(csvCell('Nordmann, Kari')).toBe('"Nordmann, Kari"');
    expect(csvCell('say "hei"')).toBe('"say ""hei"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
  });

  it('guards cells a spreadsheet would run as a formula with a leading apostrophe, never numbers', () => {
    expect(['=1+1', '+47 123', '-2', '@SUM(A1)', '\tx'].map(csvCell)).toEqual(["'=1+1", "'+47 123", "'-2", "'@SUM(A1)", "'\tx"]);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('guards what follows a semicolon or a line break too, so a spreadsheet that splits lines at semicolons finds no formula in any cell', () => {
    expect(csvCell('Kari;=1+1;x')).toBe("Kari;'=1+1;x");
    expect(csvCell('=a;@b;+c;-d;\te;ok;')).toBe("'=a;'@b;'+c;'-d;'\te;ok;");
    expect(csvCell('Kari; Nordmann')).toBe('Kari; Nordmann');
    expect(csvCell('two\n=lines')).toBe('"two\n\'=lines"');
    const names = ['Kari;=1+1;x', 'a,"b;=c"', ';;=HYPERLINK("http://x")', 'x;\r=1', 'a\r\n@b'];
    const document = csvDocument(['id', 'name', 'link'], names.map((name, i) => [`u-${i}`, name, `=l-${i}`]));
    // Read back as an RFC 4180 reader does: every name as it was, but for the apostrophes.
    expect(parseCsv(document).slice(1).map((r) => r[1]!.replaceAll("'", ''))).toEqual(names);
    // Read as a semicolon-separated sheet: no cell starts like a formula.
    const cells = parseCsv(document, ';').flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
  });

  it('reads back what it wrote, quotes, commas and line breaks included', () => {
    const rows = [['Ø, "å"', 'line\r\nbreak', ''], ['', 'x', 'æ']];
    expect(parseCsv(csvDocument(['h1', 'h2', 'h3'], rows))).toEqual([['h1', 'h2', 'h3'], ...rows]);
    expect(parseCsv('a,b\nc,d')).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('writes no cell for a number that is not finite', () => {
    expect([Number.NaN, Number.POSITIVE_INFINITY].map(csvCell)).toEqual(['', '']);
  });
});
