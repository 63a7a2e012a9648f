import { rangeControls } from '../components/controls.js';
import { renderLeaderboard } from '../components/leaderboard.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { load, section } from '../section.js';
import { leaderboardSort, mentorHref, period, type ViewContext } from './context.js';

const API_SORTS = ['registrations', 'activations', 'clickToRegistration'] as const;

/** A coordinator's mentors side by side and ranked (mentor-performance), each a link to that mentor's page. */
export function renderCoordinatorView(ctx: ViewContext, coordinatorId: string): void {
  const { api, state, main } = ctx;
  const controls = rangeControls(state, { granularity: false });
  const content = h('div', { class: 'view-content' });
  const order = leaderboardSort(state);
  // Ranks follow the API's ordering when the column is one it ranks by.
  const apiSort = (API_SORTS as readonly string[]).includes(order.sort) ? (order.sort as (typeof API_SORTS)[number]) : undefined;
  main.append(h('h1', {}, 'Your mentors'), controls.root, content);
  void load(content, 'mentor performance', () => api.mentorPerformance(coordinatorId, { ...period(state), sort: apiSort, limit: 200 }), (perf) => {
    controls.answered(perf);
    const board = section('mentor-performance', 'Mentor performance', `${perf.items.length} mentors in your scope, ${perf.from} to ${perf.to}. Choose a mentor for their funnel and recruits.`);
    const compare = section('compare', 'Side by side');
    content.append(board.root, compare.root);
    renderLeaderboard(board.body, perf.items, { ...order, mentorHref: (m) => mentorHref(state, m), caption: 'Mentors of your scope' });
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
        xAxis: { type: 'category', data: items.map((m) => m.mentorId), axisLabel: { color: '#333842', rotate: items.length > 6 ? 30 : 0 } },
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
