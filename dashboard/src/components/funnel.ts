import type { Conversion, FunnelTotals } from '../api.js';
import { drawChart } from '../charts.js';
import { append, h } from '../dom.js';
import { formatCount, formatRate } from '../format.js';

export const STEPS: { key: keyof FunnelTotals; label: string }[] = [
  { key: 'clicks', label: 'Clicks' },
  { key: 'uniqueClicks', label: 'Unique clicks' },
  { key: 'installs', label: 'Installs' },
  { key: 'registrations', label: 'Registrations' },
  { key: 'activations', label: 'Activations' },
];

const RATES: { key: keyof Conversion; label: string }[] = [
  { key: 'clickToRegistration', label: 'Unique click → registration' },
  { key: 'registrationToActivation', label: 'Registration → activation' },
  { key: 'clickToActivation', label: 'Unique click → activation' },
];

/** A count as the page shows it, with the API's number in data-value. */
export const count = (metric: string, n: number) => h('span', { class: 'num', 'data-metric': metric, 'data-value': n }, formatCount(n));
export const rate = (name: string, r: number | null) => h('span', { class: 'num', 'data-rate': name, 'data-value': r === null ? 'null' : r }, formatRate(r));

/** Each step over the one before it; null when the step before is 0 (as the API does for its rates). */
export function stepRates(totals: FunnelTotals): (number | null)[] {
  return STEPS.map((step, i) => {
    if (i === 0) return null;
    const before = totals[(STEPS[i - 1] as (typeof STEPS)[number]).key];
    return before === 0 ? null : totals[step.key] / before;
  });
}

/** The funnel of a period: the API's three conversion rates, the funnel drawn, and every step with its conversion from the one before. */
export function renderFunnel(el: HTMLElement, totals: FunnelTotals, conversion: Conversion, subject: string): void {
  const steps = stepRates(totals);
  const chart = h('div', { class: 'chart funnel-chart' });
  append(el, [
    h('dl', { class: 'kpis' }, RATES.map((r) => h('div', { class: 'kpi' }, h('dt', {}, r.label), h('dd', {}, rate(r.key, conversion[r.key]))))),
    h(
      'div',
      { class: 'funnel-layout' },
      chart,
      h(
        'table',
        { class: 'funnel-table' },
        h('caption', {}, `Funnel of ${subject}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), h('th', { scope: 'col', class: 'n' }, 'Count'), h('th', { scope: 'col', class: 'n' }, 'From step before'))),
        h(
          'tbody',
          {},
          STEPS.map((step, i) =>
            h('tr', { 'data-step': step.key }, h('th', { scope: 'row' }, step.label), h('td', { class: 'n' }, count(step.key, totals[step.key])), h('td', { class: 'n' }, i === 0 ? '' : rate(`step-${step.key}`, steps[i] ?? null))),
          ),
        ),
      ),
    ),
    steps.some((r) => r !== null && r > 1) ? h('p', { class: 'intro note' }, 'A step can pass 100 %: people may register on the web without installing the app.') : null,
  ]);
  const max = Math.max(1, ...STEPS.map((s) => totals[s.key]));
  drawChart(
    chart,
    {
      series: [
        {
          type: 'funnel',
          sort: 'none',
          min: 0,
          max,
          minSize: '30%',
          gap: 2,
          left: '5%',
          width: '90%',
          label: { show: true, position: 'inside', color: '#fff', fontWeight: 'bold', formatter: (p: { name: string; value: unknown }) => `${p.name}: ${formatCount(Number(p.value))}` },
          labelLine: { show: false },
          data: STEPS.map((s) => ({ name: s.label, value: totals[s.key] })),
        },
      ],
      tooltip: { show: false },
    },
    `Funnel chart of ${subject}: ${STEPS.map((s) => `${s.label} ${formatCount(totals[s.key])}`).join(', ')}.`,
  );
}
