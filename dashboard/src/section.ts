import { ApiFailure } from './api.js';
import { announce, fill, h } from './dom.js';
import { restoreFocus } from './state.js';

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
  fill(el, h('p', { class: 'state loading' }, `Loading ${what}…`));
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
    announce(`Could not load ${what}`);
  } finally {
    if (generation.get(el) === mine) el.removeAttribute('aria-busy');
  }
}

function failureNotice(failure: ApiFailure, what: string, retry: () => void) {
  const { status } = failure;
  const retryable = status === 0 || status === 429 || status >= 500;
  const title =
    status === 403 ? 'Not available to your role'
    : status === 404 ? 'Not found, or outside what you may see'
    : status === 400 ? 'The view asks for something the service refuses'
    : status === 429 ? 'Too many requests'
    : status === 0 ? 'The service cannot be reached'
    : status >= 500 ? 'The service is busy or unavailable'
    : 'Something went wrong';
  const explanation =
    status === 403 ? `Your sign-in does not give access to ${what}. Use the navigation above to go back to your own view.`
    : status === 404 ? `There is no ${what} here that your sign-in may read. It may not exist, or it belongs to someone outside your scope.`
    : retryable ? `The ${what} could not be loaded just now${failure.retryAfterSeconds ? `; the service asks to wait ${failure.retryAfterSeconds} s` : ''}. Your view is kept; try again.`
    : `The service answered: ${failure.message}`;
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
  const button = h('button', { type: 'button', class: 'retry' }, 'Try again');
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
