import type { RecordOf, RecordTopic } from './codec.js';

/**
 * One realistic sample per record. The mapped type makes the compiler demand a fixture for
 * every topic that carries a record; tests round-trip each through the real registry and broker.
 */
export const FIXTURES: { readonly [T in RecordTopic]: RecordOf<T> } = {
  inviteLinks: {
    linkId: 'lnk_7Qm2xR',
    orgId: 'org_hlf',
    mentorId: 'usr_mentor_kari',
    campaignId: 'cmp_spring_2026',
    createdAt: Date.UTC(2026, 2, 1, 9, 0),
    expiresAt: Date.UTC(2026, 5, 1, 0, 0),
    revokedAt: null,
  },
  coordinatorScopes: {
    orgId: 'org_hlf',
    coordinatorId: 'usr_coord_ola',
    mentorIds: ['usr_mentor_kari', 'usr_mentor_nils'],
    updatedAt: Date.UTC(2026, 2, 1, 8, 0),
  },
  inviteClicks: {
    eventId: 'evt_click_01',
    linkId: 'lnk_7Qm2xR',
    occurredAt: Date.UTC(2026, 2, 3, 18, 42, 10),
    visitor: {
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      deviceId: null,
      platform: 'IOS',
      referrer: 'https://www.facebook.com/',
      locale: 'nb-NO',
    },
  },
  appInstalls: {
    eventId: 'evt_install_01',
    deviceId: 'dev_ios_5f1c',
    linkId: 'lnk_7Qm2xR',
    platform: 'IOS',
    occurredAt: Date.UTC(2026, 2, 3, 18, 47, 0),
  },
  userRegistered: {
    eventId: 'evt_reg_01',
    userId: 'usr_new_ingrid',
    orgId: 'org_hlf',
    linkId: 'lnk_7Qm2xR',
    deviceId: 'dev_ios_5f1c',
    displayName: 'Ingrid H.',
    occurredAt: Date.UTC(2026, 2, 3, 18, 55, 0),
  },
  userLogins: {
    eventId: 'evt_login_01',
    userId: 'usr_new_ingrid',
    occurredAt: Date.UTC(2026, 2, 3, 18, 56, 30),
  },
  userErasures: {
    eventId: 'evt_erase_01',
    userId: 'usr_new_ingrid',
    orgId: 'org_hlf',
    occurredAt: Date.UTC(2026, 8, 1, 12, 0),
  },
  referralEvents: {
    eventId: 'ref_3f9a0c1e',
    orgId: 'org_hlf',
    mentorId: 'usr_mentor_kari',
    linkId: 'lnk_7Qm2xR',
    campaignId: 'cmp_spring_2026',
    referralId: 'rfl_usr_new_ingrid',
    userId: 'usr_new_ingrid',
    stage: 'REGISTERED',
    uniqueVisitor: false,
    occurredAt: Date.UTC(2026, 2, 3, 18, 55, 0),
    retractsEventId: null,
  },
};
