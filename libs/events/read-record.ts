import type avro from 'avsc';
import { PoisonRecordError } from './poison-record-error.js';
import { compileAvroScan } from './scan-avro.js';

/** Reads one record's Avro binary (no wire header) as the reader schema; throws PoisonRecordError for bytes that never decode. */
export type RecordReader = (body: Buffer) => unknown;

/**
 * A reader for bytes written with `writer`, giving values of `reader` (through a resolver when
 * the two differ). Every body is first scanned against the writer schema (scan-avro.ts), so
 * avsc never allocates for a length or count the bytes do not carry; avsc then refuses
 * whatever else is wrong, leftover bytes included. Built once per writer schema.
 */
export function createRecordReader(reader: avro.Type, writer: avro.Type): RecordReader {
  const scan = compileAvroScan(writer);
  let resolver: avro.Resolver | null = null;
  if (!reader.equals(writer)) {
    try {
      resolver = reader.createResolver(writer);
    } catch (err) {
      throw new PoisonRecordError((err as Error).message, { cause: err });
    }
  }
  return (body) => {
    scan(body);
    try {
      return resolver ? reader.fromBuffer(body, resolver) : reader.fromBuffer(body);
    } catch (err) {
      throw new PoisonRecordError((err as Error).message, { cause: err });
    }
  };
}
