import type { CoordinatorScope } from '../events/types.generated.js';

/**
 * Whether scope `a` replaces scope `b` of the same coordinator: the newest updatedAt wins; two
 * versions with the same updatedAt are ordered by their content, so the winner never depends
 * on which arrived last.
 */
export function supersedes(a: CoordinatorScope, b: CoordinatorScope): boolean {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  return scopeContent(a) > scopeContent(b);
}

const scopeContent = (s: CoordinatorScope): string => JSON.stringify([s.orgId, s.mentorIds]);

/** The newest scope per coordinator among `scopes`. */
export function newestScopes(scopes: Iterable<CoordinatorScope>): CoordinatorScope[] {
  const newest = new Map<string, CoordinatorScope>();
  for (const s of scopes) {
    const seen = newest.get(s.coordinatorId);
    if (!seen || supersedes(s, seen)) newest.set(s.coordinatorId, s);
  }
  return [...newest.values()];
}
