import type { ConversionRecord, RecruitProfile, Stage } from '../api.js';
import { announce, fill, h } from '../dom.js';
import { formatInstant } from '../format.js';
import { load } from '../section.js';
import { explainButton } from './explanation.js';
import { mentorCell } from './mentor-name.js';

type Referral = RecruitProfile & { mentorId?: string; mentorName?: string | null };
type Page = { items: Referral[]; nextCursor: string | null };
/** A recruit's conversion record with its explanation, for the view's organization (see components/explanation.ts). */
type Explain = (userId: string) => Promise<ConversionRecord>;

export const STAGE_LABELS: Record<Stage, string> = { CLICKED: 'Clicked', INSTALLED: 'Installed', REGISTERED: 'Registered', ACTIVATED: 'Activated' };

/**
 * The referral list with each recruit's current stage and stage times, a page at a time
 * (the API's keyset cursor; Previous goes back through the cursors already seen).
 */
export function renderReferralList(
  el: HTMLElement,
  options: { fetchPage: (cursor: string | undefined) => Promise<Page>; timezone: string; showMentor: boolean; mentorHref: (mentorId: string) => string | null; filtered: boolean; explain?: Explain },
): void {
  const cursors: (string | undefined)[] = [undefined];
  const body = h('div', { class: 'referrals-body' });
  const status = h('p', { class: 'page-status', 'aria-live': 'polite' });
  const previous = h('button', { type: 'button', class: 'page-prev' }, 'Previous page');
  const next = h('button', { type: 'button', class: 'page-next' }, 'Next page');
  let page = 0;
  let nextCursor: string | null = null;
  const show = () =>
    load(body, 'referrals', () => options.fetchPage(cursors[page]), (answer) => {
      nextCursor = answer.nextCursor;
      previous.disabled = page === 0;
      next.disabled = nextCursor === null;
      status.textContent = answer.items.length === 0 ? '' : `Page ${page + 1}${nextCursor === null ? ' (last)' : ''}, ${answer.items.length} referrals`;
      body.dataset.page = String(page + 1);
      if (answer.items.length === 0) {
        fill(body, h('p', { class: 'state empty' }, options.filtered ? 'No referrals match these filters.' : 'No referrals yet.'));
        return;
      }
      fill(body, table(answer.items, options));
      if (page > 0) announce(`Page ${page + 1} of the referrals`);
    });
  previous.disabled = true;
  next.disabled = true;
  previous.addEventListener('click', () => {
    if (page === 0) return;
    page -= 1;
    void show();
  });
  next.addEventListener('click', () => {
    if (nextCursor === null) return;
    page += 1;
    cursors[page] = nextCursor;
    void show();
  });
  el.append(body, h('nav', { class: 'pager', 'aria-label': 'Referral pages' }, previous, status, next));
  void show();
}

function table(items: Referral[], options: { timezone: string; showMentor: boolean; mentorHref: (mentorId: string) => string | null; explain?: Explain }) {
  const when = (iso: string | null) => h('td', { class: 'when', 'data-value': iso ?? 'null' }, iso ? h('time', { datetime: iso }, formatInstant(iso, options.timezone)) : '–');
  const columns = ['Recruit', ...(options.showMentor ? ['Mentor'] : []), 'Campaign', 'Stage', 'Clicked', 'Installed', 'Registered', 'Activated'];
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Referrals' },
    h(
      'table',
      { class: 'referrals' },
      h('caption', {}, `Referrals, newest registration first; times in ${options.timezone}`),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        items.map((r) => {
          const href = r.mentorId ? options.mentorHref(r.mentorId) : null;
          return h(
            'tr',
            { 'data-referral': r.referralId },
            h(
              'th',
              { scope: 'row', class: 'recruit' },
              r.displayName ?? r.userId,
              r.displayName ? h('span', { class: 'sub' }, r.userId) : null,
              options.explain ? explainButton({ fetch: () => (options.explain as Explain)(r.userId), recruit: r.displayName ?? r.userId, timezone: options.timezone, mentorHref: options.mentorHref }) : null,
            ),
            options.showMentor ? h('td', { class: 'mentor' }, r.mentorId ? mentorCell({ mentorId: r.mentorId, mentorName: r.mentorName ?? null }, href) : '') : null,
            h('td', {}, r.campaignId ?? '–'),
            h('td', {}, h('span', { class: `stage stage-${r.stage.toLowerCase()}`, 'data-stage': r.stage }, STAGE_LABELS[r.stage])),
            when(r.clickedAt),
            when(r.installedAt),
            when(r.registeredAt),
            when(r.activatedAt),
          );
        }),
      ),
    ),
  );
}
