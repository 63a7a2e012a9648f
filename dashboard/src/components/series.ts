import type { Granularity, SeriesPoint } from '../api.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { formatDay } from '../format.js';
import { STEPS, count } from './funnel.js';

/** The period series: a line per funnel step, and the same numbers as a table (for screen readers, and to copy). */
export function renderSeries(el: HTMLElement, series: SeriesPoint[], granularity: Granularity, subject: string): void {
  if (series.length === 0) {
    el.append(h('p', { class: 'state empty' }, 'No periods in this range.'));
    return;
  }
  const chart = h('div', { class: 'chart series-chart' });
  const label = (p: SeriesPoint) => `${formatDay(p.periodStart, granularity)}${p.partial ? ' (partial)' : ''}`;
  el.append(
    chart,
    h(
      'details',
      { class: 'series-details' },
      h('summary', {}, `Numbers per ${granularity} (table)`),
      h(
        'div',
        { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': `Numbers per ${granularity}` },
        h(
          'table',
          { class: 'series-table' },
          h('caption', {}, `${subject} per ${granularity}`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Period'), STEPS.map((s) => h('th', { scope: 'col', class: 'n' }, s.label)))),
          h('tbody', {}, series.map((p) => h('tr', { 'data-period': p.periodStart }, h('th', { scope: 'row' }, label(p)), STEPS.map((s) => h('td', { class: 'n' }, count(s.key, p[s.key])))))),
        ),
      ),
    ),
  );
  drawChart(
    chart,
    {
      grid: { left: 48, right: 16, top: 40, bottom: 40 },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      xAxis: { type: 'category', data: series.map(label), axisLabel: { color: '#333842' } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#333842' } },
      series: STEPS.map((s) => ({ type: 'line' as const, name: s.label, data: series.map((p) => p[s.key]), showSymbol: series.length <= 40, symbolSize: 6 })),
    },
    `Line chart of ${subject} per ${granularity}, ${series.length} periods from ${label(series[0] as SeriesPoint)} to ${label(series[series.length - 1] as SeriesPoint)}; the table below has the numbers.`,
  );
}
