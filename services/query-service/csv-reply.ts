import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvDocument, csvLine, type CsvCell } from './csv.js';
import type { CsvTable } from './csv-tables.js';
import { CSV_MAX_ROWS, MAX_PAGE } from './schemas.js';
import { acceptWeights, addVary } from './encoding.js';

/**
 * Whether the caller asked for CSV: `format=csv`, or, without `format`, an Accept header that
 * ranks text/csv above application/json (a browser's default Accept, and `*\/*`, get JSON).
 */
export function wantsCsv(request: FastifyRequest): boolean {
  const format = (request.query as { format?: string } | undefined)?.format;
  if (format !== undefined) return format === 'csv';
  const accept = request.headers.accept;
  if (typeof accept !== 'string' || !accept.includes('csv')) return false;
  const weights = acceptWeights(accept);
  const csv = weights.get('text/csv') ?? 0;
  const json = weights.get('application/json') ?? 0;
  return csv > 0 && csv >= json;
}

/** The headers of a CSV answer: its type, and a download name from the route (`mentor-performance-coord-a.csv`). */
function csvHeaders(reply: FastifyReply, name: string): FastifyReply {
  const file = name.replace(/[^\w.-]+/g, '_').slice(0, 120);
  return addVary(reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file}.csv"`), 'accept');
}

/** A summary as CSV: computed as JSON, flattened (csv-tables.ts), sent whole. */
export function sendCsvTable(reply: FastifyReply, name: string, table: CsvTable): FastifyReply {
  return csvHeaders(reply, name).send(csvDocument(table.header, table.rows));
}

/** One page of a list and where the next begins. */
export type PageOf<T> = (cursor: string | undefined, limit: number) => Promise<{ items: T[]; nextCursor: string | null }>;

/**
 * A list as CSV, streamed: the header, then its pages (MAX_PAGE rows each) from `cursor` until
 * the last page or CSV_MAX_ROWS rows. The first page is read before anything is sent, so a
 * bad cursor is still a 400; the request keeps its place among the requests in flight until
 * the stream ends (fair use), and a client that hangs up stops the reading.
 */
export async function sendCsvList<T>(reply: FastifyReply, name: string, header: string[], row: (item: T) => CsvCell[], page: PageOf<T>, cursor: string | undefined): Promise<FastifyReply> {
  const first = await page(cursor, Math.min(MAX_PAGE, CSV_MAX_ROWS));
  async function* lines() {
    yield csvLine(header);
    let current = first;
    let sent = 0;
    for (;;) {
      const items = current.items.slice(0, CSV_MAX_ROWS - sent);
      if (items.length > 0) yield items.map((item) => csvLine(row(item))).join('');
      sent += items.length;
      if (current.nextCursor === null || sent >= CSV_MAX_ROWS || reply.raw.destroyed) return;
      current = await page(current.nextCursor, Math.min(MAX_PAGE, CSV_MAX_ROWS - sent));
    }
  }
  return csvHeaders(reply, name).header('x-csv-max-rows', String(CSV_MAX_ROWS)).send(Readable.from(lines(), { objectMode: false }));
}
