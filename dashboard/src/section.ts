import { ApiFailure } from './api.js';
import { announce, fill, h } from './dom.js';
import { restoreFocus } from './state.js';
import { t } from './i18n.js';

/** Called when the API refuses the token (401): the page goes back to the sign-in state. */
let unauthorized: (failure: ApiFailure) => void = () => undefined;
export const onUnauthorized = (handler: (failure: ApiFailure) => void) => (unauthorized = handler);

const generation = new WeakMap<HTMLElement, number>();

/**
 * Loads one part of a view into el: a loading state (aria-busy) while the API answers, then
 * render(answer), or a designed failure: 401 signs out, 403/404 explain that the view is
 * outside what this token may see, 429/503/unreachable offer a retry. A slower, older answer
 * never overwrites a newer one.
 */
export async function load<T>(el: HTMLElement, what: string, fetcher: () => Promise<T>, render: (answer: T) => void): Promise<void> {
  const mine = (generation.get(el) ?? 0) + 1;
  generation.set(el, mine);
  el.setAttribute('aria-busy', 'true');
  el.dataset.state = 'loading';
  fill(el, h('p', { class: 'state loading' }, t().loading(what)));
  try {
    const answer = await fetcher();
    if (generation.get(el) !== mine) return;
    el.replaceChildren();
    render(answer);
    el.dataset.state = 'ready';
    restoreFocus();
  } catch (err) {
    if (generation.get(el) !== mine) return;
    const failure = err instanceof ApiFailure ? err : new ApiFailure(-1, 'client_error', (err as Error).message);
    el.dataset.state = 'error';
    el.dataset.status = String(failure.status);
    if (failure.status === 401) {
      unauthorized(failure);
      return;
    }
    fill(el, failureNotice(failure, what, () => void load(el, what, fetcher, render)));
    announce(t().couldNotLoad(what));
  } finally {
    if (generation.get(el) === mine) el.removeAttribute('aria-busy');
  }
}

function failureNotice(failure: ApiFailure, what: string, retry: () => void) {
  const { status } = failure;
  const retryable = status === 0 || status === 429 || status >= 500;
  const s = t();
  const title =
    status === 403 ? s.failed403
    : status === 404 ? s.failed404
    : status === 400 ? s.failed400
    : status === 429 ? s.failed429
    : status === 0 ? s.failed0
    : status >= 500 ? s.failed5xx
    : s.failedOther;
  const explanation =
    status === 403 ? s.explain403(what)
    : status === 404 ? s.explain404(what)
    : retryable ? s.explainRetry(what, failure.retryAfterSeconds)
    : s.explainAnswer(failure.message);
  return h(
    'div',
    { class: `state error status-${status}`, role: 'alert', 'data-error-status': status },
    h('h3', {}, title),
    h('p', {}, explanation),
    status === 400 || status === 403 || status === 404 ? h('p', { class: 'detail' }, `(${status}: ${failure.message})`) : null,
    retryable ? retryButton(retry) : null,
  );
}

function retryButton(retry: () => void) {
  const button = h('button', { type: 'button', class: 'retry' }, t().tryAgain);
  button.addEventListener('click', retry);
  return button;
}

/** A section of a view: a heading and the element its content loads into. */
export function section(id: string, title: string, intro?: string): { root: HTMLElement; body: HTMLElement } {
  const headingId = `${id}-heading`;
  const body = h('div', { class: 'section-body', 'aria-live': 'polite' });
  const root = h('section', { class: `card ${id}`, 'data-section': id, 'aria-labelledby': headingId }, h('h2', { id: headingId }, title), intro ? h('p', { class: 'intro' }, intro) : null, body);
  return { root, body };
}
