import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Queryable } from '../../libs/db/queryable.js';
import { ApiError, badParameter } from './errors.js';
import { TOKEN_ROLES, type TokenRole } from '../../libs/auth/tokens.js';

export type Role = TokenRole;

/** Who is calling, from a verified token. */
export interface Caller {
  sub: string;
  org: string | null;
  role: Role;
  /** For service tokens: the organizations whose events it may publish. */
  writes?: string[] | '*';
}

/** How far a token's exp, nbf and iat may be off before it is refused: clocks drift a little. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Failures that say the identity provider could not be asked, not that the token is bad. */
const keysUnavailable = (err: unknown) => err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError);

/**
 * Verifies bearer tokens: HS256 with AUTH_JWT_SECRET, or the keys of AUTH_JWKS_URL when set
 * (fetched, cached and refreshed by jose). A token must expire (exp), and carry the configured
 * issuer and audience when those are set. A key set that cannot be fetched is a 503, not a
 * verdict on the token.
 */
export function createTokenVerifier(auth: { jwtSecret: string; jwksUrl: string | undefined; issuer?: string | undefined; audience?: string | undefined }) {
  const secret = new TextEncoder().encode(auth.jwtSecret);
  const jwks: JWTVerifyGetKey | undefined = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 3_000 }) : undefined;
  const options = {
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };

  return async function verify(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? '');
    if (!match) throw new ApiError(401, 'unauthorized', 'missing or malformed bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = jwks
        ? await jwtVerify(match[1] as string, jwks, { ...options, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })
        : await jwtVerify(match[1] as string, secret, { ...options, algorithms: ['HS256'] }));
    } catch (err) {
      if (jwks && keysUnavailable(err)) throw new ApiError(503, 'unavailable', 'the identity provider\'s keys could not be fetched; retry shortly');
      throw new ApiError(401, 'unauthorized', 'invalid or expired token');
    }
    const { sub, org, role } = payload as JWTPayload & { org?: unknown; role?: unknown };
    if (typeof sub !== 'string' || sub === '') throw new ApiError(401, 'unauthorized', 'token has no sub claim');
    if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) throw new ApiError(401, 'unauthorized', 'token has no valid role claim');
    if (role !== 'platform_admin' && role !== 'service' && (typeof org !== 'string' || org === '')) throw new ApiError(401, 'unauthorized', 'token has no org claim');
    return { sub, org: typeof org === 'string' && org !== '' ? org : null, role: role as Role, ...(role === 'service' ? { writes: serviceOrgs(payload) } : {}) };
  };
}

/**
 * The organizations a service token may write events for: its `orgs` claim (an array), else
 * its `org`. Every organization only when the token says so explicitly (`orgs: ["*"]`).
 */
function serviceOrgs(payload: JWTPayload): string[] | '*' {
  const { orgs, org } = payload as { orgs?: unknown; org?: unknown };
  if (Array.isArray(orgs) && orgs.every((o) => typeof o === 'string' && o !== '')) return orgs.includes('*') ? '*' : (orgs as string[]);
  return typeof org === 'string' && org !== '' ? [org] : [];
}

/** What a route addresses, declared by the route; authorize() decides whether the caller may. */
export type Resource =
  | { kind: 'mentor'; mentorId: string; orgId: string | null }
  | { kind: 'coordinator'; coordinatorId: string }
  | { kind: 'org'; orgId: string }
  | { kind: 'platform' }
  | { kind: 'recruit' }
  | { kind: 'events' };

/**
 * What the caller may read: every organization, one organization, or some mentors of one
 * organization. Queries take it as a filter, so even a route that forgot a check could not
 * return rows outside it.
 */
export type Visibility = { kind: 'platform' } | { kind: 'org'; orgId: string } | { kind: 'mentors'; orgId: string; mentorIds: string[] };

