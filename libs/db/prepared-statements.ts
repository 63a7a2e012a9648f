import { createHash } from 'node:crypto';
import type { Queryable } from './queryable.js';
import { withArrayLiterals } from './array-literal.js';

const NAMES_MAX = 1_000;

/** Names statements by a digest of their text, remembering the few dozen texts a service sends. */
export function statementNames(): (text: string) => string {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= NAMES_MAX) names.clear();
      name = `q_${createHash('sha1').update(text).digest('base64url')}`;
      names.set(text, name);
    }
    return name;
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
 * parameters are written as literals here (see arrayLiteral).
 */
export function preparedStatements(db: Queryable, nameOf: (text: string) => string = statementNames()): Queryable {
  return {
    query: ((text: string, values?: unknown[]) => db.query({ name: nameOf(text), text, ...(values ? { values: withArrayLiterals(values) } : {}) })) as Queryable['query'],
  };
}
