import type { ConversionRecord, RecruitProfile, Stage } from '../api.js';
import { announce, fill, h } from '../dom.js';
import { instantParts } from '../format.js';
import { t } from '../i18n.js';
import { load } from '../section.js';
import { explainButton } from './explanation.js';
import { mentorCell } from './mentor-name.js';

type Referral = RecruitProfile & { mentorId?: string; mentorName?: string | null };
type Page = { items: Referral[]; nextCursor: string | null };
/** A recruit's conversion record with its explanation, for the view's organization (see components/explanation.ts). */
type Explain = (userId: string) => Promise<ConversionRecord>;

/** A stage as the page names it, in its language. */
export const stageLabel = (stage: Stage): string => t().stages[stage];

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
  const previous = h('button', { type: 'button', class: 'page-prev' }, t().previousPage);
  const next = h('button', { type: 'button', class: 'page-next' }, t().nextPage);
  let page = 0;
  let nextCursor: string | null = null;
  const show = () =>
    load(body, t().whatReferrals, () => options.fetchPage(cursors[page]), (answer) => {
      nextCursor = answer.nextCursor;
      previous.disabled = page === 0;
      next.disabled = nextCursor === null;
      status.textContent = answer.items.length === 0 ? '' : t().pageStatus(page + 1, nextCursor === null, answer.items.length);
      body.dataset.page = String(page + 1);
      if (answer.items.length === 0) {
        fill(body, h('p', { class: 'state empty' }, options.filtered ? t().noReferralsFiltered : t().noReferrals));
        return;
      }
      fill(body, table(answer.items, options));
      if (page > 0) announce(t().pageOfReferrals(page + 1));
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
  el.append(body, h('nav', { class: 'pager', 'aria-label': t().referralPages }, previous, status, next));
  void show();
}

function table(items: Referral[], options: { timezone: string; showMentor: boolean; mentorHref: (mentorId: string) => string | null; explain?: Explain }) {
  // Date and time as two unbreakable pieces: the column wraps between them, so all eight
  // columns fit a 1280 px screen without scrolling sideways.
  const when = (iso: string | null) => {
    if (!iso) return h('td', { class: 'when', 'data-value': 'null' }, '–');
    const [date, time] = instantParts(iso, options.timezone);
    const dateText = date.trimEnd(); // the space after the separator stays between the pieces, where the line may break
    return h('td', { class: 'when', 'data-value': iso }, h('time', { datetime: iso }, h('span', { class: 'date' }, dateText), date.slice(dateText.length), h('span', { class: 'time' }, time)));
  };
  const s = t();
  const columns = [s.recruit, ...(options.showMentor ? [s.mentor] : []), s.campaign, s.stage, s.stages.CLICKED, s.stages.INSTALLED, s.stages.REGISTERED, s.stages.ACTIVATED];
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': s.referrals },
    h(
      'table',
      { class: 'referrals' },
      h('caption', {}, s.referralsCaption(options.timezone)),
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
            h('td', {}, h('span', { class: `stage stage-${r.stage.toLowerCase()}`, 'data-stage': r.stage }, stageLabel(r.stage))),
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
