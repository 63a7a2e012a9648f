import { rangeControls } from '../components/controls.js';
import { withCsv } from '../components/csv-button.js';
import { count, rate } from '../components/funnel.js';
import { drawChart } from '../charts.js';
import { h } from '../dom.js';
import { formatDay, formatRange } from '../format.js';
import { t } from '../i18n.js';
import { load, section } from '../section.js';
import { viewLink } from '../state.js';
import type { PlatformGrowth } from '../api.js';
import { granularityOf, period, type ViewContext } from './context.js';

const ORGS_PER_PAGE = 25;

/** Growth across organizations (platform admin): a page of organizations, each a link to its own view. */
export function renderPlatformView(ctx: ViewContext): void {
  const { api, state, main } = ctx;
  const granularity = granularityOf(state);
  const s = t();
  const controls = rangeControls(state, { granularity: true });
  const content = h('div', { class: 'view-content' });
  main.append(h('h1', {}, s.growthAcross), controls.root, content);
  const cursors: (string | undefined)[] = [undefined];
  let page = 0;
  const show = () =>
    load(content, s.whatGrowth, () => api.platformGrowth({ ...period(state), granularity, limit: ORGS_PER_PAGE, cursor: cursors[page] }), (growth) => {
      controls.answered(growth);
      const table = section('organizations', s.organizations, s.orgsIntro(formatRange(growth)));
      const chart = section('growth', s.registrationsOverTime);
      content.append(table.root, chart.root);
      withCsv(table, 'organizations', () => api.csv.platformGrowth({ ...period(state), granularity, limit: ORGS_PER_PAGE }));
      renderOrganizations(table.body, growth, state);
      const previous = h('button', { type: 'button', class: 'page-prev', disabled: page === 0 }, s.previousOrganizations);
      const next = h('button', { type: 'button', class: 'page-next', disabled: growth.nextCursor === null }, s.nextOrganizations);
      previous.addEventListener('click', () => {
        page -= 1;
        void show();
      });
      next.addEventListener('click', () => {
        cursors[page + 1] = growth.nextCursor ?? undefined;
        page += 1;
        void show();
      });
      table.body.append(h('nav', { class: 'pager', 'aria-label': s.organizationPages }, previous, h('p', { class: 'page-status' }, s.page(page + 1)), next));
      if (growth.organizations.length === 0) return;
      const box = h('div', { class: 'chart series-chart' });
      chart.body.append(box);
      const first = growth.organizations[0] as PlatformGrowth['organizations'][number];
      drawChart(
        box,
        {
          grid: { left: 48, right: 16, top: 40, bottom: 40 },
          legend: { top: 0, type: 'scroll' },
          tooltip: { trigger: 'axis', renderMode: 'richText' },
          xAxis: { type: 'category', data: first.series.map((p) => formatDay(p.periodStart, granularity)), axisLabel: { color: '#333842' } },
          yAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#333842' } },
          series: growth.organizations.map((o) => ({ type: 'line' as const, name: o.orgId, data: o.series.map((p) => p.registrations) })),
        },
        s.growthChart(s.granularityNoun[granularity], growth.organizations.length),
      );
    });
  void show();
}

function renderOrganizations(el: HTMLElement, growth: PlatformGrowth, state: ViewContext['state']): void {
  const s = t();
  if (growth.organizations.length === 0) {
    el.append(h('p', { class: 'state empty' }, s.noOrganizations));
    return;
  }
  el.append(
    h(
      'div',
      { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': s.organizations },
      h(
        'table',
        { class: 'organizations' },
        h('caption', {}, s.organizationsCaption),
        h('thead', {}, h('tr', {}, [s.organization, s.timezone, s.steps.clicks, s.steps.uniqueClicks, s.steps.installs, s.steps.registrations, s.steps.activations, s.clickToRegistration].map((t, i) => h('th', { scope: 'col', class: i > 1 ? 'n' : '' }, t)))),
        h(
          'tbody',
          {},
          growth.organizations.map((o) =>
            h(
              'tr',
              { 'data-org': o.orgId },
              h('th', { scope: 'row' }, h('a', { href: viewLink({ view: 'org', org: o.orgId, from: state.from, to: state.to, granularity: state.granularity }, { reset: true }), 'data-nav': '' }, o.orgId)),
              h('td', {}, o.timezone),
              h('td', { class: 'n' }, count('clicks', o.totals.clicks)),
              h('td', { class: 'n' }, count('uniqueClicks', o.totals.uniqueClicks)),
              h('td', { class: 'n' }, count('installs', o.totals.installs)),
              h('td', { class: 'n' }, count('registrations', o.totals.registrations)),
              h('td', { class: 'n' }, count('activations', o.totals.activations)),
              h('td', { class: 'n' }, rate('clickToRegistration', o.conversion.clickToRegistration)),
            ),
          ),
        ),
      ),
    ),
  );
}
