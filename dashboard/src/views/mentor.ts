import { rangeControls } from '../components/controls.js';
import { count, rate, renderFunnel } from '../components/funnel.js';
import { renderReferralList } from '../components/referrals.js';
import { renderSeries } from '../components/series.js';
import { withCsv } from '../components/csv-button.js';
import { append, h } from '../dom.js';
import { load, section } from '../section.js';
import { navigate, viewLink } from '../state.js';
import type { Stage } from '../api.js';
import { formatRange } from '../format.js';
import { t } from '../i18n.js';
import { compareOf, granularityOf, pageSize, period, type ViewContext } from './context.js';
import { referralFilters } from './org.js';

/** One mentor: the year at a glance (rank and percentile in the organization), the funnel, the series and their recruits. */
export function renderMentorView(ctx: ViewContext, mentorId: string): void {
  const { api, state, main, claims } = ctx;
  const own = claims.role === 'mentor' && claims.sub === mentorId;
  const granularity = granularityOf(state);
  const orgId = state.org;
  const year = /^\d{4}$/.test(state.year ?? '') ? Number(state.year) : undefined;
  const s = t();
  const compare = compareOf(state);
  const controls = rangeControls(state, { granularity: true, compare: true });
  const annual = section('annual', own ? s.yourYear : s.theYear);
  const content = h('div', { class: 'view-content' });
  const back =
    claims.role === 'coordinator' ? viewLink({ view: 'coordinator', from: state.from, to: state.to, granularity: state.granularity, compare: state.compare }, { reset: true })
    : claims.role === 'org_admin' || claims.role === 'platform_admin' ? viewLink({ view: 'org', org: orgId, from: state.from, to: state.to, granularity: state.granularity, compare: state.compare }, { reset: true })
    : null;
  const subject = h('span', { class: 'subject', 'data-mentor': mentorId }, mentorId);
  append(main, [
    h('h1', {}, own ? s.yourReferrals : s.mentorHeading, own ? null : subject),
    back ? h('p', { class: 'breadcrumb' }, h('a', { href: back, 'data-nav': '' }, claims.role === 'coordinator' ? s.allYourMentors : s.theOrganization)) : null,
    annual.root,
    controls.root,
    content,
  ]);

  withCsv(annual, 'annual', () => api.csv.annualSummary(mentorId, { year, orgId }));
  void load(annual.body, s.whatAnnual, () => api.annualSummary(mentorId, { year, orgId }), (summary) => {
    const yearSelect = h('select', { id: 'annual-year' }, Array.from({ length: 6 }, (_, i) => summary.year + 2 - i).filter((y) => y <= new Date().getFullYear() + 1).map((y) => h('option', { value: y, selected: y === summary.year }, String(y))));
    yearSelect.addEventListener('change', () => navigate({ year: yearSelect.value }));
    annual.body.append(
      h('div', { class: 'field inline' }, h('label', { for: 'annual-year' }, s.year), yearSelect),
      h(
        'dl',
        { class: 'hero' },
        h('div', { class: 'kpi big' }, h('dt', {}, s.newMembers), h('dd', {}, count('recruits', summary.recruits))),
        h('div', { class: 'kpi big' }, h('dt', {}, s.rankInOrg), h('dd', {}, summary.rankInOrg === null ? h('span', { class: 'num', 'data-metric': 'rankInOrg', 'data-value': 'null' }, '–') : count('rankInOrg', summary.rankInOrg))),
        h('div', { class: 'kpi big' }, h('dt', {}, s.percentileInOrg), h('dd', {}, rate('percentileInOrg', summary.percentileInOrg))),
        h('div', { class: 'kpi' }, h('dt', {}, s.activatedMembers), h('dd', {}, count('activations', summary.totals.activations))),
        h('div', { class: 'kpi' }, h('dt', {}, s.steps.uniqueClicks), h('dd', {}, count('uniqueClicks', summary.totals.uniqueClicks))),
      ),
      h('p', { class: 'intro' }, s.yearRange(formatRange(summary), summary.timezone)),
    );
  });

  void load(content, s.whatMentor, () => api.referralStats(mentorId, { ...period(state), granularity, orgId, compare }), (stats) => {
    controls.answered(stats);
    // Their name once the service has answered, the id beneath (two mentors may share a name).
    if (stats.mentorName) subject.replaceChildren(stats.mentorName, h('span', { class: 'sub mentor-id' }, mentorId));
    const funnel = section('funnel', s.funnel, s.rangeSentence(formatRange(stats)));
    const series = section('series', s.overTime);
    const recruits = section('referrals', own ? s.yourRecruits : s.recruits, s.recruitsIntro);
    content.append(funnel.root, series.root, recruits.root);
    const statsCsv = () => api.csv.referralStats(mentorId, { ...period(state), granularity, orgId });
    withCsv(funnel, 'funnel', statsCsv);
    withCsv(series, 'series', statsCsv);
    withCsv(recruits, 'recruits', () => api.csv.recruits(mentorId, { stage: state.stage as Stage | undefined, orgId }));
    renderFunnel(funnel.body, stats.totals, stats.conversion, own ? s.yourLinks : (stats.mentorName ?? mentorId), stats.previous);
    renderSeries(series.body, stats.series, granularity, own ? s.yourLinksCapital : (stats.mentorName ?? mentorId));
    recruits.body.append(referralFilters(state, null));
    const list = h('div', {});
    recruits.body.append(list);
    renderReferralList(list, {
      fetchPage: (cursor) => api.recruits(mentorId, { stage: state.stage as Stage | undefined, limit: pageSize(state), cursor, orgId }),
      timezone: stats.timezone,
      showMentor: false,
      mentorHref: () => null,
      filtered: Boolean(state.stage),
      explain: (userId) => api.conversion(userId, { orgId: stats.orgId }),
    });
  });
}
