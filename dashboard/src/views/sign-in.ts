import { h } from '../dom.js';
import { readClaims } from '../token.js';

/**
 * The signed-out state: why (no token yet, refused, expired, a role without a dashboard) and
 * a box to paste a token into. The token goes to this tab's sessionStorage only.
 */
export function renderSignIn(main: HTMLElement, reason: string | null, onToken: (token: string) => void): void {
  const input = h('textarea', { id: 'token-input', name: 'token', rows: 4, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-help', required: true });
  const problem = h('p', { id: 'token-problem', class: 'problem', role: 'alert' });
  const form = h(
    'form',
    { class: 'sign-in-form' },
    h('label', { for: 'token-input' }, 'Access token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'Paste the token your organization gave you (it starts with "ey"). It stays in this browser tab and is forgotten when the tab closes. In development, `make demo` prints a ready-made link for each role.'),
    problem,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!readClaims(token)) {
      problem.textContent = 'That is not a valid token: it should be three parts separated by dots, with a role and a subject.';
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
      h('h1', { id: 'sign-in-heading' }, 'Sign in to the recruitment dashboard'),
      reason ? h('p', { class: 'reason', role: 'alert', 'data-reason': '' }, reason) : h('p', {}, 'You need an access token to see the numbers of your organization, your mentors or your own referrals.'),
      form,
    ),
  );
}
