import { hash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from './errors.js';
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
/** The oldest a token may be by default (AUTH_TOKEN_MAX_AGE_HOURS). */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 24 * 3600;

/** Failures that say the identity provider could not be asked, not that the token is bad. */
const keysUnavailable = (err: unknown) => err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError);

/**
 * Verifies bearer tokens: HS256 with AUTH_JWT_SECRET, or the keys of AUTH_JWKS_URL when set
 * (fetched, cached and refreshed by jose). A token must expire (exp) and say when it was issued
 * (iat); one older than maxTokenAgeSeconds is refused whatever its exp, so a leaked long-lived
 * token stops working within the day. It must carry the configured issuer and audience when
 * those are set. A key set that cannot be fetched is a 503, not a
 * verdict on the token.
 */
export function createTokenVerifier(auth: { jwtSecret: string; jwksUrl: string | undefined; issuer?: string | undefined; audience?: string | undefined; maxTokenAgeSeconds?: number }) {
  const secret = new TextEncoder().encode(auth.jwtSecret);
  const maxTokenAgeSeconds = auth.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS;
  const jwks: JWTVerifyGetKey | undefined = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 3_000 }) : undefined;
  const options = {
    requiredClaims: ['exp', 'iat'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    maxTokenAge: maxTokenAgeSeconds,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };

  const verified = createVerifiedTokens(maxTokenAgeSeconds);

  return async function verify(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? '');
    if (!match) throw new ApiError(401, 'unauthorized', 'missing or malformed bearer token');
    const token = match[1] as string;
    const known = verified.get(token);
    if (known) return known;
    const { caller, payload } = await verifyToken(token);
    verified.set(token, caller, payload);
    return caller;
  };

  async function verifyToken(token: string): Promise<{ caller: Caller; payload: JWTPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = jwks
        ? await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })
        : await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] }));
    } catch (err) {
      if (jwks && keysUnavailable(err)) throw new ApiError(503, 'unavailable', 'the identity provider\'s keys could not be fetched; retry shortly');
      throw new ApiError(401, 'unauthorized', 'invalid or expired token');
    }
    const { sub, org, role } = payload as JWTPayload & { org?: unknown; role?: unknown };
    if (!isId(sub)) throw new ApiError(401, 'unauthorized', 'token has no valid sub claim');
    if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) throw new ApiError(401, 'unauthorized', 'token has no valid role claim');
    if (role !== 'platform_admin' && role !== 'service' && (typeof org !== 'string' || org === '')) throw new ApiError(401, 'unauthorized', 'token has no org claim');
    if (typeof org === 'string' && org.includes('\u0000')) throw new ApiError(401, 'unauthorized', 'token has no valid org claim');
    return { caller: { sub, org: typeof org === 'string' && org !== '' ? org : null, role: role as Role, ...(role === 'service' ? { writes: serviceOrgs(payload) } : {}) }, payload };
  }
}

/**
 * An id a claim can carry: a non-empty string without NUL. Claims are looked up in Postgres,
 * whose text cannot hold NUL: such a token is refused here, not a 500 at the query.
 */
const isId = (value: unknown): value is string => typeof value === 'string' && value !== '' && !value.includes('\u0000');

/** How long a verified token is taken at its word before its signature is checked again. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

/**
 * Tokens verified in the last minute, by a digest of the token (the token itself is not kept
 * as a key), with what they said. A dashboard sends the same token with every request; its
 * signature check (WebCrypto, asynchronous) was the largest CPU cost of a cheap request. A
 * hit still honours exp and nbf with the same tolerance as jose, so a token expires on time;
 * a key set that drops a key stops its tokens within the minute, and one reaching its maximum
 * age is refused on time too. Failed tokens are not kept.
 */
function createVerifiedTokens(maxTokenAgeSeconds: number) {
  const entries = new Map<string, { caller: Caller; notBefore: number; expires: number; until: number }>();
  // One-shot: no Hash object per request.
  const key = (token: string) => hash('sha256', token, 'base64url');
  return {
    get(token: string): Caller | undefined {
      const k = key(token);
      const entry = entries.get(k);
      if (!entry) return undefined;
      const now = Date.now();
      if (now >= entry.until || now >= entry.expires || now < entry.notBefore) {
        entries.delete(k);
        return undefined;
      }
      return entry.caller;
    },
    set(token: string, caller: Caller, payload: JWTPayload): void {
      if (entries.size >= VERIFIED_MAX) entries.clear();
      const tolerance = CLOCK_TOLERANCE_SECONDS * 1000;
      entries.set(key(token), {
        // Shared by every request that sends the token: nobody may change it.
        caller: Object.freeze({ ...caller, ...(Array.isArray(caller.writes) ? { writes: Object.freeze([...caller.writes]) as string[] } : {}) }),
        // jose refuses exp <= now - tolerance, nbf > now + tolerance and iat older than the maximum age plus tolerance.
        expires: Math.min(payload.exp as number, (payload.iat as number) + maxTokenAgeSeconds) * 1000 + tolerance,
        notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 - tolerance : -Infinity,
        until: Date.now() + VERIFIED_TTL_MS,
      });
    },
  };
}

/**
 * The organizations a service token may write events for: its `orgs` claim (an array), else
 * its `org`. Every organization only when the token says so explicitly (`orgs: ["*"]`).
 */
function serviceOrgs(payload: JWTPayload): string[] | '*' {
  const { orgs, org } = payload as { orgs?: unknown; org?: unknown };
  if (Array.isArray(orgs) && orgs.every(isId)) return orgs.includes('*') ? '*' : orgs;
  return isId(org) ? [org] : [];
}
