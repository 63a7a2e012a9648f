import './explanation.css';
import type { ConversionRecord } from '../api.js';
import { announce, h, uid } from '../dom.js';
import { formatInstant } from '../format.js';
import { load } from '../section.js';
import { mentorCell, mentorLabel } from './mentor-name.js';

type Explanation = NonNullable<ConversionRecord['explanation']>;
type Candidate = Explanation['candidates'][number];
type Kind = Candidate['kind'];
type Reason = NonNullable<Candidate['reason']>;

/** Every word of the explanation timeline, in one place for translation. */
export const EXPLANATION_STRINGS = {
  open: 'Why counted',
  close: 'Hide why',
  openLabel: (recruit: string) => `Why ${recruit} is counted for their mentor`,
  what: 'the explanation',
  heading: (recruit: string) => `How ${recruit} was attributed`,
  ruleLink: (mentor: string, linkId: string) => `Registered through ${mentor}’s link ${linkId}.`,
  ruleDevice: (mentor: string, linkId: string) => `Attributed by device: the last touch before registering, on ${mentor}’s link ${linkId}.`,
  window: (days: number, from: string, to: string) => `The ${days}-day window: ${from} to ${to}.`,
  timeline: (recruit: string) => `Touches of ${recruit}, oldest first`,
  windowOpens: (days: number) => `The ${days}-day window opens`,
  registered: 'Registered',
  kinds: { CLICK: 'Click', INSTALL: 'Install', REGISTRATION: 'Registration' } satisfies Record<Kind, string>,
  link: (linkId: string) => `link ${linkId}`,
  hiddenLink: 'a link outside what you may see',
  noLink: 'no link',
  unknownLink: 'a link the service does not know',
  noMentor: 'no mentor',
  hiddenMentor: 'mentor not shown',
  wonDevice: (days: number) => `won: the last touch within ${days} days before registering`,
  wonLink: 'won: the registration named this link',
  outcomes: {
    EARLIER_TOUCH: 'an earlier touch',
    OUTSIDE_WINDOW: (days: number) => `outside the ${days}-day window`,
    OTHER_ORG: 'in another organization',
    SELF_REFERRAL: 'the mentor’s own link',
  },
  notCounted: { bot: 'not counted: a bot', revoked: 'not counted: link revoked', expired: 'not counted: link expired', unknown_link: 'not counted: link unknown', no_link: 'not counted: no link' } satisfies Record<Reason, string>,
  unavailable: 'The facts behind this attribution are not available (they are older than the explanations, or were removed), so the touches cannot be shown.',
  attributedBy: (rule: 'LINK' | 'DEVICE', mentor: string, linkId: string) => (rule === 'LINK' ? `Registered through ${mentor}’s link ${linkId}.` : `Attributed by device to ${mentor}’s link ${linkId}.`),
  times: (timezone: string) => `Times in ${timezone}.`,
  opened: (recruit: string) => `Showing how ${recruit} was attributed`,
};
const S = EXPLANATION_STRINGS;

const DAY_MS = 86_400_000;

export interface ExplainOptions {
  /** The recruit's conversion record, fetched with the viewer's token for the view's organization. */
  fetch: () => Promise<ConversionRecord>;
  recruit: string;
  timezone: string;
  mentorHref: (mentorId: string) => string | null;
}

/**
 * A button for a recruit's row of the referral table that opens, in a row of its own beneath
 * it, the recruit's attribution explained (SPEC §5 `explanation`) as a small timeline. The
 * button says whether it is open (aria-expanded) and which row it controls; Escape inside the
 * timeline closes it and puts focus back on the button.
 */
export function explainButton(options: ExplainOptions): HTMLButtonElement {
  const id = uid('explanation');
  const button = h('button', { type: 'button', class: 'explain', 'aria-expanded': 'false', 'aria-controls': id, 'aria-label': S.openLabel(options.recruit) }, S.open);
  let detail: HTMLTableRowElement | null = null;
  const close = () => {
    detail?.remove();
    detail = null;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = S.open;
  };
  button.addEventListener('click', () => {
    if (detail) return close();
    const row = button.closest('tr');
    if (!row) return;
    const columns = row.children.length;
    const body = h('div', { class: 'explanation-body', 'aria-live': 'polite' });
    const region = h('section', { class: 'explanation', 'aria-labelledby': `${id}-heading`, tabindex: -1 }, h('h3', { id: `${id}-heading` }, S.heading(options.recruit)), body);
    region.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      close();
      button.focus();
    });
    detail = h('tr', { class: 'explanation-row', id }, h('td', { colspan: columns }, region));
    row.after(detail);
    button.setAttribute('aria-expanded', 'true');
    button.textContent = S.close;
    void load(body, S.what, options.fetch, (record) => {
      renderExplanation(body, record, options);
      announce(S.opened(options.recruit));
    });
  });
  return button;
}

