import { renderCampaigns } from '../components/campaigns.js';
import { rangeControls } from '../components/controls.js';
import { renderFunnel } from '../components/funnel.js';
import { renderLeaderboard } from '../components/leaderboard.js';
import { mentorLabels } from '../components/mentor-name.js';
import { renderSeries } from '../components/series.js';
import { withCsv } from '../components/csv-button.js';
import { followUpSection } from '../components/follow-up.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { load, section } from '../section.js';
import { formatRange } from '../format.js';
import { t } from '../i18n.js';
import { compareOf, granularityOf, leaderboardSort, mentorHref, mentorSearch, period, type ViewContext } from './context.js';

const API_SORTS = ['registrations', 'activations', 'clickToRegistration'] as const;

/**
 * A coordinator's page: what the org admin's has, cut to the scope. The scope's funnel with
 * conversion between steps, its series by day, week or month, and its campaigns
 * (coordinators/{id}/recruitment-summary); the mentors ranked and side by side
 * (mentor-performance), each a link to that mentor's page, found by name.
 */
export function renderCoordinatorView(ctx: ViewContext, coordinatorId: string): void {
  const { api, state, main } = ctx;
  const granularity = granularityOf(state);
  const s = t();
  const compare = compareOf(state);
  const controls = rangeControls(state, { granularity: true, compare: true });
  const scope = h('div', { class: 'view-content' });
  const mentors = h('div', { class: 'view-content' });
  const campaigns = h('div', { class: 'view-content' });
  const order = leaderboardSort(state);
  // Ranks follow the API's ordering when the column is one it ranks by.
  const apiSort = (API_SORTS as readonly string[]).includes(order.sort) ? (order.sort as (typeof API_SORTS)[number]) : undefined;
  const followUp = h('div', { class: 'view-content' });
  // A coordinator id may have a scope in several organizations: one the URL names is asked for (a platform admin's link).
  const inOrg = state.org ? { orgId: state.org } : {};
  main.append(h('h1', {}, s.yourMentors), controls.root, scope, followUp, mentors, campaigns);
  void load(scope, s.whatScope, () => api.coordinatorSummary(coordinatorId, { ...period(state), granularity, compare, ...inOrg }), (answer) => {
    controls.answered(answer);
    const funnel = section('funnel', s.funnel, s.coordFunnelIntro(formatRange(answer)));
    const series = section('series', s.overTime);
    scope.append(funnel.root, series.root);
    const summaryCsv = () => api.csv.coordinatorSummary(coordinatorId, { ...period(state), granularity, ...inOrg });
    withCsv(funnel, 'funnel', summaryCsv);
    withCsv(series, 'series', summaryCsv);
    followUp.replaceChildren(followUpSection({
      fetchPage: (stuckDays, limit) => api.coordinatorReferrals(coordinatorId, { stuckDays, limit, ...inOrg }),
      download: (stuckDays) => api.csv.coordinatorReferrals(coordinatorId, { stuckDays, ...inOrg }),
      timezone: answer.timezone,
      mentorHref: (m) => mentorHref(state, m),
    }));
    renderFunnel(funnel.body, answer.totals, answer.conversion, s.yourMentorsLower, answer.previous);
    renderSeries(series.body, answer.series, granularity, s.yourMentors);
    // The campaigns come with the same answer, drawn below the mentors.
    const side = section('campaigns', s.campaigns, s.coordCampaignsIntro);
    campaigns.replaceChildren(side.root);
    withCsv(side, 'campaigns', summaryCsv);
    renderCampaigns(side.body, answer.campaigns);
  });

  void load(mentors, s.whatPerformance, () => api.mentorPerformance(coordinatorId, { ...period(state), sort: apiSort, limit: 200, compare, ...inOrg }), (perf) => {
    const board = section('mentor-performance', s.mentorPerformance, s.performanceIntro(perf.items.length, formatRange(perf)));
    const sideBySide = section('compare', s.sideBySide);
    mentors.append(board.root, sideBySide.root);
    withCsv(board, 'mentorPerformance', () => api.csv.mentorPerformance(coordinatorId, { ...period(state), sort: apiSort, limit: 200, ...inOrg }));
    renderLeaderboard(board.body, perf.items, { ...order, mentorHref: (m) => mentorHref(state, m), caption: s.scopeCaption, search: mentorSearch(state) });
    if (perf.items.length === 0) {
      sideBySide.root.remove();
      return;
    }
    const chart = h('div', { class: 'chart compare-chart' });
    sideBySide.body.append(chart);
    const items = [...perf.items].sort((a, b) => a.rank - b.rank);
    drawChart(
      chart,
      {
        grid: { left: 48, right: 16, top: 40, bottom: 40, containLabel: true },
        legend: { top: 0 },
        tooltip: { trigger: 'axis', renderMode: 'richText' },
        xAxis: { type: 'category', data: mentorLabels(items), axisLabel: { color: '#333842', rotate: items.length > 6 ? 30 : 0 } },
        yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#333842' } },
        series: [
          { type: 'bar', name: s.steps.uniqueClicks, data: items.map((m) => m.totals.uniqueClicks) },
          { type: 'bar', name: s.steps.registrations, data: items.map((m) => m.totals.registrations) },
          { type: 'bar', name: s.steps.activations, data: items.map((m) => m.totals.activations) },
        ],
      },
      s.mentorsChart(items.length),
    );
  });
}
