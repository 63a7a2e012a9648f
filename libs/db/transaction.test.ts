import type { Pool, PoolClient } from 'pg';
import { describe, expect, it } from 'vitest';
import { inTransaction, rollBack } from './transaction.js';

/** A pool of one fake connection that records the statements sent and how it was released; `fails` names statements that throw. */
function fakePool(fails: Record<string, Error> = {}) {
  const sent: string[] = [];
  const released: (Error | boolean | undefined)[] = [];
  const client = {
    async query(text: string) {
      sent.push(text);
      const failure = fails[text];
      if (failure) throw failure;
      return { rows: [], rowCount: 0 };
    },
    release(err?: Error | boolean) {
      released.push(err);
    },
  };
  const pool = { connect: async () => client as unknown as PoolClient } as Pick<Pool, 'connect'>;
  return { pool, sent, released };
}

describe('inTransaction', () => {
  it('opens with the given text, runs the work, commits, returns what the work returned and gives the connection back', async () => {
    const db = fakePool();
    const result = await inTransaction(db.pool, async (client) => {
      await client.query('insert 1');
      return 42;
    }, { begin: 'begin; select lock()' });
    expect(result).toBe(42);
    expect(db.sent).toEqual(['begin; select lock()', 'insert 1', 'commit']);
    expect(db.released).toEqual([undefined]);
  });

  it('opens with a bare begin by default', async () => {
    const db = fakePool();
    await inTransaction(db.pool, async () => undefined);
    expect(db.sent).toEqual(['begin', 'commit']);
  });

  it('rolls back when the work fails, throws its error, and gives the connection back', async () => {
    const db = fakePool();
    const failure = new Error('work failed');
    await expect(inTransaction(db.pool, async (client) => {
      await client.query('insert 1');
      throw failure;
    })).rejects.toBe(failure);
    expect(db.sent).toEqual(['begin', 'insert 1', 'rollback']);
    expect(db.released).toEqual([undefined]);
  });

  it('rolls back when the commit fails, and throws the commit error', async () => {
    const commitFailed = new Error('serialization failure');
    const db = fakePool({ commit: commitFailed });
    await expect(inTransaction(db.pool, async () => 1)).rejects.toBe(commitFailed);
    expect(db.sent).toEqual(['begin', 'commit', 'rollback']);
    expect(db.released).toEqual([undefined]);
  });

  it('discards a connection that cannot roll back: released with the rollback error, the work error thrown', async () => {
    const rollbackFailed = new Error('connection terminated');
    const db = fakePool({ rollback: rollbackFailed });
    const failure = new Error('work failed');
    await expect(inTransaction(db.pool, async () => {
      throw failure;
    })).rejects.toBe(failure);
    expect(db.sent).toEqual(['begin', 'rollback']);
    expect(db.released).toEqual([rollbackFailed]);
  });

  it('rolls back instead of committing when the work ends with rollBack, and returns its value', async () => {
    const db = fakePool();
    const result = await inTransaction(db.pool, async (client) => {
      await client.query('select for update');
      return rollBack(false);
    });
    expect(result).toBe(false);
    expect(db.sent).toEqual(['begin', 'select for update', 'rollback']);
    expect(db.released).toEqual([undefined]);
  });

  it('discards the connection when the asked-for rollback fails, and throws', async () => {
    const rollbackFailed = new Error('connection terminated');
    const db = fakePool({ rollback: rollbackFailed });
    await expect(inTransaction(db.pool, async () => rollBack(false))).rejects.toBe(rollbackFailed);
    expect(db.sent).toEqual(['begin', 'rollback', 'rollback']);
    expect(db.released).toEqual([rollbackFailed]);
  });

  it('rolls back when the opening fails, and sends nothing else', async () => {
    const lockFailed = new Error('lock timeout');
    const db = fakePool({ 'begin; select lock()': lockFailed });
    let ran = false;
    await expect(inTransaction(db.pool, async () => {
      ran = true;
    }, { begin: 'begin; select lock()' })).rejects.toBe(lockFailed);
    expect(ran).toBe(false);
    expect(db.sent).toEqual(['begin; select lock()', 'rollback']);
    expect(db.released).toEqual([undefined]);
  });
});
