import type { OrgRecruitmentSummary } from '../api.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { count, rate } from './funnel.js';

const campaignName = (id: string | null) => id ?? t().noCampaign;

/** Campaigns side by side: bars for unique clicks, registrations and activations, and the table. */
export function renderCampaigns(el: HTMLElement, campaigns: OrgRecruitmentSummary['campaigns']): void {
  const s = t();
  if (campaigns.length === 0) {
    el.append(h('p', { class: 'state empty' }, s.noCampaignActivity));
    return;
  }
  const chart = h('div', { class: 'chart campaigns-chart' });
  el.append(
    chart,
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': s.campaigns },
      h(
        'table',
        { class: 'campaigns' },
        h('caption', {}, s.campaignsCaption),
        h(
          'thead',
          {},
          h('tr', {}, [s.campaign, s.steps.uniqueClicks, s.steps.installs, s.steps.registrations, s.steps.activations, s.clickToRegistration, s.registrationToActivation].map((t, i) => h('th', { scope: 'col', class: i ? 'n' : '' }, t))),
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
        { type: 'bar', name: s.steps.uniqueClicks, data: campaigns.map((c) => c.totals.uniqueClicks) },
        { type: 'bar', name: s.steps.registrations, data: campaigns.map((c) => c.totals.registrations) },
        { type: 'bar', name: s.steps.activations, data: campaigns.map((c) => c.totals.activations) },
      ],
    },
    s.campaignsChart(campaigns.length),
  );
}
