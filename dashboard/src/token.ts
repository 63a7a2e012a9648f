/**
 * The viewer's token. It arrives in the URL fragment (#token=…, which browsers never send to
 * a server, so it cannot reach a log), from the embedding app by postMessage, or pasted into
 * the sign-in box. It is kept in this tab's sessionStorage only and the fragment is cleared at
 * once, so a copied or bookmarked URL never carries it.
 */
const KEY = 'recruitment-dashboard.token';
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export type Role = 'mentor' | 'coordinator' | 'org_admin' | 'platform_admin' | 'service';

/** What the token says about its bearer; read for navigation only, the API decides what they may see. */
export interface Claims {
  sub: string;
  role: Role;
  org: string | null;
  exp: number | null;
}

/** The claims of a well-formed token, or null. The signature is the API's business. */
export function readClaims(token: string): Claims | null {
  if (!TOKEN_SHAPE.test(token)) return null;
  try {
    const part = (token.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    const roles: Role[] = ['mentor', 'coordinator', 'org_admin', 'platform_admin', 'service'];
    if (typeof json.sub !== 'string' || !roles.includes(json.role as Role)) return null;
    return { sub: json.sub, role: json.role as Role, org: typeof json.org === 'string' ? json.org : null, exp: typeof json.exp === 'number' ? json.exp : null };
  } catch {
    return null;
  }
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return memory;
  }
}

let memory: string | null = null;
export function storeToken(token: string | null): void {
  memory = token;
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused (private mode, a sandboxed frame): the token lives in memory only.
  }
}

/** Takes a token out of the URL fragment, if one is there, and removes it from the address bar and history. */
export function takeTokenFromFragment(): string | null {
  if (!location.hash) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return token && TOKEN_SHAPE.test(token) ? token : null;
}

/**
 * When the page is framed by an embedding app (one the CSP's frame-ancestors allows), that app
 * may hand it a token: postMessage({ type: 'recruitment-dashboard:token', token }). The page
 * says it is ready first, carrying nothing.
 */
export function listenForEmbeddingToken(onToken: (token: string) => void): void {
  if (window.parent === window) return;
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent) return;
    const data = event.data as { type?: unknown; token?: unknown } | null;
    if (data?.type === 'recruitment-dashboard:token' && typeof data.token === 'string' && TOKEN_SHAPE.test(data.token)) onToken(data.token);
  });
  window.parent.postMessage({ type: 'recruitment-dashboard:ready' }, '*');
}