/** The answer of authorize(): what the caller may see, and the organization the resource belongs to. */
export interface Grant {
  caller: Caller;
  visibility: Visibility;
  /** The addressed resource's organization and its timezone (mentor, coordinator and org resources). */
  orgId: string | null;
  timezone: string | null;
  /** The mentors a coordinator resource covers. */
  mentorIds: string[];
}

const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
const forbidden = (role: Role) => new ApiError(403, 'forbidden', `role ${role} may not use this route`);

/**
 * The one place scope is enforced (SPEC §5). A role that may never use a route gets 403; an id
 * outside the caller's scope gets the same 404 as an id that does not exist, so answers never
 * reveal what lies outside. Scopes are read on every request: a new CoordinatorScope applies
 * at once.
 */
export async function authorize(db: Queryable, caller: Caller, resource: Resource, defaultTimezone: string): Promise<Grant> {
  if (resource.kind === 'events') {
    if (caller.role !== 'service') throw forbidden(caller.role);
    return { caller, visibility: { kind: 'mentors', orgId: caller.org ?? '', mentorIds: [] }, orgId: null, timezone: null, mentorIds: [] };
  }
  if (caller.role === 'service') throw forbidden(caller.role);
  // A coordinator reading their own route needs their scope twice: read it once per request.
  const scopes = new Map<string, ReturnType<typeof coordinatorScope>>();
  const scopeOf = (coordinatorId: string) => {
    if (!scopes.has(coordinatorId)) scopes.set(coordinatorId, coordinatorScope(db, coordinatorId));
    return scopes.get(coordinatorId) as ReturnType<typeof coordinatorScope>;
  };
  const visibility = await visibilityOf(caller, scopeOf);
  const grant = (orgId: string | null, mentorIds: string[] = []): Grant => ({ caller, visibility, orgId, timezone: null, mentorIds });

  switch (resource.kind) {
    case 'platform':
      if (visibility.kind !== 'platform') throw forbidden(caller.role);
      return grant(null);
    case 'recruit':
      return grant(null);
    case 'org': {
      if (visibility.kind === 'mentors') throw forbidden(caller.role);
      if (visibility.kind === 'org' && visibility.orgId !== resource.orgId) throw notFound('organization');
      if (visibility.kind === 'platform' && !(await orgExists(db, resource.orgId))) throw notFound('organization');
      return withTimezone(db, grant(resource.orgId), defaultTimezone);
    }
    case 'mentor': {
      const orgId = resolveMentorOrg(caller, resource, await mentorOrgs(db, resource.mentorId));
      if (!orgId || !canSeeMentor(visibility, resource.mentorId, orgId)) throw notFound('mentor');
      return withTimezone(db, grant(orgId, [resource.mentorId]), defaultTimezone);
    }
    case 'coordinator': {
      if (caller.role === 'mentor') throw forbidden(caller.role);
      if (caller.role === 'coordinator' && caller.sub !== resource.coordinatorId) throw notFound('coordinator');
      const scope = await scopeOf(resource.coordinatorId);
      if (!scope) {
        if (caller.role === 'coordinator' && caller.org) return withTimezone(db, grant(caller.org, []), defaultTimezone);
        throw notFound('coordinator');
      }
      if (visibility.kind !== 'platform' && visibility.orgId !== scope.orgId) throw notFound('coordinator');
      return withTimezone(db, grant(scope.orgId, scope.mentorIds), defaultTimezone);
    }
  }
}

function canSeeMentor(visibility: Visibility, mentorId: string, orgId: string): boolean {
  if (visibility.kind === 'platform') return true;
  if (visibility.orgId !== orgId) return false;
  return visibility.kind === 'org' || visibility.mentorIds.includes(mentorId);
}

