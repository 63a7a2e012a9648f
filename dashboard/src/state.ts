/**
 * The view lives in the URL's query string (?view=org&org=…&from=…&to=…&granularity=week&stage=…),
 * so a view can be bookmarked or shared; the token never does (it is in the fragment only on
 * arrival, see token.ts). Changing the view pushes a history entry: Back works.
 */
export const STATE_KEYS = ['view', 'org', 'mentor', 'coordinator', 'from', 'to', 'granularity', 'stage', 'filterMentor', 'limit', 'sort', 'dir', 'year', 'q', 'compare'] as const;
export type StateKey = (typeof STATE_KEYS)[number];
export type ViewState = Partial<Record<StateKey, string>>;

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export const STAGES = ['CLICKED', 'INSTALLED', 'REGISTERED', 'ACTIVATED'] as const;
export const PAGE_SIZES = [10, 25, 50, 100] as const;
/** What a period is compared with: `previous` is the default (absent from the URL), `none` asks for no comparison. */
export const COMPARE_CHOICES = ['previous', 'year', 'none'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The view of the current URL; values that could never be valid are dropped (the API checks the rest). */
export function readState(): ViewState {
  const params = new URLSearchParams(location.search);
  const state: ViewState = {};
  for (const key of STATE_KEYS) {
    const value = params.get(key);
    if (value !== null && value !== '') state[key] = value;
  }
  if (state.from && !DAY.test(state.from)) delete state.from;
  if (state.to && !DAY.test(state.to)) delete state.to;
  if (state.granularity && !(GRANULARITIES as readonly string[]).includes(state.granularity)) delete state.granularity;
  if (state.stage && !(STAGES as readonly string[]).includes(state.stage)) delete state.stage;
  if (state.limit && !(PAGE_SIZES as readonly number[]).includes(Number(state.limit))) delete state.limit;
  if (state.compare && !(COMPARE_CHOICES as readonly string[]).includes(state.compare)) delete state.compare;
  return state;
}

const listeners = new Set<() => void>();
export const onStateChange = (listener: () => void) => listeners.add(listener);
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/**
 * The id of the control that changed the view: views are redrawn from the URL, and focus goes
 * back to the same control (by id) after the redraw, so a keyboard user is not thrown to the top.
 */
let focusedId: string | null = null;
export function restoreFocus(): void {
  if (!focusedId || (document.activeElement && document.activeElement !== document.body)) return;
  const el = document.getElementById(focusedId);
  if (el) el.focus();
}

/** Applies a change to the view (undefined removes a key) and tells the page. */
export function navigate(change: ViewState, options: { replace?: boolean; reset?: boolean } = {}): void {
  const params = options.reset ? new URLSearchParams() : new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const ordered = new URLSearchParams(STATE_KEYS.flatMap((k) => (params.has(k) ? [[k, params.get(k) as string]] : [])));
  const query = ordered.toString();
  const url = `${location.pathname}${query ? `?${query}` : ''}`;
  if (url === `${location.pathname}${location.search}`) return;
  focusedId = document.activeElement?.id || null;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

/** Keeps a change in the URL (bookmarkable, kept by a redraw) without redrawing the view: a search as it is typed. */
export function remember(change: ViewState): void {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const ordered = new URLSearchParams(STATE_KEYS.flatMap((k) => (params.has(k) ? [[k, params.get(k) as string]] : [])));
  const query = ordered.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
}

/** A link to another view (a real href, so it opens in a new tab too), handled in-page on a plain click. */
export function viewLink(change: ViewState, options: { reset?: boolean } = {}): string {
  const params = options.reset ? new URLSearchParams() : new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ''}`;
}
