import type { Conversion, FunnelTotals, PreviousPeriod } from '../api.js';
import { drawChart } from '../charts.js';
import { countChange, hasBasis, rateChange } from '../compare.js';
import { append, h } from '../dom.js';
import { formatChange, formatCount, formatDay, formatPoints, formatRange, formatRate } from '../format.js';
import { t } from '../i18n.js';

const STEP_KEYS = ['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations'] as const;
const RATE_KEYS = ['clickToRegistration', 'registrationToActivation', 'clickToActivation'] as const;

/** The funnel's steps, named in the page's language. */
export const steps = (): { key: keyof FunnelTotals; label: string }[] => STEP_KEYS.map((key) => ({ key, label: t().steps[key] }));

/** A count as the page shows it, with the API's number in data-value. */
export const count = (metric: string, n: number) => h('span', { class: 'num', 'data-metric': metric, 'data-value': n }, formatCount(n));
export const rate = (name: string, r: number | null) => h('span', { class: 'num', 'data-rate': name, 'data-value': r === null ? 'null' : r }, formatRate(r));

/**
 * A change against the earlier period: a signed percentage for a count, percentage points for a
 * rate, n/a where there is no basis; data-change holds the number (or null), the title the
 * earlier value.
 */
export function change(metric: string, value: number | null, kind: 'count' | 'rate', before: string) {
  const direction = value === null ? 'none' : value > 0 ? 'up' : value < 0 ? 'down' : 'same';
  return h(
    'span',
    { class: `change change-${direction}`, 'data-change': metric, 'data-value': value === null ? 'null' : value, title: t().before(before) },
    kind === 'count' ? formatChange(value) : formatPoints(value),
  );
}

/** Each step over the one before it; null when the step before is 0 (as the API does for its rates). */
export function stepRates(totals: FunnelTotals): (number | null)[] {
  return STEP_KEYS.map((key, i) => {
    if (i === 0) return null;
    const before = totals[STEP_KEYS[i - 1] as keyof FunnelTotals];
    return before === 0 ? null : totals[key] / before;
  });
}

/** What the comparison rests on, said once above the numbers: the earlier range, or why there is no basis. */
function comparisonNote(previous: PreviousPeriod) {
  const s = t();
  const range = formatRange(previous);
  const text = hasBasis(previous)
    ? `${s.comparedWith(range)} ${s.noBasisZero}`
    : previous.orgFirstDay === null ? s.noBasisNone(range) : s.noBasisBefore(range, formatDay(previous.orgFirstDay));
  return h('p', { class: 'intro compared', 'data-compared': `${previous.from}..${previous.to}`, 'data-basis': String(hasBasis(previous)) }, text);
}

/**
 * The funnel of a period: the API's three conversion rates, the funnel drawn, and every step
 * with its conversion from the one before; with `previous`, each total and rate with its change
 * against the earlier period.
 */
export function renderFunnel(el: HTMLElement, totals: FunnelTotals, conversion: Conversion, subject: string, previous?: PreviousPeriod): void {
  const s = t();
  const stepList = steps();
  const ratesOfSteps = stepRates(totals);
  const basis = previous ? hasBasis(previous) : false;
  const chart = h('div', { class: 'chart funnel-chart' });
  append(el, [
    previous ? comparisonNote(previous) : null,
    h(
      'dl',
      { class: 'kpis' },
      RATE_KEYS.map((key) =>
        h(
          'div',
          { class: 'kpi' },
          h('dt', {}, s.rates[key]),
          h('dd', {}, rate(key, conversion[key]), previous ? change(key, rateChange(conversion[key], previous.conversion[key], basis), 'rate', formatRate(previous.conversion[key])) : null),
        ),
      ),
    ),
    h(
      'div',
      { class: 'funnel-layout' },
      chart,
      h(
        'table',
        { class: 'funnel-table' },
        h('caption', {}, s.funnelOf(subject)),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col' }, s.step), h('th', { scope: 'col', class: 'n' }, s.count), previous ? h('th', { scope: 'col', class: 'n' }, s.change) : null, h('th', { scope: 'col', class: 'n' }, s.fromStepBefore)),
        ),
        h(
          'tbody',
          {},
          stepList.map((step, i) =>
            h(
              'tr',
              { 'data-step': step.key },
              h('th', { scope: 'row' }, step.label),
              h('td', { class: 'n' }, count(step.key, totals[step.key])),
              previous ? h('td', { class: 'n' }, change(step.key, countChange(totals[step.key], previous.totals[step.key], basis), 'count', formatCount(previous.totals[step.key]))) : null,
              h('td', { class: 'n' }, i === 0 ? '' : rate(`step-${step.key}`, ratesOfSteps[i] ?? null)),
            ),
          ),
        ),
      ),
    ),
    ratesOfSteps.some((r) => r !== null && r > 1) ? h('p', { class: 'intro note' }, s.stepOver100) : null,
  ]);
  const max = Math.max(1, ...stepList.map((step) => totals[step.key]));
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
          data: stepList.map((step) => ({ name: step.label, value: totals[step.key] })),
        },
      ],
      tooltip: { show: false },
    },
    s.funnelChart(subject, stepList.map((step) => `${step.label} ${formatCount(totals[step.key])}`).join(', ')),
  );
}
