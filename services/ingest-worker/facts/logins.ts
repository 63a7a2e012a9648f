import type { UserLoggedIn } from '../../../libs/events/types.generated.js';
import { ALREADY_STORED, storedNow, type FactsContext } from './tx.js';

/** Stores new logins (a login may arrive before its registration); returns their users. */
export async function insertLogins(ctx: FactsContext, logins: UserLoggedIn[]): Promise<string[]> {
  if (logins.length === 0) return [];
  const { rows } = await ctx.tx.query<{ event_id: string }>(
    `with inserted as (
       insert into logins (event_id, user_id, occurred_at)
       select * from unnest($1::text[], $2::text[], $3::timestamptz[])
       on conflict (event_id) do nothing returning event_id)
     ${ALREADY_STORED}`,
    [logins.map((l) => l.eventId), logins.map((l) => l.userId), logins.map((l) => new Date(l.occurredAt))],
  );
  const stored = storedNow(logins, (l) => l.eventId, rows);
  ctx.effects.note('duplicate', logins.length - stored.length);
  return [...new Set(stored.map((l) => l.userId))];
}
