import { h } from '../dom.js';
import { readClaims } from '../token.js';
import { t } from '../i18n.js';

/**
 * The signed-out state: why (no token yet, refused, expired, a role without a dashboard) and
 * a box to paste a token into. The token goes to this tab's sessionStorage only.
 */
export function renderSignIn(main: HTMLElement, reason: string | null, onToken: (token: string) => void): void {
  const s = t();
  const input = h('textarea', { id: 'token-input', name: 'token', rows: 4, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-help', required: true });
  const problem = h('p', { id: 'token-problem', class: 'problem', role: 'alert' });
  const form = h(
    'form',
    { class: 'sign-in-form' },
    h('label', { for: 'token-input' }, s.accessToken),
    input,
    h('p', { id: 'token-help', class: 'help' }, s.tokenHelp),
    problem,
    h('button', { type: 'submit' }, s.signIn),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!readClaims(token)) {
      problem.textContent = s.notAToken;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    onToken(token);
  });
  main.append(
    h(
      'section',
      { class: 'card sign-in', 'data-section': 'sign-in', 'aria-labelledby': 'sign-in-heading' },
      h('h1', { id: 'sign-in-heading' }, s.signInHeading),
      reason ? h('p', { class: 'reason', role: 'alert', 'data-reason': '' }, reason) : h('p', {}, s.needToken),
      form,
    ),
  );
}
