import './explanation.css';
import type { ConversionRecord } from '../api.js';
import { announce, h, uid } from '../dom.js';
import { formatInstant } from '../format.js';
import { t } from '../i18n.js';
import { load } from '../section.js';
import { mentorCell, mentorLabel } from './mentor-name.js';

type Explanation = NonNullable<ConversionRecord['explanation']>;
type Candidate = Explanation['candidates'][number];
type Kind = Candidate['kind'];


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
  const S = t().explanation;
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
  const S = t().explanation;
  const mentor = mentorLabel({ mentorId: record.mentorId, mentorName: record.mentorName });
  const e = record.explanation;
  el.dataset.rule = e?.rule ?? 'null';
  if (e === null) {
    el.append(h('p', { class: 'rule' }, record.attributedBy === 'LINK' ? S.ruleLink(mentor, record.linkId) : S.attributedByDevice(mentor, record.linkId)), h('p', { class: 'state unavailable' }, S.unavailable));
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
    ...(e.candidatesOmitted ? [h('p', { class: 'omitted', 'data-omitted': String(e.candidatesOmitted) }, S.omitted(e.candidatesOmitted))] : []),
  );
}

const kindOrder = (k: Kind) => (k === 'CLICK' ? 0 : k === 'INSTALL' ? 1 : 2);

function touchItem(c: Candidate, rule: Explanation['rule'], days: number, at: (iso: string) => HTMLElement, mentorHref: (mentorId: string) => string | null): HTMLLIElement {
  const S = t().explanation;
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
  const S = t().explanation;
  switch (c.outcome) {
    case 'WON': return rule === 'LINK' ? S.wonLink : S.wonDevice(days);
    case 'EARLIER_TOUCH': return S.earlierTouch;
    case 'OUTSIDE_WINDOW': return S.outsideWindow(days);
    case 'OTHER_ORG': return S.otherOrg;
    case 'SELF_REFERRAL': return S.selfReferral;
    case 'NOT_COUNTED': return S.notCounted[c.reason ?? 'unknown_link'];
  }
}
