import { renderCampaigns } from '../components/campaigns.js';
import { rangeControls } from '../components/controls.js';
import { renderFunnel } from '../components/funnel.js';
import { renderLeaderboard } from '../components/leaderboard.js';
import { renderReferralList, stageLabel } from '../components/referrals.js';
import { renderSeries } from '../components/series.js';
import { withCsv } from '../components/csv-button.js';
import { followUpSection } from '../components/follow-up.js';
import { append, h } from '../dom.js';
import { load, section } from '../section.js';
import { navigate, PAGE_SIZES, STAGES, viewLink } from '../state.js';
import type { Stage } from '../api.js';
import { formatRange } from '../format.js';
import { t } from '../i18n.js';
import { compareOf, granularityOf, leaderboardSort, mentorHref, mentorSearch, pageSize, period, type ViewContext } from './context.js';
import type { NamedMentor } from '../components/mentor-name.js';

/** An organization: its funnel, series, top mentors, campaigns and referrals (org admin; platform admin naming an org). */
export function renderOrgView(ctx: ViewContext, orgId: string): void {
  const { api, state, main, claims } = ctx;
  const granularity = granularityOf(state);
  const s = t();
  const compare = compareOf(state);
  const controls = rangeControls(state, { granularity: true, compare: true });
  const content = h('div', { class: 'view-content' });
  append(main, [
    h('h1', {}, s.recruitmentIn, h('span', { class: 'subject', 'data-org': orgId }, orgId)),
    claims.role === 'platform_admin' ? h('p', { class: 'breadcrumb' }, h('a', { href: viewLink({ view: 'platform', from: state.from, to: state.to, granularity: state.granularity }, { reset: true }), 'data-nav': '' }, s.allOrganizations)) : null,
    controls.root,
    content,
  ]);
  void load(content, s.whatOrg, () => api.orgSummary(orgId, { ...period(state), granularity, compare }), (summary) => {
    controls.answered(summary);
    const funnel = section('funnel', s.funnel, s.orgFunnelIntro(formatRange(summary)));
    const series = section('series', s.overTime);
    const mentors = section('top-mentors', s.topMentors, s.topMentorsIntro);
    const campaigns = section('campaigns', s.campaigns);
    const referrals = section('referrals', s.referrals, s.referralsIntro);
    const followUp = followUpSection({
      fetchPage: (stuckDays, limit) => api.orgReferrals(orgId, { stuckDays, limit }),
      download: (stuckDays) => api.csv.orgReferrals(orgId, { stuckDays }),
      timezone: summary.timezone,
      mentorHref: (m) => mentorHref(state, m, orgId),
    });
    content.append(funnel.root, series.root, followUp, mentors.root, campaigns.root, referrals.root);
    const summaryCsv = () => api.csv.orgSummary(orgId, { ...period(state), granularity });
    for (const [part, what] of [[funnel, 'funnel'], [series, 'series'], [mentors, 'topMentors'], [campaigns, 'campaigns']] as const) withCsv(part, what, summaryCsv);
    withCsv(referrals, 'referrals', () => api.csv.orgReferrals(orgId, { stage: state.stage as Stage | undefined, mentorId: state.filterMentor }));
    renderFunnel(funnel.body, summary.totals, summary.conversion, orgId, summary.previous);
    renderSeries(series.body, summary.series, granularity, orgId);
    renderLeaderboard(mentors.body, summary.topMentors, { ...leaderboardSort(state), mentorHref: (m) => mentorHref(state, m, orgId), caption: s.topMentorsOf(orgId), search: mentorSearch(state) });
    renderCampaigns(campaigns.body, summary.campaigns);
    referrals.body.append(referralFilters(state, summary.topMentors));
    const list = h('div', {});
    referrals.body.append(list);
    renderReferralList(list, {
      fetchPage: (cursor) => api.orgReferrals(orgId, { stage: state.stage as Stage | undefined, mentorId: state.filterMentor, limit: pageSize(state), cursor }),
      timezone: summary.timezone,
      showMentor: true,
      mentorHref: (m) => mentorHref(state, m, orgId),
      filtered: Boolean(state.stage || state.filterMentor),
      explain: (userId) => api.conversion(userId, { orgId }),
    });
  });
}

/** Stage, mentor and page size of the referral list, held in the URL. */
export function referralFilters(state: { stage?: string; filterMentor?: string; limit?: string }, mentors: NamedMentor[] | null) {
  const s = t();
  const stage = h('select', { id: 'filter-stage' }, h('option', { value: '' }, s.everyStage), STAGES.map((st) => h('option', { value: st, selected: state.stage === st }, stageLabel(st))));
  stage.addEventListener('change', () => navigate({ stage: stage.value || undefined }));
  const size = h('select', { id: 'filter-limit' }, PAGE_SIZES.map((n) => h('option', { value: n, selected: Number(state.limit ?? 25) === n }, String(n))));
  size.addEventListener('change', () => navigate({ limit: size.value === '25' ? undefined : size.value }));
  const fields = [h('div', { class: 'field' }, h('label', { for: 'filter-stage' }, s.stage), stage)];
  if (mentors) {
    const mentor = h('input', { id: 'filter-mentor', type: 'search', list: 'filter-mentor-list', value: state.filterMentor ?? '', autocomplete: 'off', spellcheck: 'false', placeholder: s.anyMentor });
    mentor.addEventListener('change', () => navigate({ filterMentor: mentor.value.trim() || undefined }));
    fields.push(h('div', { class: 'field' }, h('label', { for: 'filter-mentor' }, s.mentor), mentor, h('datalist', { id: 'filter-mentor-list' }, mentors.map((m) => h('option', { value: m.mentorId, label: m.mentorName ?? m.mentorId })))));
  }
  fields.push(h('div', { class: 'field' }, h('label', { for: 'filter-limit' }, s.perPage), size));
  return h('div', { class: 'controls filters', role: 'group', 'aria-label': s.filterReferrals }, fields);
}
