import type { Granularity, SeriesPoint } from '../api.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { formatDay } from '../format.js';
import { t } from '../i18n.js';
import { count, steps } from './funnel.js';

/** The period series: a line per funnel step, and the same numbers as a table (for screen readers, and to copy). */
export function renderSeries(el: HTMLElement, series: SeriesPoint[], granularity: Granularity, subject: string): void {
  const s = t();
  const STEPS = steps();
  const noun = s.granularityNoun[granularity];
  if (series.length === 0) {
    el.append(h('p', { class: 'state empty' }, s.noPeriods));
    return;
  }
  const chart = h('div', { class: 'chart series-chart' });
  const label = (p: SeriesPoint) => `${formatDay(p.periodStart, granularity)}${p.partial ? s.partial : ''}`;
  el.append(
    chart,
    h(
      'details',
      { class: 'series-details' },
      h('summary', {}, s.numbersPer(noun)),
      h(
        'div',
        { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': s.numbersPer(noun) },
        h(
          'table',
          { class: 'series-table' },
          h('caption', {}, s.subjectPer(subject, noun)),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, s.periodColumn), STEPS.map((step) => h('th', { scope: 'col', class: 'n' }, step.label)))),
          h('tbody', {}, series.map((p) => h('tr', { 'data-period': p.periodStart }, h('th', { scope: 'row' }, label(p)), STEPS.map((step) => h('td', { class: 'n' }, count(step.key, p[step.key])))))),
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
      series: STEPS.map((step) => ({ type: 'line' as const, name: step.label, data: series.map((p) => p[step.key]), showSymbol: series.length <= 40, symbolSize: 6 })),
    },
    s.seriesChart(subject, noun, series.length, label(series[0] as SeriesPoint), label(series[series.length - 1] as SeriesPoint)),
  );
}
