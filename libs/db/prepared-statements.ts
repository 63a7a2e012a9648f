import { createHash } from 'node:crypto';
import type { Queryable } from './queryable.js';
import { binaryArrayCasts, withArrayParameters, type BinaryElement } from './array-literal.js';

const SHAPES_MAX = 1_000;

/** A statement's name (a digest of its text) and its parameters sent as binary arrays (see withArrayParameters). */
export interface StatementShape {
  name: string;
  binary: ReadonlyMap<number, BinaryElement>;
}

/** Names statements by a digest of their text, remembering the few dozen texts a service sends with what their casts say. */
export function statementShapes(): (text: string) => StatementShape {
  const shapes = new Map<string, StatementShape>();
  return (text) => {
    let shape = shapes.get(text);
    if (shape === undefined) {
      if (shapes.size >= SHAPES_MAX) shapes.clear();
      shape = { name: `q_${createHash('sha1').update(text).digest('base64url')}`, binary: binaryArrayCasts(text) };
      shapes.set(text, shape);
    }
    return shape;
  };
}

/**
 * The pool or client, with every statement sent as a named prepared statement (named by a
 * digest of its text): each connection parses and plans a text once and afterwards only binds
 * and executes it. For the query service that took about 40% off Postgres's CPU for a route's
 * two short queries (measured on a copy of the bench database); for the ingest worker, whose
 * transaction sends some thirty statements however few events a fetch brings, it spares the
 * parsing and planning of every one of them at a steady rate. Plans stay custom where the
 * parameters matter (Postgres compares the generic plan's cost with the custom ones' and keeps
 * custom plans for the `$1 is null or` filters), and a renamed or rebuilt table is resolved
 * again by name. The texts are the modules' own, so there are a few dozen of them. Array
 * parameters are sent in binary where the text casts them to an array type, else as text
 * literals (see withArrayParameters).
 */
export function preparedStatements(db: Queryable, shapeOf: (text: string) => StatementShape = statementShapes()): Queryable {
  return {
    query: ((text: string, values?: unknown[]) => {
      const { name, binary } = shapeOf(text);
      return db.query({ name, text, ...(values ? { values: withArrayParameters(values, binary) } : {}) });
    }) as Queryable['query'],
  };
}
