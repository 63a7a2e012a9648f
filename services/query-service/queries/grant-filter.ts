import type { Visibility } from '../policy.js';

/** What a query asks for: one organization, and some of its mentors or (null) all of them. */
export interface Target {
  orgId: string;
  mentorIds: string[] | null;
}

/**
 * A query's target cut down to what the caller may read: the grant's visibility, not only the
 * route's check, bounds every read, so a route whose check went missing still could not leak.
 * `mentorIds` [] means nothing is visible.
 */
export function restrict(visibility: Visibility, target: Target): Target {
  if (visibility.kind === 'platform') return target;
  if (visibility.orgId !== target.orgId) return { orgId: target.orgId, mentorIds: [] };
  if (visibility.kind === 'org') return target;
  return { orgId: target.orgId, mentorIds: (target.mentorIds ?? visibility.mentorIds).filter((m) => visibility.mentorIds.includes(m)) };
}
