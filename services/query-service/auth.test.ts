import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mintToken } from '../../libs/auth/tokens.js';
import { createTokenVerifier } from './auth.js';

/** Token verification with a JWKS endpoint (AUTH_JWKS_URL) served locally, and with HS256. */
let server: Server;
let jwksUrl: string;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const rs256 = (claims: Record<string, unknown>, kid = 'k1') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setSubject('m-1').setIssuedAt().setExpirationTime('5m').sign(privateKey);

describe('token verification', () => {
  it('accepts tokens signed by a key of AUTH_JWKS_URL, and nothing else', async () => {
    const verify = createTokenVerifier({ jwtSecret: 'unused-secret-of-sufficient-length', jwksUrl });
    expect(await verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' })}`)).toEqual({ sub: 'm-1', org: 'o-1', role: 'mentor' });
    await expect(verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' }, 'unknown-kid')}`)).rejects.toMatchObject({ status: 401 });
    // An HS256 token made with the shared secret is refused when the service trusts a JWKS.
    await expect(verify(`Bearer ${await mintToken({ role: 'mentor', sub: 'm-1', org: 'o-1' }, 'unused-secret-of-sufficient-length')}`)).rejects.toMatchObject({ status: 401 });
  });

  it('with a secret, accepts HS256 only, and checks the claims', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    expect(await verify(`Bearer ${await mintToken({ role: 'platform_admin', sub: 'root' }, secret)}`)).toEqual({ sub: 'root', org: null, role: 'platform_admin' });
    await expect(verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' })}`)).rejects.toMatchObject({ status: 401 });
    await expect(verify(`Bearer ${await mintToken({ role: 'coordinator', sub: 'c' }, secret)}`)).rejects.toMatchObject({ status: 401, message: 'token has no org claim' });
    await expect(verify(`Basic abc`)).rejects.toMatchObject({ status: 401 });
    await expect(verify(undefined)).rejects.toMatchObject({ status: 401 });
  });

  it('requires exp, checks issuer and audience when configured, and tolerates 30 s of clock drift', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const key = new TextEncoder().encode(secret);
    const token = (claims: Record<string, unknown>, exp: number | null) => {
      const jwt = new SignJWT({ role: 'mentor', org: 'o-1', ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('m-1').setIssuedAt();
      return (exp === null ? jwt : jwt.setExpirationTime(exp)).sign(key);
    };
    const now = Math.floor(Date.now() / 1000);
    const plain = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    await expect(plain(`Bearer ${await token({}, null)}`)).rejects.toMatchObject({ status: 401 }); // never expires: refused
    expect(await plain(`Bearer ${await token({}, now - 10)}`)).toMatchObject({ sub: 'm-1' }); // 10 s late: within tolerance
    await expect(plain(`Bearer ${await token({}, now - 120)}`)).rejects.toMatchObject({ status: 401 });

    const strict = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined, issuer: 'https://idp.example.org/', audience: 'recruitment' });
    const good = { iss: 'https://idp.example.org/', aud: 'recruitment' };
    expect(await strict(`Bearer ${await token(good, now + 300)}`)).toMatchObject({ sub: 'm-1' });
    await expect(strict(`Bearer ${await token({ ...good, aud: 'another-app' }, now + 300)}`)).rejects.toMatchObject({ status: 401 });
    await expect(strict(`Bearer ${await token({ ...good, iss: 'https://other.example.org/' }, now + 300)}`)).rejects.toMatchObject({ status: 401 });
    await expect(strict(`Bearer ${await token({}, now + 300)}`)).rejects.toMatchObject({ status: 401 });
  });

  // Issue 20 finding 1: a token without iat, or a long-lived one, was accepted until its exp (the demo's ran 100 years).
  it('requires iat, and refuses a token older than the maximum age whatever its exp', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const key = new TextEncoder().encode(secret);
    const now = Math.floor(Date.now() / 1000);
    const token = (iat: number | null, exp: number) => {
      const jwt = new SignJWT({ role: 'mentor', org: 'o-1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m-1').setExpirationTime(exp);
      return (iat === null ? jwt : jwt.setIssuedAt(iat)).sign(key);
    };
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    await expect(verify(`Bearer ${await token(null, now + 300)}`)).rejects.toMatchObject({ status: 401 }); // no iat
    const hundredYears = now + 100 * 365 * 86_400;
    await expect(verify(`Bearer ${await token(now - 25 * 3600, hundredYears)}`)).rejects.toMatchObject({ status: 401 }); // older than the default 24 h
    expect(await verify(`Bearer ${await token(now - 23 * 3600, now + 300)}`)).toMatchObject({ sub: 'm-1' });
    await expect(verify(`Bearer ${await token(now + 3600, now + 7200)}`)).rejects.toMatchObject({ status: 401 }); // issued in the future

    const short = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined, maxTokenAgeSeconds: 3600 });
    await expect(short(`Bearer ${await token(now - 2 * 3600, now + 300)}`)).rejects.toMatchObject({ status: 401 });
    expect(await short(`Bearer ${await mintToken({ role: 'mentor', sub: 'm-1', org: 'o-1' }, secret)}`)).toMatchObject({ sub: 'm-1' });
  });

  it('stops honouring a verified token when it reaches the maximum age, though its exp lies later', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined, maxTokenAgeSeconds: 3600 });
    const now = Math.floor(Date.now() / 1000);
    // 10 s from its maximum age when first verified (and so kept for a minute), a week from its exp.
    const token = `Bearer ${await new SignJWT({ role: 'mentor', org: 'o-1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m-1').setIssuedAt(now - 3590).setExpirationTime(now + 7 * 86_400).sign(new TextEncoder().encode(secret))}`;
    vi.useFakeTimers({ now: now * 1000, toFake: ['Date'] });
    try {
      expect(await verify(token)).toMatchObject({ sub: 'm-1' });
      vi.setSystemTime((now + 39) * 1000); // 29 s past the maximum age: within the 30 s of drift
      expect(await verify(token)).toMatchObject({ sub: 'm-1' });
      vi.setSystemTime((now + 41) * 1000);
      await expect(verify(token)).rejects.toMatchObject({ status: 401 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('mints tokens with the issuer and audience the service checks', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const expected = { issuer: 'https://idp.example.org/', audience: 'recruitment' };
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined, ...expected });
    expect(await verify(`Bearer ${await mintToken({ role: 'platform_admin', sub: 'root' }, secret, '12h', expected)}`)).toMatchObject({ sub: 'root' });
    await expect(verify(`Bearer ${await mintToken({ role: 'platform_admin', sub: 'root' }, secret)}`)).rejects.toMatchObject({ status: 401 });
  });

  it('answers 503, not 401, when the key set cannot be fetched', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const verify = createTokenVerifier({ jwtSecret: 'unused-secret-of-sufficient-length', jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    await expect(verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' })}`)).rejects.toMatchObject({ status: 503 });
  });

  it('binds service tokens to the organizations they name', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    expect(await verify(`Bearer ${await mintToken({ role: 'service', sub: 'webhook', org: 'o-1' }, secret)}`)).toMatchObject({ writes: ['o-1'] });
    expect(await verify(`Bearer ${await mintToken({ role: 'service', sub: 'webhook', orgs: ['o-1', 'o-2'] }, secret)}`)).toMatchObject({ writes: ['o-1', 'o-2'] });
    expect(await verify(`Bearer ${await mintToken({ role: 'service', sub: 'webhook', orgs: ['*'] }, secret)}`)).toMatchObject({ writes: '*' });
    expect(await verify(`Bearer ${await mintToken({ role: 'service', sub: 'webhook' }, secret)}`)).toMatchObject({ writes: [] });
  });

  it('refuses a sub or org claim holding NUL, which no lookup in Postgres could take', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    await expect(verify(`Bearer ${await mintToken({ role: 'mentor', sub: 'm-1\u0000', org: 'o-1' }, secret)}`)).rejects.toMatchObject({ status: 401, message: 'token has no valid sub claim' });
    await expect(verify(`Bearer ${await mintToken({ role: 'org_admin', sub: 'a-1', org: 'o-1\u0000' }, secret)}`)).rejects.toMatchObject({ status: 401, message: 'token has no valid org claim' });
    expect(await verify(`Bearer ${await mintToken({ role: 'service', sub: 'webhook', orgs: ['o-1\u0000'] }, secret)}`)).toMatchObject({ writes: [] });
  });

  describe('a token verified once', () => {
    afterEach(() => vi.useRealTimers());

    it('still expires on time, and is not valid before its nbf', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const secret = 'a-secret-of-sufficient-length';
      const key = new TextEncoder().encode(secret);
      const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ role: 'mentor', org: 'o-1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m-1').setIssuedAt(now).setExpirationTime(now + 10).sign(key);
      expect(await verify(`Bearer ${token}`)).toEqual({ sub: 'm-1', org: 'o-1', role: 'mentor' });
      vi.setSystemTime((now + 39) * 1000); // 29 s past exp: within the 30 s of drift
      expect(await verify(`Bearer ${token}`)).toEqual({ sub: 'm-1', org: 'o-1', role: 'mentor' });
      vi.setSystemTime((now + 41) * 1000);
      await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ status: 401 });

      vi.setSystemTime(now * 1000);
      const later = await new SignJWT({ role: 'mentor', org: 'o-1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('m-1').setIssuedAt(now - 100).setNotBefore(now - 20).setExpirationTime(now + 600).sign(key);
      expect(await verify(`Bearer ${later}`)).toMatchObject({ sub: 'm-1' }); // nbf 20 s ago
      vi.setSystemTime((now - 60) * 1000); // a clock that went back: 40 s before nbf
      await expect(verify(`Bearer ${later}`)).rejects.toMatchObject({ status: 401 });
    });

    it('is shared by the requests that send it, so nobody may change what it says', async () => {
      const secret = 'a-secret-of-sufficient-length';
      const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
      const token = `Bearer ${await mintToken({ role: 'service', sub: 'webhook', orgs: ['o-1'] }, secret)}`;
      await verify(token);
      const again = await verify(token);
      expect(Object.isFrozen(again) && Object.isFrozen(again.writes)).toBe(true);
      expect(await verify(token)).toMatchObject({ writes: ['o-1'] });
    });
  });
});
