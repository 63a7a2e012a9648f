import type { Caller, Role } from './auth.js';
import { ApiError, badParameter } from './errors.js';
import type { ScopeFacts } from './scope-queries.js';

/** What a route addresses, declared by the route; authorize() decides whether the caller may. */
export type Resource =
  | { kind: 'mentor'; mentorId: string; orgId: string | null }
  | { kind: 'coordinator'; coordinatorId: string; orgId: string | null }
  | { kind: 'org'; orgId: string }
  | { kind: 'platform' }
  | { kind: 'recruit' }
  | { kind: 'events' };

/**
 * What the caller may read: every organization, one organization, or some mentors of one
 * organization. Queries take it as a filter (queries/grant-filter.ts), so even a route that
 * forgot a check could not return rows outside it.
 */
export type Visibility = { kind: 'platform' } | { kind: 'org'; orgId: string } | { kind: 'mentors'; orgId: string; mentorIds: string[] };

interface Reader {
  caller: Caller;
  visibility: Visibility;
}

/** The answer of authorize(), one shape per resource: what the caller may see of it. */
export type Grant =
  | (Reader & { resource: 'mentor'; mentorId: string; orgId: string; timezone: string })
  | (Reader & { resource: 'coordinator'; coordinatorId: string; orgId: string; timezone: string; mentorIds: string[] })
  | (Reader & { resource: 'org'; orgId: string; timezone: string })
  | (Reader & { resource: 'platform'; visibility: { kind: 'platform' } })
  | (Reader & { resource: 'recruit' })
  | { resource: 'events'; caller: Caller; writes: string[] | '*' };

export type GrantFor<K extends Grant['resource']> = Extract<Grant, { resource: K }>;

const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
const forbidden = (role: Role) => new ApiError(403, 'forbidden', `role ${role} may not use this route`);

type ScopesOf = ScopeFacts['coordinatorScopes'];

/**
 * What each role may read, one entry per role: a role added to the token roles must get its
 * own entry here (the type demands it) and can never fall into another role's branch. null:
 * the role reads nothing.
 */
const READ_POLICY: { [R in Role]: (caller: Caller & { role: R }, scopesOf: ScopesOf) => Promise<Visibility | null> } = {
  platform_admin: async () => ({ kind: 'platform' }),
  org_admin: async (caller) => ({ kind: 'org', orgId: caller.org as string }),
  mentor: async (caller) => ({ kind: 'mentors', orgId: caller.org as string, mentorIds: [caller.sub] }),
  // A coordinator sees the mentors of their current scope in their token's organization.
  coordinator: async (caller, scopesOf) => {
    const scope = (await scopesOf(caller.sub)).get(caller.org as string);
    return { kind: 'mentors', orgId: caller.org as string, mentorIds: scope?.mentorIds ?? [] };
  },
  service: async () => null,
};

/**
 * The one place scope is enforced (SPEC §5). A role that may never use a route gets 403; an id
 * outside the caller's scope gets the same 404 as an id that does not exist, so answers never
 * reveal what lies outside. The facts it rests on come from `facts` on every request: read
 * from Postgres, or kept by the answer cache until a scope table changes, so a new
 * CoordinatorScope applies as soon as its commit's change notice arrives.
 */
