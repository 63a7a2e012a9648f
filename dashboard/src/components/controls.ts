import { datePattern, formatDateInput, parseDateInput } from '../date-input.js';
import { h } from '../dom.js';
import { locale, t } from '../i18n.js';
import { PRESETS, presetOf, presetRange, todayIn } from '../presets.js';
import { COMPARE_CHOICES, GRANULARITIES, navigate, type ViewState } from '../state.js';

/**
 * The period of a view: from and to (local dates of the organization, both included, typed and
 * shown the way the page's language writes dates), quick presets cut in the organization's
 * timezone, what to compare with and, where a series is drawn, its granularity. Dates apply
 * with the button (typing must not reload on every digit); presets, comparison and granularity
 * apply at once. The answered range and its timezone are shown once the API has answered;
 * until then the presets use the browser's timezone.
 */
export function rangeControls(state: ViewState, options: { granularity: boolean; compare?: boolean }): { root: HTMLElement; answered: (range: { from: string; to: string; timezone?: string }) => void } {
  const s = t();
  const loc = locale();
  const { order, separator } = datePattern(loc);
  const pattern = order.map((p) => s.dateLetters[p]).join(separator);
  const dateInput = (id: string, name: string, value: string | undefined) =>
    h('input', { type: 'text', id, name, inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: pattern, size: 11, 'aria-describedby': 'range-format', value: value ? formatDateInput(value, loc) : '', required: true });
  const from = dateInput('range-from', 'from', state.from);
  const to = dateInput('range-to', 'to', state.to);
  const zone = h('p', { class: 'timezone', 'data-timezone': '' });
  let timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const form = h(
    'form',
    { class: 'controls', 'aria-label': s.period, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'range-from' }, s.from), from),
    h('div', { class: 'field' }, h('label', { for: 'range-to' }, s.to), to),
    h('p', { id: 'range-format', class: 'visually-hidden' }, s.badDate(pattern)),
  );
  if (options.granularity) {
    const select = h(
      'select',
      { id: 'range-granularity', name: 'granularity' },
      GRANULARITIES.map((g) => h('option', { value: g, selected: (state.granularity ?? 'day') === g }, s.granularities[g])),
    );
    select.addEventListener('change', () => navigate({ granularity: select.value }));
    form.append(h('div', { class: 'field' }, h('label', { for: 'range-granularity' }, s.seriesBy), select));
  }
  if (options.compare) {
    const current = state.compare ?? 'previous';
    const select = h('select', { id: 'range-compare', name: 'compare' }, COMPARE_CHOICES.map((c) => h('option', { value: c, selected: current === c }, s.compareOptions[c])));
    select.addEventListener('change', () => navigate({ compare: select.value === 'previous' ? undefined : select.value }));
    form.append(h('div', { class: 'field' }, h('label', { for: 'range-compare' }, s.compareWith), select));
  }
  form.append(h('button', { type: 'submit', id: 'range-apply' }, s.showPeriod));

  const presetButtons = PRESETS.map((p) => {
    const button = h('button', { type: 'button', class: 'preset', 'data-preset': p, 'aria-pressed': 'false' }, s.presets[p]);
    button.addEventListener('click', () => navigate(presetRange(p, todayIn(timezone))));
    return button;
  });
  const markPreset = (range: { from?: string; to?: string }) => {
    const active = presetOf(range, todayIn(timezone));
    for (const b of presetButtons) b.setAttribute('aria-pressed', String(b.dataset.preset === active));
  };
  markPreset(state);
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': s.quickPeriods }, presetButtons);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = [from, to].map((input) => {
      const day = input.value.trim() === '' ? null : parseDateInput(input.value, loc);
      input.setCustomValidity(input.value.trim() !== '' && day === null ? s.badDate(pattern) : '');
      input.setAttribute('aria-invalid', String(input.value.trim() !== '' && day === null));
      return day;
    });
    const [first, last] = parsed;
    if (first && last && first > last) from.setCustomValidity(s.firstAfterLast);
    if (!form.reportValidity()) return;
    navigate({ from: first ?? undefined, to: last ?? undefined });
  });
  return {
    root: h('div', { class: 'period' }, presets, form, zone),
    answered(range) {
      if (!from.value) from.value = formatDateInput(range.from, loc);
      if (!to.value) to.value = formatDateInput(range.to, loc);
      if (range.timezone) {
        timezone = range.timezone;
        zone.textContent = s.timezoneNote(range.timezone);
        zone.dataset.timezone = range.timezone;
      }
      markPreset(range);
    },
  };
}
