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
import { granularityOf, leaderboardSort, mentorHref, mentorSearch, period, type ViewContext } from './context.js';

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
  const controls = rangeControls(state, { granularity: true });
  const scope = h('div', { class: 'view-content' });
  const mentors = h('div', { class: 'view-content' });
  const campaigns = h('div', { class: 'view-content' });
  const order = leaderboardSort(state);
  // Ranks follow the API's ordering when the column is one it ranks by.
  const apiSort = (API_SORTS as readonly string[]).includes(order.sort) ? (order.sort as (typeof API_SORTS)[number]) : undefined;
  const followUp = h('div', { class: 'view-content' });
  main.append(h('h1', {}, 'Your mentors'), controls.root, scope, followUp, mentors, campaigns);
  void load(scope, "your scope's numbers", () => api.coordinatorSummary(coordinatorId, { ...period(state), granularity }), (answer) => {
    controls.answered(answer);
    const funnel = section('funnel', 'Funnel', `Your mentors' links, from clicks to activated members, ${answer.from} to ${answer.to}.`);
    const series = section('series', 'Over time');
    scope.append(funnel.root, series.root);
    const summaryCsv = () => api.csv.coordinatorSummary(coordinatorId, { ...period(state), granularity });
    withCsv(funnel, 'the funnel', summaryCsv);
    withCsv(series, 'the series', summaryCsv);
    followUp.replaceChildren(followUpSection({
      fetchPage: (stuckDays, limit) => api.coordinatorReferrals(coordinatorId, { stuckDays, limit }),
      download: (stuckDays) => api.csv.coordinatorReferrals(coordinatorId, { stuckDays }),
      timezone: answer.timezone,
      mentorHref: (m) => mentorHref(state, m),
    }));
    renderFunnel(funnel.body, answer.totals, answer.conversion, 'your mentors');
    renderSeries(series.body, answer.series, granularity, 'Your mentors');
    // The campaigns come with the same answer, drawn below the mentors.
    const side = section('campaigns', 'Campaigns', "Your mentors' campaigns side by side.");
    campaigns.replaceChildren(side.root);
    withCsv(side, 'the campaigns', summaryCsv);
    renderCampaigns(side.body, answer.campaigns);
  });

  void load(mentors, 'mentor performance', () => api.mentorPerformance(coordinatorId, { ...period(state), sort: apiSort, limit: 200 }), (perf) => {
    const board = section('mentor-performance', 'Mentor performance', `${perf.items.length} mentors in your scope, ${perf.from} to ${perf.to}. Find a mentor by name, and choose one for their funnel and recruits.`);
    const compare = section('compare', 'Side by side');
    mentors.append(board.root, compare.root);
    withCsv(board, 'mentor performance', () => api.csv.mentorPerformance(coordinatorId, { ...period(state), sort: apiSort, limit: 200 }));
    renderLeaderboard(board.body, perf.items, { ...order, mentorHref: (m) => mentorHref(state, m), caption: 'Mentors of your scope', search: mentorSearch(state) });
    if (perf.items.length === 0) {
      compare.root.remove();
      return;
    }
    const chart = h('div', { class: 'chart compare-chart' });
    compare.body.append(chart);
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
          { type: 'bar', name: 'Unique clicks', data: items.map((m) => m.totals.uniqueClicks) },
          { type: 'bar', name: 'Registrations', data: items.map((m) => m.totals.registrations) },
          { type: 'bar', name: 'Activations', data: items.map((m) => m.totals.activations) },
        ],
      },
      `Bar chart comparing ${items.length} mentors by unique clicks, registrations and activations; the table above has the numbers.`,
    );
  });
}
