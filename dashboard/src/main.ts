import './styles.css';
import { createApi, forgetAnswers } from './api.js';
import { announce, fill, h } from './dom.js';
import { onUnauthorized } from './section.js';
import { navigate, onStateChange, readState, viewLink } from './state.js';
import { listenForEmbeddingToken, readClaims, storedToken, storeToken, takeTokenFromFragment, type Claims } from './token.js';
import type { ViewContext } from './views/context.js';
import { renderCoordinatorView } from './views/coordinator.js';
import { renderMentorView } from './views/mentor.js';
import { renderOrgView } from './views/org.js';
import { renderPlatformView } from './views/platform.js';
import { renderSignIn } from './views/sign-in.js';

/**
 * The recruitment dashboard: a client of the /v1 API like any other, with the viewer's own
 * token. Which views exist follows the token's role; what they show is what the API answers
 * for that token (a view outside the caller's scope gets the API's 403/404, explained).
 */
const main = document.getElementById('main') as HTMLElement;
const top = document.getElementById('top') as HTMLElement;
const ROLE_NAMES: Record<Claims['role'], string> = { mentor: 'Mentor', coordinator: 'Coordinator', org_admin: 'Organization admin', platform_admin: 'Platform admin', service: 'Service' };

let token: string | null = takeTokenFromFragment() ?? storedToken();
if (token) storeToken(token);
let signedOutReason: string | null = null;

function signOut(reason: string | null): void {
  token = null;
  storeToken(null);
  forgetAnswers();
  signedOutReason = reason;
  render();
}

function signIn(newToken: string): void {
  token = newToken;
  storeToken(newToken);
  signedOutReason = null;
  render();
  announce('Signed in');
}

onUnauthorized((failure) => signOut(`Your token was refused (${failure.message}). Sign in again with a valid token.`));
onStateChange(() => render());
void listenForEmbeddingToken(offeredToken);

/**
 * A token handed over by the embedding app. Signed out, it signs in; signed in as someone
 * else, the viewer is asked first, in the page, whether to switch: an embedding app cannot
 * silently swap whose numbers are shown.
 */
function offeredToken(newToken: string): void {
  if (newToken === token) return;
  const offer = readClaims(newToken);
  const current = token ? readClaims(token) : null;
  if (!offer) return;
  if (!current) return signIn(newToken);
  document.querySelector('[data-token-offer]')?.remove();
  const who = (c: Claims) => `${ROLE_NAMES[c.role]} ${c.sub}${c.org ? ` · ${c.org}` : ''}`;
  const accept = h('button', { type: 'button', 'data-action': 'switch' }, `Switch to ${offer.sub}`);
  const keep = h('button', { type: 'button', 'data-action': 'keep', class: 'secondary' }, `Stay ${current.sub}`);
  const box = h(
    'div',
    { class: 'card token-offer', role: 'alertdialog', 'aria-labelledby': 'token-offer-text', 'data-token-offer': '' },
    h('p', { id: 'token-offer-text' }, `The page around this dashboard wants to sign you in as ${who(offer)}, replacing ${who(current)}. Switch?`),
    accept,
    ' ',
    keep,
  );
  accept.addEventListener('click', () => {
    box.remove();
    signIn(newToken);
  });
  keep.addEventListener('click', () => {
    box.remove();
    main.focus();
  });
  main.before(box);
  accept.focus();
}

// In-page links (data-nav) change the view without reloading; modified clicks open new tabs as usual.
document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a[data-nav]');
  if (!(link instanceof HTMLAnchorElement) || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const url = new URL(link.href);
  navigate(Object.fromEntries(url.searchParams), { reset: true });
  main.focus();
});

// The skip link focuses the content without touching the URL.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

function header(claims: Claims | null) {
  if (!claims) {
    fill(top, h('p', { class: 'brand' }, 'Recruitment dashboard'));
    return;
  }
  const home = h('a', { href: viewLink({}, { reset: true }), 'data-nav': '' }, 'Recruitment dashboard');
  const out = h('button', { type: 'button', class: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => signOut('You signed out.'));
  fill(
    top,
    h('p', { class: 'brand' }, home),
    h(
      'p',
      { class: 'who', 'data-role': claims.role },
      h('span', { class: 'role' }, ROLE_NAMES[claims.role]),
      ' ',
      h('span', { class: 'sub' }, claims.sub),
      claims.org ? h('span', { class: 'org' }, ` · ${claims.org}`) : null,
    ),
    out,
  );
}

function render(): void {
  main.replaceChildren();
  const claims = token ? readClaims(token) : null;
  if (!token || !claims) {
    header(null);
    renderSignIn(main, token ? 'That token could not be read. Paste a valid one.' : signedOutReason, signIn);
    return;
  }
  if (claims.exp !== null && claims.exp * 1000 < Date.now()) {
    signOut('Your token has expired. Sign in again with a new one.');
    return;
  }
  if (claims.role === 'service') {
    signOut('This is a service token: it may post events but read nothing. Sign in with a person’s token.');
    return;
  }
  header(claims);
  const state = readState();
  const ctx: ViewContext = { api: createApi(token), claims, state, main };
  const view = state.view ?? homeView(claims.role);
  document.title = `Recruitment dashboard – ${view}`;
  switch (view) {
    case 'org': {
      const orgId = state.org ?? claims.org;
      if (orgId) return renderOrgView(ctx, orgId);
      return renderPlatformView(ctx);
    }
    case 'mentor':
      return renderMentorView(ctx, state.mentor ?? claims.sub);
    case 'coordinator':
      return renderCoordinatorView(ctx, state.coordinator ?? claims.sub);
    case 'platform':
      return renderPlatformView(ctx);
    default:
      return renderHome(ctx, claims);
  }
}

function homeView(role: Claims['role']): string {
  return role === 'mentor' ? 'mentor' : role === 'coordinator' ? 'coordinator' : role === 'org_admin' ? 'org' : 'platform';
}

function renderHome(ctx: ViewContext, claims: Claims): void {
  ctx.main.append(h('p', { class: 'state' }, 'There is no such view. '), h('a', { href: viewLink({ view: homeView(claims.role) }, { reset: true }), 'data-nav': '' }, 'Go to your overview'));
}

render();
