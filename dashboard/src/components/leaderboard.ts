import type { MentorPerformanceSummary } from '../api.js';
import { h } from '../dom.js';
import { countChange, hasBasis } from '../compare.js';
import { formatCount } from '../format.js';
import { t } from '../i18n.js';
import { change, count, rate } from './funnel.js';
import { mentorCell, mentorLabel, mentorMatches } from './mentor-name.js';

/** The columns, in order; their headings are the catalogue's `leaderboard` strings. */
export const LEADERBOARD_COLUMNS = [{ key: 'rank' }, { key: 'mentorId' }, { key: 'registrations' }, { key: 'activations' }, { key: 'clickToRegistration' }, { key: 'uniqueClicks' }, { key: 'clicks' }] as const;
export type LeaderboardKey = (typeof LEADERBOARD_COLUMNS)[number]['key'];
export const isLeaderboardKey = (k: string | undefined): k is LeaderboardKey => LEADERBOARD_COLUMNS.some((c) => c.key === k);

function valueOf(item: MentorPerformanceSummary, key: LeaderboardKey): number | string {
  switch (key) {
    case 'rank': return item.rank;
    case 'mentorId': return mentorLabel(item).toLocaleLowerCase();
    case 'clickToRegistration': return item.conversion.clickToRegistration ?? -1;
    default: return item.totals[key];
  }
}

/**
 * Mentors in a table that sorts by any column (header buttons; aria-sort says which), ranked by
 * the API, each by name with the id beneath. With `search`, a search box above it keeps the rows
 * whose name or id holds the text (as you type; `onSearch` keeps the text, e.g. in the URL).
 */
export function renderLeaderboard(
  el: HTMLElement,
  items: MentorPerformanceSummary[],
  options: {
    sort: LeaderboardKey; dir: 'asc' | 'desc'; onSort: (key: LeaderboardKey, dir: 'asc' | 'desc') => void; mentorHref: (mentorId: string) => string | null; caption: string;
    search?: { value: string; onSearch: (value: string) => void };
  },
): void {
  const s = t();
  if (items.length === 0) {
    el.append(h('p', { class: 'state empty' }, s.noMentors));
    return;
  }
  const { sort, dir } = options;
  const sorted = [...items].sort((a, b) => {
    const x = valueOf(a, sort);
    const y = valueOf(b, sort);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return (dir === 'asc' ? order : -order) || a.rank - b.rank;
  });
  const header = LEADERBOARD_COLUMNS.map((c) => {
    const active = c.key === sort;
    const next = active && dir === 'desc' ? 'asc' : active ? 'desc' : c.key === 'rank' || c.key === 'mentorId' ? 'asc' : 'desc';
    const button = h('button', { type: 'button', class: 'sort', id: `sort-${c.key}` }, s.leaderboard[c.key], h('span', { 'aria-hidden': 'true', class: 'arrow' }, active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''));
    button.addEventListener('click', () => options.onSort(c.key, next));
    return h('th', { scope: 'col', class: c.key === 'mentorId' ? '' : 'n', 'aria-sort': active ? (dir === 'asc' ? 'ascending' : 'descending') : null }, button);
  });
  const region = h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': options.caption },
    h(
      'table',
      { class: 'leaderboard' },
      h('caption', {}, options.caption),
      h('thead', {}, h('tr', {}, header)),
      h(
        'tbody',
        {},
        sorted.map((m) => {
          const href = options.mentorHref(m.mentorId);
          return h(
            'tr',
            { 'data-mentor': m.mentorId },
            h('td', { class: 'n' }, count('rank', m.rank)),
            h('th', { scope: 'row', class: 'mentor' }, mentorCell(m, href)),
            h('td', { class: 'n' }, count('registrations', m.totals.registrations), changeOf(m, 'registrations')),
            h('td', { class: 'n' }, count('activations', m.totals.activations), changeOf(m, 'activations')),
            h('td', { class: 'n' }, rate('clickToRegistration', m.conversion.clickToRegistration)),
            h('td', { class: 'n' }, count('uniqueClicks', m.totals.uniqueClicks)),
            h('td', { class: 'n' }, count('clicks', m.totals.clicks)),
          );
        }),
      ),
    ),
  );
  if (options.search) el.append(searchBox(region, items, options.search));
  el.append(region);
}

/** With `previous` (mentor-performance with compare), a mentor's change beneath a count. */
function changeOf(m: MentorPerformanceSummary, key: 'registrations' | 'activations') {
  if (!m.previous) return null;
  const before = m.previous.totals[key];
  return h('span', { class: 'sub' }, change(key, countChange(m.totals[key], before, hasBasis(m.previous)), 'count', formatCount(before)));
}

/** The search box of a leaderboard: hides the rows whose mentor does not match, and says how many do. */
function searchBox(region: HTMLElement, items: MentorPerformanceSummary[], search: { value: string; onSearch: (value: string) => void }) {
  const input = h('input', { id: 'mentor-search', type: 'search', value: search.value, autocomplete: 'off', spellcheck: 'false', placeholder: t().nameOrId });
  const status = h('p', { class: 'search-status', 'aria-live': 'polite' });
  const apply = () => {
    const matching = new Set(items.filter((m) => mentorMatches(m, input.value)).map((m) => m.mentorId));
    for (const row of region.querySelectorAll<HTMLTableRowElement>('tbody tr[data-mentor]')) row.hidden = !matching.has(row.dataset.mentor as string);
    status.textContent = input.value.trim() === '' ? '' : matching.size === 0 ? t().noMentorMatches(input.value.trim()) : t().mentorsMatch(matching.size, items.length);
  };
  input.addEventListener('input', () => {
    apply();
    search.onSearch(input.value.trim());
  });
  apply();
  return h('div', { class: 'controls filters', role: 'search', 'aria-label': t().searchMentors }, h('div', { class: 'field' }, h('label', { for: 'mentor-search' }, t().findMentor), input), status);
}
