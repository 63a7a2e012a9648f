import type pg from 'pg';

/** The part of pg's connection a COPY FROM STDIN needs (pg's own messages; @types/pg leaves them out). */
interface Wire {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const CHUNK_BYTES = 256 * 1024;

/**
 * Runs `COPY ... FROM STDIN` on a pg client with rows already in COPY text format; resolves
 * with the number of rows copied. It is a pg "submittable", the hook pg-copy-streams is built
 * on, in its smallest form: the statement goes out, Postgres answers CopyInResponse, the text
 * goes out as CopyData messages and CopyDone, and the statement completes (or fails, e.g. on a
 * key already present) like any other. In a transaction when the client is in one.
 */
export function copyIn(client: pg.ClientBase, statement: string, text: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let rows = 0;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(rows);
    };
    const submittable = {
      submit(connection: Wire) {
        connection.query(statement);
      },
      handleCopyInResponse(connection: Wire) {
        const data = Buffer.from(text, 'utf8');
        for (let at = 0; at < data.length; at += CHUNK_BYTES) connection.sendCopyFromChunk(data.subarray(at, at + CHUNK_BYTES));
        connection.endCopyFrom();
      },
      handleCommandComplete(message: { text: string }) {
        rows = Number(message.text.split(' ')[1] ?? 0);
      },
      handleReadyForQuery() {
        settle(null);
      },
      handleError(err: Error) {
        settle(err);
      },
      // Answers a COPY FROM never brings; pg may still look for the handlers.
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyData() {},
    };
    client.query(submittable as unknown as pg.Submittable);
  });
}

/** A value in COPY text format (null is \N; tab, newline, carriage return and backslash escaped). */
export const copyValue = (v: string | number | boolean | null | undefined): string =>
  v === null || v === undefined ? '\\N' : typeof v === 'string' ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\\\')) : typeof v === 'boolean' ? (v ? 't' : 'f') : String(v);

/** An instant (epoch ms) in COPY text format. */
export const copyInstant = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '\\N' : new Date(ms).toISOString());

/** A text[] in COPY text format: every element quoted, so any string is safe. */
export const copyTextArray = (values: readonly string[]): string => copyValue(`{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`);
