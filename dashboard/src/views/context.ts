import type { Api } from '../api.js';
import type { Claims } from '../token.js';
import type { ViewState } from '../state.js';
import { navigate, remember, viewLink } from '../state.js';
import { isLeaderboardKey, type LeaderboardKey } from '../components/leaderboard.js';

/** What every view is drawn from: the API with the viewer's token, who they are, and the URL's view. */
export interface ViewContext {
  api: Api;
  claims: Claims;
  state: ViewState;
  main: HTMLElement;
}

/** The period query of a view's URL. */
export const period = (state: ViewState) => ({ from: state.from, to: state.to });
export const granularityOf = (state: ViewState) => (state.granularity ?? 'day') as 'day' | 'week' | 'month';
export const pageSize = (state: ViewState) => Number(state.limit ?? 25);
/** The API's `compare` of a view: the period before unless the URL says a year earlier or none. */
export const compareOf = (state: ViewState): 'previous' | 'year' | undefined => (state.compare === 'none' ? undefined : state.compare === 'year' ? 'year' : 'previous');

export function leaderboardSort(state: ViewState, fallback: LeaderboardKey = 'rank'): { sort: LeaderboardKey; dir: 'asc' | 'desc'; onSort: (key: LeaderboardKey, dir: 'asc' | 'desc') => void } {
  const sort = isLeaderboardKey(state.sort) ? state.sort : fallback;
  const dir = state.dir === 'asc' || state.dir === 'desc' ? state.dir : sort === 'rank' || sort === 'mentorId' ? 'asc' : 'desc';
  return { sort, dir, onSort: (key, d) => navigate({ sort: key, dir: d }, { replace: true }) };
}

/** A drill-down link to one mentor, keeping the period. */
export const mentorHref = (state: ViewState, mentorId: string, orgId?: string) =>
  viewLink({ view: 'mentor', mentor: mentorId, org: orgId ?? state.org, from: state.from, to: state.to, granularity: state.granularity, compare: state.compare }, { reset: true });

/** The leaderboard's search, kept in the URL (`q`) as it is typed. */
export const mentorSearch = (state: ViewState) => ({ value: state.q ?? '', onSearch: (value: string) => remember({ q: value || undefined }) });
