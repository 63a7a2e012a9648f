import type { OrgReferralPage } from '../api.js';
import { fill, h } from '../dom.js';
import { formatInstant } from '../format.js';
import { t } from '../i18n.js';
import { load, section } from '../section.js';
import { csvButton } from './csv-button.js';
import { mentorCell, mentorLabel } from './mentor-name.js';
import { stageLabel } from './referrals.js';

type Referral = OrgReferralPage['items'][number];
const DAY_MS = 86_400_000;
/** The recruits the section shows at most (one page of the API); the CSV has them all. */
const SHOWN = 200;
export const DEFAULT_STUCK_DAYS = 7;

/**
 * "Needs follow-up" (coordinators and org admins): the recruits who registered and have not
 * activated for `stuckDays` days or more (the referrals route's `stuckDays`), grouped by mentor
 * (most waiting first), each mentor's recruits longest waiting first, so a coordinator can ask
 * each mentor to nudge their own recruits. The number of days is the viewer's to change.
 */
export function followUpSection(options: {
  fetchPage: (stuckDays: number, limit: number) => Promise<OrgReferralPage>;
  download: (stuckDays: number) => Promise<void>;
  timezone: string;
  mentorHref: (mentorId: string) => string | null;
}): HTMLElement {
  const T = t().followUp;
  const part = section('follow-up', T.title);
  const intro = h('p', { class: 'intro' });
  const days = h('input', { id: 'follow-up-days', type: 'number', min: 0, max: 3650, step: 1, value: DEFAULT_STUCK_DAYS, inputmode: 'numeric' });
  const list = h('div', { class: 'follow-up-list', 'aria-live': 'polite' });
  let stuckDays = DEFAULT_STUCK_DAYS;
  const show = () => {
    intro.textContent = T.intro(stuckDays);
    void load(list, T.what, () => options.fetchPage(stuckDays, SHOWN), (page) => renderGroups(list, page, stuckDays, options));
  };
  days.addEventListener('change', () => {
    const n = Number(days.value);
    if (!Number.isInteger(n) || n < 0 || n > 3650) return;
    stuckDays = n;
    show();
  });
  part.body.append(
    intro,
    h('div', { class: 'controls filters' }, h('div', { class: 'field' }, h('label', { for: 'follow-up-days' }, T.daysLabel), days), csvButton('followUp', () => options.download(stuckDays))),
    list,
  );
  show();
  return part.root;
}

function renderGroups(el: HTMLElement, page: OrgReferralPage, stuckDays: number, options: { timezone: string; mentorHref: (mentorId: string) => string | null }) {
  const T = t().followUp;
  if (page.items.length === 0) {
    fill(el, h('p', { class: 'state empty' }, T.empty(stuckDays)));
    return;
  }
  const byMentor = new Map<string, Referral[]>();
  for (const r of page.items) byMentor.set(r.mentorId, [...(byMentor.get(r.mentorId) ?? []), r]);
  const groups = [...byMentor.values()].sort((a, b) => b.length - a.length || mentorLabel(a[0] as Referral).localeCompare(mentorLabel(b[0] as Referral)));
  const now = Date.now();
  fill(
    el,
    h('p', { class: 'follow-up-total' }, T.total(page.items.length, groups.length)),
    page.nextCursor !== null ? h('p', { class: 'state note' }, T.more(page.items.length)) : null,
    groups.map((recruits) => {
      const first = recruits[0] as Referral;
      const waiting = [...recruits].sort((a, b) => a.stageSince.localeCompare(b.stageSince));
      return h(
        'div',
        { class: 'follow-up-mentor', 'data-mentor': first.mentorId },
        h('h3', {}, mentorCell(first, options.mentorHref(first.mentorId)), h('span', { class: 'waiting-count', 'data-value': recruits.length }, ` · ${T.mentorWaiting(recruits.length)}`)),
        h(
          'div',
          { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': T.caption(mentorLabel(first), options.timezone) },
          h(
            'table',
            { class: 'follow-up' },
            h('caption', { class: 'visually-hidden' }, T.caption(mentorLabel(first), options.timezone)),
            h('thead', {}, h('tr', {}, [T.columns.recruit, T.columns.stage, T.columns.since, T.columns.waiting].map((c, i) => h('th', { scope: 'col', class: i === 3 ? 'n' : '' }, c)))),
            h(
              'tbody',
              {},
              waiting.map((r) => {
                const waited = Math.floor((now - Date.parse(r.stageSince)) / DAY_MS);
                return h(
                  'tr',
                  { 'data-referral': r.referralId },
                  h('th', { scope: 'row', class: 'recruit' }, r.displayName ?? r.userId, r.displayName ? h('span', { class: 'sub' }, r.userId) : null),
                  h('td', {}, h('span', { class: `stage stage-${r.stage.toLowerCase()}`, 'data-stage': r.stage }, stageLabel(r.stage))),
                  h('td', { class: 'when', 'data-value': r.stageSince }, h('time', { datetime: r.stageSince }, formatInstant(r.stageSince, options.timezone))),
                  h('td', { class: 'n', 'data-metric': 'waitingDays', 'data-value': waited }, T.waitingDays(waited)),
                );
              }),
            ),
          ),
        ),
      );
    }),
  );
}
