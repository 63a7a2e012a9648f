import type { OrgRecruitmentSummary } from '../api.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { count, rate } from './funnel.js';

const campaignName = (id: string | null) => id ?? 'No campaign';

/** Campaigns side by side: bars for unique clicks, registrations and activations, and the table. */
export function renderCampaigns(el: HTMLElement, campaigns: OrgRecruitmentSummary['campaigns']): void {
  if (campaigns.length === 0) {
    el.append(h('p', { class: 'state empty' }, 'No campaign had any activity in this period.'));
    return;
  }
  const chart = h('div', { class: 'chart campaigns-chart' });
  el.append(
    chart,
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Campaigns' },
      h(
        'table',
        { class: 'campaigns' },
        h('caption', {}, 'Campaigns, most registrations first'),
        h(
          'thead',
          {},
          h('tr', {}, ['Campaign', 'Unique clicks', 'Installs', 'Registrations', 'Activations', 'Click → registration', 'Registration → activation'].map((t, i) => h('th', { scope: 'col', class: i ? 'n' : '' }, t))),
        ),
        h(
          'tbody',
          {},
          campaigns.map((c) =>
            h(
              'tr',
              { 'data-campaign': c.campaignId ?? '' },
              h('th', { scope: 'row' }, campaignName(c.campaignId)),
              h('td', { class: 'n' }, count('uniqueClicks', c.totals.uniqueClicks)),
              h('td', { class: 'n' }, count('installs', c.totals.installs)),
              h('td', { class: 'n' }, count('registrations', c.totals.registrations)),
              h('td', { class: 'n' }, count('activations', c.totals.activations)),
              h('td', { class: 'n' }, rate('clickToRegistration', c.conversion.clickToRegistration)),
              h('td', { class: 'n' }, rate('registrationToActivation', c.conversion.registrationToActivation)),
            ),
          ),
        ),
      ),
    ),
  );
  const names = campaigns.map((c) => campaignName(c.campaignId));
  drawChart(
    chart,
    {
      grid: { left: 48, right: 16, top: 40, bottom: 40, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      xAxis: { type: 'category', data: names, axisLabel: { color: '#333842', interval: 0, overflow: 'truncate', width: 90 } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#333842' } },
      series: [
        { type: 'bar', name: 'Unique clicks', data: campaigns.map((c) => c.totals.uniqueClicks) },
        { type: 'bar', name: 'Registrations', data: campaigns.map((c) => c.totals.registrations) },
        { type: 'bar', name: 'Activations', data: campaigns.map((c) => c.totals.activations) },
      ],
    },
    `Bar chart comparing ${campaigns.length} campaigns by unique clicks, registrations and activations; the table has the numbers.`,
  );
}
