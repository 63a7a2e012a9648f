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
import { lang, LANG_NAMES, LANGS, setLang, t, type Lang } from './i18n.js';

/**
 * The recruitment dashboard: a client of the /v1 API like any other, with the viewer's own
 * token. Which views exist follows the token's role; what they show is what the API answers
 * for that token (a view outside the caller's scope gets the API's 403/404, explained).
 */
const main = document.getElementById('main') as HTMLElement;
const top = document.getElementById('top') as HTMLElement;

// A token in the link's fragment signs in a tab that is not signed in. In a tab signed in as
// someone else it is an offer like the embedding app's (offeredToken, once the page is drawn):
// a link, or a frame's new address, cannot silently swap whose numbers are shown.
const fragmentToken = takeTokenFromFragment();
let token: string | null = storedToken();
if (fragmentToken && (!token || !readClaims(token))) token = fragmentToken;
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
  announce(t().signedIn);
}

onUnauthorized((failure) => signOut(t().tokenRefused(failure.message)));
onStateChange(() => render());
void listenForEmbeddingToken((offered) => offeredToken(offered, 'embedding'));

/**
 * A token handed over by the embedding app, or found in the link's fragment in a tab already
 * signed in. Signed out, it signs in; signed in as someone else, the viewer is asked first, in
 * the page, whether to switch: an embedding app or a link cannot silently swap whose numbers
 * are shown.
 */
function offeredToken(newToken: string, from: 'embedding' | 'link'): void {
  if (newToken === token) return;
  const offer = readClaims(newToken);
  const current = token ? readClaims(token) : null;
  if (!offer) return;
  if (!current) return signIn(newToken);
  document.querySelector('[data-token-offer]')?.remove();
  const who = (c: Claims) => `${t().roles[c.role]} ${c.sub}${c.org ? ` · ${c.org}` : ''}`;
  const accept = h('button', { type: 'button', 'data-action': 'switch' }, t().offerSwitch(offer.sub));
  const keep = h('button', { type: 'button', 'data-action': 'keep', class: 'secondary' }, t().offerStay(current.sub));
  const box = h(
    'div',
    { class: 'card token-offer', role: 'alertdialog', 'aria-labelledby': 'token-offer-text', 'data-token-offer': '' },
    h('p', { id: 'token-offer-text' }, (from === 'link' ? t().offerLinkText : t().offerText)(who(offer), who(current))),
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

/**
 * The language switch: each language named in itself; the choice is kept (i18n.ts) and the
 * page redraws in it. The API's answers are kept a few seconds, so a switch asks for nothing again.
 */
function languageSwitch() {
  const select = h('select', { id: 'lang-switch', class: 'lang-switch' }, LANGS.map((l) => h('option', { value: l, lang: l, selected: l === lang() }, LANG_NAMES[l])));
  select.addEventListener('change', () => {
    setLang(select.value as Lang);
    render();
    document.getElementById('lang-switch')?.focus();
  });
  return h('div', { class: 'field inline lang' }, h('label', { for: 'lang-switch' }, t().language), select);
}

function header(claims: Claims | null) {
  const s = t();
  document.documentElement.lang = lang();
  const skip = document.querySelector('.skip-link');
  if (skip) skip.textContent = s.skipLink;
  if (!claims) {
    fill(top, h('p', { class: 'brand' }, s.brand), languageSwitch());
    return;
  }
  const home = h('a', { href: viewLink({}, { reset: true }), 'data-nav': '' }, s.brand);
  const out = h('button', { type: 'button', class: 'sign-out' }, s.signOut);
  out.addEventListener('click', () => signOut(t().youSignedOut));
  fill(
    top,
    h('p', { class: 'brand' }, home),
    h(
      'p',
      { class: 'who', 'data-role': claims.role },
      h('span', { class: 'role' }, s.roles[claims.role]),
      ' ',
      h('span', { class: 'sub' }, claims.sub),
      claims.org ? h('span', { class: 'org' }, ` · ${claims.org}`) : null,
    ),
    languageSwitch(),
    out,
  );
}

function render(): void {
  main.replaceChildren();
  const claims = token ? readClaims(token) : null;
  if (!token || !claims) {
    header(null);
    renderSignIn(main, token ? t().tokenUnreadable : signedOutReason, signIn);
    return;
  }
  if (claims.exp !== null && claims.exp * 1000 < Date.now()) {
    signOut(t().tokenExpired);
    return;
  }
  if (claims.role === 'service') {
    signOut(t().serviceToken);
    return;
  }
  header(claims);
  const state = readState();
  const ctx: ViewContext = { api: createApi(token), claims, state, main };
  const view = state.view ?? homeView(claims.role);
  document.title = t().pageTitle(view);
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
  ctx.main.append(h('p', { class: 'state' }, t().noSuchView), h('a', { href: viewLink({ view: homeView(claims.role) }, { reset: true }), 'data-nav': '' }, t().goToOverview));
}

render();
if (fragmentToken && fragmentToken !== token) offeredToken(fragmentToken, 'link');