async function visibilityOf(caller: Caller, scopeOf: (coordinatorId: string) => ReturnType<typeof coordinatorScope>): Promise<Visibility> {
  switch (caller.role) {
    case 'platform_admin':
      return { kind: 'platform' };
    case 'org_admin':
      return { kind: 'org', orgId: caller.org as string };
    case 'mentor':
      return { kind: 'mentors', orgId: caller.org as string, mentorIds: [caller.sub] };
    default: {
      // A coordinator sees the mentors of their current scope, in the scope's organization.
      const scope = await scopeOf(caller.sub);
      if (!scope || scope.orgId !== caller.org) return { kind: 'mentors', orgId: caller.org as string, mentorIds: [] };
      return { kind: 'mentors', orgId: scope.orgId, mentorIds: scope.mentorIds };
    }
  }
}

/**
 * A coordinator's scope: its organization and the mentors in it. A listed mentor known only in
 * other organizations (their links are all elsewhere) is left out: a scope never reaches
 * outside its organization. A mentor not known anywhere yet stays, with empty numbers.
 */
async function coordinatorScope(db: Queryable, coordinatorId: string): Promise<{ orgId: string; mentorIds: string[] } | null> {
  const { rows } = await db.query<{ org_id: string; mentor_ids: string[] }>(
    `select s.org_id, array(
       select m from unnest(s.mentor_ids) with ordinality as t(m, i)
        where exists (select 1 from invite_links l where l.mentor_id = t.m and l.org_id = s.org_id)
           or not exists (select 1 from invite_links l where l.mentor_id = t.m)
        order by t.i) as mentor_ids
       from coordinator_scopes s where s.coordinator_id = $1`,
    [coordinatorId],
  );
  return rows[0] ? { orgId: rows[0].org_id, mentorIds: rows[0].mentor_ids } : null;
}

/** The organizations a mentor id has invite links in, sorted. */
async function mentorOrgs(db: Queryable, mentorId: string): Promise<string[]> {
  const { rows } = await db.query<{ org_id: string }>('select distinct org_id from invite_links where mentor_id = $1 order by org_id', [mentorId]);
  return rows.map((r) => r.org_id);
}

/**
 * Which organization a mentor route means. A mentor id may exist in several organizations
 * (ids are the upstream's, unique per org only): the one named by `orgId`, else the caller's
 * own if the mentor is there, else the only one. A platform admin addressing a mentor of
 * several organizations must name one (400). A mentor without links yet still reads their own
 * (empty) numbers, in their token's organization.
 */
function resolveMentorOrg(caller: Caller, resource: { mentorId: string; orgId: string | null }, orgs: string[]): string | null {
  const own = caller.role === 'mentor' && caller.sub === resource.mentorId ? caller.org : null;
  if (resource.orgId !== null) return orgs.includes(resource.orgId) || resource.orgId === own ? resource.orgId : null;
  if (caller.org !== null && (orgs.includes(caller.org) || caller.org === own)) return caller.org;
  if (orgs.length === 1) return orgs[0] as string;
  if (orgs.length > 1 && caller.role === 'platform_admin') throw badParameter('orgId', `mentor ${resource.mentorId} belongs to several organizations (${orgs.join(', ')}); name one`);
  return null;
}

/** An organization exists once anything of it is known: a link, a setting or a coordinator scope. */
async function orgExists(db: Queryable, orgId: string): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from invite_links where org_id = $1 union all select 1 from org_settings where org_id = $1
     union all select 1 from coordinator_scopes where org_id = $1 limit 1`,
    [orgId],
  );
  return rows.length > 0;
}

async function withTimezone(db: Queryable, grant: Grant, defaultTimezone: string): Promise<Grant> {
  if (!grant.orgId) return grant;
  return { ...grant, timezone: await orgTimezone(db, grant.orgId, defaultTimezone) };
}

export async function orgTimezone(db: Queryable, orgId: string, defaultTimezone: string): Promise<string> {
  const { rows } = await db.query<{ timezone: string }>('select timezone from org_settings where org_id = $1', [orgId]);
  return rows[0]?.timezone ?? defaultTimezone;
}
