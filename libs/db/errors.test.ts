import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDataError, isTransient, RefusedByDatabaseError, sqlState } from './errors.js';

/** An error as pg builds it from a server's ErrorResponse. */
const pgError = (code: string, message = 'refused'): pg.DatabaseError => Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code, severity: 'ERROR' });
const socketError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -1, syscall: 'connect' });

describe('classifying Postgres failures', () => {
  it.each([
    ['22007', 'invalid_datetime_format: the "0NaN-NaN-NaN" of an invalid Date'],
    ['22008', 'datetime_field_overflow'],
    ['22003', 'numeric_value_out_of_range'],
    ['22001', 'string_data_right_truncation'],
    ['22021', 'character_not_in_repertoire'],
    ['23502', 'not_null_violation'],
    ['23514', 'check_violation'],
    ['54000', 'program_limit_exceeded: index row size exceeds btree maximum'],
    ['54001', 'statement_too_complex'],
  ])('%s (%s) is a refused value, never transient', (code) => {
    expect(isDataError(pgError(code))).toBe(true);
    expect(isTransient(pgError(code))).toBe(false);
  });

  it.each([
    ['08006', 'connection_failure'],
    ['08003', 'connection_does_not_exist'],
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
    ['57P01', 'admin_shutdown (pg_terminate_backend)'],
    ['57P03', 'cannot_connect_now'],
    ['53300', 'too_many_connections'],
    ['53100', 'disk_full'],
    ['55P03', 'lock_not_available'],
    ['57014', 'query_canceled by a statement timeout'],
  ])('%s (%s) is transient, never a refused value', (code) => {
    expect(isTransient(pgError(code))).toBe(true);
    expect(isDataError(pgError(code))).toBe(false);
  });

  it('unique, foreign key and exclusion violations depend on other rows: neither, so retried and never dead-lettered', () => {
    for (const code of ['23505', '23503', '23P01', '23001']) {
      expect(isDataError(pgError(code))).toBe(false);
      expect(isTransient(pgError(code))).toBe(false);
    }
  });

  it('a bug (an unknown column, a syntax error) is neither: retried, never dead-lettered', () => {
    for (const code of ['42703', '42601', '42P01', 'XX000']) {
      expect(isDataError(pgError(code))).toBe(false);
      expect(isTransient(pgError(code))).toBe(false);
    }
  });

  it('a lost or refused connection is transient, though it carries no SQLSTATE', () => {
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isTransient(new Error('timeout exceeded when trying to connect'))).toBe(true);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      expect(isTransient(socketError(code))).toBe(true);
      expect(isDataError(socketError(code))).toBe(false);
      expect(sqlState(socketError(code))).toBeNull(); // EPIPE has five letters, but no server said it
    }
  });

  it('finds the SQLSTATE in an error that wraps the database error', () => {
    const wrapped = new Error('applying the batch failed', { cause: pgError('23514') });
    expect(sqlState(wrapped)).toBe('23514');
    expect(isDataError(wrapped)).toBe(true);
  });

  it('other errors are neither', () => {
    expect(isDataError(new Error('boom'))).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
    expect(isDataError(undefined)).toBe(false);
    expect(isTransient('a string')).toBe(false);
  });

  it('a refusal carries the database message and its SQLSTATE, under a class name of its own', () => {
    const refused = new RefusedByDatabaseError(pgError('23514', 'new row for relation "registrations" violates check constraint "test_refuse"'));
    expect(refused.name).toBe('RefusedByDatabaseError');
    expect(refused.sqlState).toBe('23514');
    expect(refused.message).toBe('new row for relation "registrations" violates check constraint "test_refuse" (SQLSTATE 23514)');
  });
});
