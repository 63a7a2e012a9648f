import { describe, expect, it } from 'vitest';
import { binaryArrayCasts, withArrayParameters } from './array-literal.js';

describe('binaryArrayCasts', () => {
  it('takes the parameters a statement casts to an array of a type written in binary, by position', () => {
    const casts = binaryArrayCasts('select * from unnest($1::text[], $2::TIMESTAMPTZ[], $3::bool[], $4::int[], $5::bigint[], $6::date[], $7::jsonb[]) where $8 = 1 and $10::text[] is null');
    expect([...casts]).toEqual([[0, 'text'], [1, 'timestamptz'], [2, 'bool'], [3, 'int'], [4, 'bigint'], [9, 'text']]);
  });

  it('leaves out a parameter cast two ways, or to a scalar', () => {
    expect([...binaryArrayCasts('select $1::text[], $1::text[], $2::text[], $2::bigint[], $3::text, $4::text[], $4::text')]).toEqual([[0, 'text']]);
  });
});

describe('withArrayParameters', () => {
  it('sends in binary only what the statement casts and the values fit, else the literal, else the value', () => {
    const [binary, literal, dates, scalar, nested] = withArrayParameters(
      [['a', null], ['b'], ['not a date'], 'c', [[1]]],
      new Map([[0, 'text'], [2, 'timestamptz'], [4, 'int']] as const),
    );
    expect(Buffer.isBuffer(binary)).toBe(true);
    expect(literal).toBe('{"b"}');
    expect(dates).toBe('{"not a date"}');
    expect(scalar).toBe('c');
    expect(nested).toEqual([[1]]);
  });
});