export async function authorize(facts: ScopeFacts, caller: Caller, resource: Resource, defaultTimezone: string): Promise<Grant> {
  if (resource.kind === 'events') {
    if (caller.role !== 'service') throw forbidden(caller.role);
    return { resource: 'events', caller, writes: caller.writes ?? [] };
  }
  // A coordinator reading their own route needs their scopes twice: read them once per request.
  const scopes = new Map<string, ReturnType<ScopesOf>>();
  const scopesOf: ScopesOf = (coordinatorId) => {
    if (!scopes.has(coordinatorId)) scopes.set(coordinatorId, facts.coordinatorScopes(coordinatorId));
    return scopes.get(coordinatorId) as ReturnType<ScopesOf>;
  };
  const policy = READ_POLICY[caller.role] as (caller: Caller, scopesOf: ScopesOf) => Promise<Visibility | null>;
  const visibility = await policy(caller, scopesOf);
  if (visibility === null) throw forbidden(caller.role);
  const reader = { caller, visibility };
  // Timezones come with the scope facts read anyway (a round trip less per request); an
  // organization not among them is asked for on its own.
  const zones = new Map<string, string | null>();
  const timezoneOf = async (orgId: string) => (zones.has(orgId) ? zones.get(orgId) : (await facts.orgFacts(orgId)).timezone) ?? defaultTimezone;

  switch (resource.kind) {
    case 'platform':
      if (visibility.kind !== 'platform') throw forbidden(caller.role);
      return { resource: 'platform', caller, visibility };
    case 'recruit':
      return { resource: 'recruit', ...reader };
    case 'org': {
      if (visibility.kind === 'mentors') throw forbidden(caller.role);
      if (visibility.kind === 'org' && visibility.orgId !== resource.orgId) throw notFound('organization');
      const org = await facts.orgFacts(resource.orgId);
      if (visibility.kind === 'platform' && !org.exists) throw notFound('organization');
      return { resource: 'org', ...reader, orgId: resource.orgId, timezone: org.timezone ?? defaultTimezone };
    }
    case 'mentor': {
      const orgs = await facts.mentorOrgs(resource.mentorId);
      for (const [o, zone] of orgs) zones.set(o, zone);
      const orgId = resolveOrg(caller, { kind: 'mentor', id: resource.mentorId, orgId: resource.orgId }, [...orgs.keys()]);
      if (!orgId || !canSeeMentor(visibility, resource.mentorId, orgId)) throw notFound('mentor');
      return { resource: 'mentor', ...reader, mentorId: resource.mentorId, orgId, timezone: await timezoneOf(orgId) };
    }
    case 'coordinator': {
      if (caller.role === 'mentor') throw forbidden(caller.role);
      if (caller.role === 'coordinator' && caller.sub !== resource.coordinatorId) throw notFound('coordinator');
      const scopes = await scopesOf(resource.coordinatorId);
      const orgId = resolveOrg(caller, { kind: 'coordinator', id: resource.coordinatorId, orgId: resource.orgId }, [...scopes.keys()]);
      const scope = orgId === null ? undefined : scopes.get(orgId);
      const coordinator = { resource: 'coordinator' as const, ...reader, coordinatorId: resource.coordinatorId };
      if (orgId === null || !scope) {
        // A coordinator without a scope yet reads their own (empty) page, in their token's org.
        if (caller.role === 'coordinator' && caller.org && orgId === caller.org) return { ...coordinator, orgId: caller.org, timezone: await timezoneOf(caller.org), mentorIds: [] };
        throw notFound('coordinator');
      }
      if (visibility.kind !== 'platform' && visibility.orgId !== orgId) throw notFound('coordinator');
      return { ...coordinator, orgId, timezone: scope.timezone ?? defaultTimezone, mentorIds: scope.mentorIds };
    }
  }
}

function canSeeMentor(visibility: Visibility, mentorId: string, orgId: string): boolean {
  if (visibility.kind === 'platform') return true;
  if (visibility.orgId !== orgId) return false;
  return visibility.kind === 'org' || visibility.mentorIds.includes(mentorId);
}

/**
 * Which organization a mentor or coordinator route means. Ids are unique per organization only
 * (ids are the upstream's): a mentor's links, a coordinator's scopes may lie in several. The one
 * named by `orgId` if the subject is there, else the caller's own if the subject is there, else
 * the only one. A platform admin addressing a subject of several organizations must name one
 * (400). A mentor without links yet, or a coordinator without a scope yet, still reads their own
 * (empty) page, in their token's organization.
 */
function resolveOrg(caller: Caller, subject: { kind: 'mentor' | 'coordinator'; id: string; orgId: string | null }, orgs: string[]): string | null {
  const own = caller.role === subject.kind && caller.sub === subject.id ? caller.org : null;
  if (subject.orgId !== null) return orgs.includes(subject.orgId) || subject.orgId === own ? subject.orgId : null;
  if (caller.org !== null && (orgs.includes(caller.org) || caller.org === own)) return caller.org;
  if (orgs.length === 1) return orgs[0] as string;
  if (orgs.length > 1 && caller.role === 'platform_admin') {
    throw badParameter('orgId', `${subject.kind} ${subject.id} ${subject.kind === 'mentor' ? 'belongs to' : 'has scopes in'} several organizations (${orgs.join(', ')}); name one`);
  }
  return null;
}
