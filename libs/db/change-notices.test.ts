import { describe, expect, it } from 'vitest';
import { noticeFunctionOf, parseChangeNotice } from './change-notices.js';

describe('parseChangeNotice', () => {
  it('reads organizations, mentors by organization, and organizations whose own totals changed', () => {
    expect(parseChangeNotice('["org-a","org-b"]')).toEqual({ orgs: ['org-a', 'org-b'], mentors: [], aggregates: [] });
    expect(parseChangeNotice('{"mentors":{"org-a":["m1","m2"],"org-b":["m3"]}}')).toEqual({ orgs: [], mentors: [['org-a', ['m1', 'm2']], ['org-b', ['m3']]], aggregates: [] });
    expect(parseChangeNotice('{"aggregates":["org-a"]}')).toEqual({ orgs: [], mentors: [], aggregates: ['org-a'] });
  });

  it('takes anything it cannot read for a change of everything', () => {
    for (const payload of [undefined, '*', '', 'not json', '{}', 'null', '42', '[1]', '{"mentors":["org-a"]}', '{"mentors":{"org-a":[null]}}', '{"mentors":{"org-a":"m1"}}', '{"aggregates":[1]}', '{"mentors":null}']) {
      expect(parseChangeNotice(payload)).toBe('all');
    }
  });
});

describe('noticeFunctionOf', () => {
  it('gives tables kept per mentor their mentor column, the organizations own totals theirs, the rest the organizations', () => {
    expect(noticeFunctionOf('funnel_daily')).toBe('rt_notify_changed_mentors_mentor_id');
    expect(noticeFunctionOf('registrations')).toBe('rt_notify_changed_mentors_user_id');
    expect(noticeFunctionOf('funnel_org_monthly')).toBe('rt_notify_changed_aggregates');
    expect(noticeFunctionOf('coordinator_scopes')).toBe('rt_notify_changed_orgs');
  });
});
