import { h } from '../dom.js';

export interface NamedMentor {
  mentorId: string;
  mentorName?: string | null;
}

/** What a mentor is called on the page: their name, or their id when the service knows no name (not registered, or erased). */
export const mentorLabel = (m: NamedMentor) => m.mentorName ?? m.mentorId;

/**
 * A mentor in a table cell: their name (a link to their page when there is one) with their id
 * in small type beneath, so two mentors of the same name stay apart; the id alone when there
 * is no name.
 */
export function mentorCell(m: NamedMentor, href: string | null) {
  const label = mentorLabel(m);
  return [
    href ? h('a', { href, 'data-nav': '', class: 'mentor-name' }, label) : h('span', { class: 'mentor-name' }, label),
    m.mentorName ? h('span', { class: 'sub mentor-id' }, m.mentorId) : null,
  ];
}

/** Chart labels: names, with the id added where two mentors share one. */
export function mentorLabels(items: NamedMentor[]): string[] {
  const counts = new Map<string, number>();
  for (const m of items) counts.set(mentorLabel(m), (counts.get(mentorLabel(m)) ?? 0) + 1);
  return items.map((m) => ((counts.get(mentorLabel(m)) ?? 0) > 1 && m.mentorName ? `${m.mentorName} (${m.mentorId})` : mentorLabel(m)));
}

/** Whether a mentor matches a search: by name or id, ignoring case and accents. */
export function mentorMatches(m: NamedMentor, search: string): boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
  const needle = fold(search.trim());
  return needle === '' || fold(m.mentorId).includes(needle) || (m.mentorName !== null && m.mentorName !== undefined && fold(m.mentorName).includes(needle));
}
