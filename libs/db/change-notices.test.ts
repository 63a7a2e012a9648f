import { describe, expect, it } from 'vitest';
import { noticeFunctionOf, parseChangeNotice } from './change-notices.js';

describe('parseChangeNotice', () => {
  it('reads organizations, mentors by organization, and organizations whose own totals changed', () => {
    expect(parseChangeNotice('["org-a","org-b"]')).toEqual({ orgs: ['org-a', 'org-b'], mentors: [], aggregates: [] });
    expect(parseChangeNotice('{"mentors":{"org-a":["m1","m2"],"org-b":["m3"]}}')).toEqual({ orgs: [], mentors: [['org-a', ['m1', 'm2']], ['org-b', ['m3']]], aggregates: [] });
    expect(parseChangeNotice('{"aggregates":["org-a"]}')).toEqual({ orgs: [], mentors: [], aggregates: ['org-a'] });
  });

  it('reads the table a notice of mentors names, and the first day its rows count', () => {
    expect(parseChangeNotice('{"mentors":{"org-a":["m1"]},"table":"funnel_monthly","since":"2026-12-01"}')).toEqual({ orgs: [], mentors: [['org-a', ['m1']]], aggregates: [], table: 'funnel_monthly', since: '2026-12-01' });
    expect(parseChangeNotice('{"mentors":{"org-a":["m1"]},"table":"referrals"}')).toEqual({ orgs: [], mentors: [['org-a', ['m1']]], aggregates: [], table: 'referrals' });
    // A day or table it cannot read is not said (answers it could touch are dropped), the mentors still are.
    for (const extra of ['"since":"01/12/2026"', '"since":20261201', '"since":null', '"table":7']) {
      const notice = parseChangeNotice(`{"mentors":{"org-a":["m1"]},"table":"funnel_daily",${extra}}`);
      expect(notice).not.toBe('all');
      expect(notice !== 'all' && notice.since).toBeFalsy();
    }
    expect(parseChangeNotice('{"mentors":{"org-a":["m1"]},"table":7}')).toEqual({ orgs: [], mentors: [['org-a', ['m1']]], aggregates: [] });
  });

  it('takes anything it cannot read for a change of everything', () => {
    for (const payload of [undefined, '*', '', 'not json', '{}', 'null', '42', '[1]', '{"mentors":["org-a"]}', '{"mentors":{"org-a":[null]}}', '{"mentors":{"org-a":"m1"}}', '{"aggregates":[1]}', '{"mentors":null}']) {
      expect(parseChangeNotice(payload)).toBe('all');
    }
  });
});

describe('noticeFunctionOf', () => {
  it('gives tables kept per mentor their mentor column, the organizations own totals theirs, the rest the organizations', () => {
    expect(noticeFunctionOf('funnel_daily')).toBe('rt_notify_mentor_rows_mentor_id_by_day');
    expect(noticeFunctionOf('funnel_monthly')).toBe('rt_notify_mentor_rows_mentor_id_by_month');
    expect(noticeFunctionOf('funnel_yearly')).toBe('rt_notify_mentor_rows_mentor_id');
    expect(noticeFunctionOf('registrations')).toBe('rt_notify_mentor_rows_user_id');
    expect(noticeFunctionOf('funnel_org_monthly')).toBe('rt_notify_changed_aggregates');
    expect(noticeFunctionOf('coordinator_scopes')).toBe('rt_notify_changed_orgs');
  });
});
