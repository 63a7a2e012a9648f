import type { Pool, PoolClient } from 'pg';

/** Anything that runs a query: the pool (one statement) or a client inside a transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;
