import type { CoordinatorScope } from '../events/types.generated.js';

/**
 * Whether scope `a` replaces scope `b` of the same coordinator in the same organization: the newest updatedAt wins; two
 * versions with the same updatedAt are ordered by their content, so the winner never depends
 * on which arrived last.
 */
export function supersedes(a: CoordinatorScope, b: CoordinatorScope): boolean {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  return scopeContent(a) > scopeContent(b);
}

const scopeContent = (s: CoordinatorScope): string => JSON.stringify([s.orgId, s.mentorIds]);

/**
 * A scope's key: the coordinator in one organization. Ids are an organization's own, so a scope
 * published by one organization never replaces another organization's scope of the same id.
 */
export const scopeKey = (s: Pick<CoordinatorScope, 'orgId' | 'coordinatorId'>): string => `${s.orgId}\u0000${s.coordinatorId}`;

/** The newest scope per coordinator and organization among `scopes`. */
export function newestScopes(scopes: Iterable<CoordinatorScope>): CoordinatorScope[] {
  const newest = new Map<string, CoordinatorScope>();
  for (const s of scopes) {
    const seen = newest.get(scopeKey(s));
    if (!seen || supersedes(s, seen)) newest.set(scopeKey(s), s);
  }
  return [...newest.values()];
}
