/** A login of a user. */
export interface LoginFact {
  eventId: string;
  occurredAt: number;
}

/**
 * The login that activates a user: the earliest at or after registration (ties: smallest
 * eventId), whatever order the logins arrived in. Undefined when there is none yet.
 */
export function firstLoginAtOrAfter(logins: readonly LoginFact[], registeredAt: number): LoginFact | undefined {
  let first: LoginFact | undefined;
  for (const l of logins) {
    if (l.occurredAt < registeredAt) continue;
    if (!first || l.occurredAt < first.occurredAt || (l.occurredAt === first.occurredAt && l.eventId < first.eventId)) first = l;
  }
  return first;
}