/** The rule in one sentence, the window, and every touch in time order with its outcome. */
export function renderExplanation(el: HTMLElement, record: ConversionRecord, options: Pick<ExplainOptions, 'timezone' | 'mentorHref' | 'recruit'>): void {
  const mentor = mentorLabel({ mentorId: record.mentorId, mentorName: record.mentorName });
  const e = record.explanation;
  el.dataset.rule = e?.rule ?? 'null';
  if (e === null) {
    el.append(h('p', { class: 'rule' }, S.attributedBy(record.attributedBy, mentor, record.linkId)), h('p', { class: 'state unavailable' }, S.unavailable));
    return;
  }
  const at = (iso: string) => h('time', { datetime: iso }, formatInstant(iso, options.timezone));
  const days = Math.round((Date.parse(e.windowTo) - Date.parse(e.windowFrom)) / DAY_MS);
  const windowFrom = Date.parse(e.windowFrom);
  const touches = [...e.candidates].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || kindOrder(a.kind) - kindOrder(b.kind));
  const items: HTMLLIElement[] = [];
  let opened = false;
  const openWindow = () => {
    if (opened) return;
    opened = true;
    items.push(h('li', { class: 'mark window-opens', 'data-mark': 'window-opens' }, h('span', { class: 'when' }, at(e.windowFrom)), h('span', { class: 'what' }, S.windowOpens(days))));
  };
  for (const c of touches) {
    if (Date.parse(c.occurredAt) >= windowFrom) openWindow();
    items.push(touchItem(c, e.rule, days, at, options.mentorHref));
  }
  openWindow();
  // The registration closes the window; it is a candidate itself when it named a link.
  if (!touches.some((c) => c.kind === 'REGISTRATION')) {
    items.push(h('li', { class: 'mark registered', 'data-mark': 'registered' }, h('span', { class: 'when' }, at(e.windowTo)), h('span', { class: 'what' }, S.registered)));
  }
  el.append(
    h('p', { class: 'rule', 'data-rule': e.rule }, e.rule === 'LINK' ? S.ruleLink(mentor, record.linkId) : S.ruleDevice(mentor, record.linkId)),
    h('p', { class: 'window' }, S.window(days, formatInstant(e.windowFrom, options.timezone), formatInstant(e.windowTo, options.timezone)), ' ', S.times(options.timezone)),
    h('ol', { class: 'timeline', 'aria-label': S.timeline(options.recruit) }, items),
  );
}

const kindOrder = (k: Kind) => (k === 'CLICK' ? 0 : k === 'INSTALL' ? 1 : 2);

function touchItem(c: Candidate, rule: Explanation['rule'], days: number, at: (iso: string) => HTMLElement, mentorHref: (mentorId: string) => string | null): HTMLLIElement {
  const link = c.linkId !== null ? S.link(c.linkId) : c.reason === 'no_link' ? S.noLink : c.reason === 'unknown_link' ? S.unknownLink : S.hiddenLink;
  const who = c.mentorId === null ? h('span', { class: 'mentor none' }, c.reason === 'no_link' || c.reason === 'unknown_link' ? S.noMentor : S.hiddenMentor) : h('span', { class: 'mentor' }, mentorCell({ mentorId: c.mentorId, mentorName: c.mentorName }, mentorHref(c.mentorId)));
  return h(
    'li',
    {
      class: `touch outcome-${c.outcome.toLowerCase()}`, 'data-event': c.eventId, 'data-kind': c.kind, 'data-link': c.linkId ?? 'null', 'data-mentor': c.mentorId ?? 'null',
      'data-outcome': c.outcome, 'data-reason': c.reason ?? 'null', 'data-occurred': c.occurredAt,
    },
    h('span', { class: 'when' }, at(c.occurredAt)),
    h('span', { class: 'what' }, h('span', { class: 'kind' }, S.kinds[c.kind]), ' ', h('span', { class: 'link' }, link)),
    who,
    h('span', { class: 'outcome' }, outcomeText(c, rule, days)),
  );
}

export function outcomeText(c: Pick<Candidate, 'outcome' | 'reason'>, rule: Explanation['rule'], days: number): string {
  switch (c.outcome) {
    case 'WON': return rule === 'LINK' ? S.wonLink : S.wonDevice(days);
    case 'EARLIER_TOUCH': return S.outcomes.EARLIER_TOUCH;
    case 'OUTSIDE_WINDOW': return S.outcomes.OUTSIDE_WINDOW(days);
    case 'OTHER_ORG': return S.outcomes.OTHER_ORG;
    case 'SELF_REFERRAL': return S.outcomes.SELF_REFERRAL;
    case 'NOT_COUNTED': return S.notCounted[c.reason ?? 'unknown_link'];
  }
}
