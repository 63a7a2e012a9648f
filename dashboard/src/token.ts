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
 * When the page is framed by an embedding app, that app may hand it a token:
 * postMessage({ type: 'recruitment-dashboard:token', token }). Only the parent frame is
 * listened to, and only when its origin is one of DASHBOARD_EMBED_ORIGINS (which the server
 * hands the page at ./embed.json); a token from any other origin is ignored (counted in the
 * root element's data-embed-refused). The page says it is ready first, carrying nothing, to a
 * listed parent only. The root element's data-embed says whether it listens ("listening") or
 * not ("off").
 */
export async function listenForEmbeddingToken(onToken: (token: string) => void): Promise<void> {
  if (window.parent === window) return;
  const origins = await embedOrigins();
  document.documentElement.dataset.embed = origins.length > 0 ? 'listening' : 'off';
  if (origins.length === 0) return;
  let refused = 0;
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent) return;
    const data = event.data as { type?: unknown; token?: unknown } | null;
    if (data?.type !== 'recruitment-dashboard:token') return;
    if (!origins.includes(event.origin)) {
      refused += 1;
      document.documentElement.dataset.embedRefused = String(refused);
      return;
    }
    if (typeof data.token === 'string' && TOKEN_SHAPE.test(data.token)) onToken(data.token);
  });
  // Where the browser says who the parent is (location.ancestorOrigins), tell only a listed one.
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  const parent = ancestors && ancestors.length > 0 ? ancestors.item(0) : null;
  for (const origin of parent === null ? origins : origins.filter((o) => o === parent)) window.parent.postMessage({ type: 'recruitment-dashboard:ready' }, origin);
}

/** The origins that may hand the page a token, from the server; none if it cannot say. */
async function embedOrigins(): Promise<string[]> {
  try {
    const res = await fetch(new URL('embed.json', location.href), { cache: 'no-cache', credentials: 'omit' });
    if (!res.ok) return [];
    const body = (await res.json()) as { embedOrigins?: unknown };
    return Array.isArray(body.embedOrigins) ? body.embedOrigins.filter((o): o is string => typeof o === 'string' && o !== '*') : [];
  } catch {
    return [];
  }
}
