import { h } from '../dom.js';
import { GRANULARITIES, navigate, type ViewState } from '../state.js';

/**
 * The period of a view: from and to (local dates of the organization, both included) and,
 * where a series is drawn, its granularity. Dates apply with the button (typing a date must
 * not reload on every digit); the granularity applies at once. The answered range and the
 * timezone its periods are cut in are shown once the API has answered.
 */
export function rangeControls(state: ViewState, options: { granularity: boolean }): { root: HTMLElement; answered: (range: { from: string; to: string; timezone?: string }) => void } {
  const from = h('input', { type: 'date', id: 'range-from', name: 'from', value: state.from ?? '', required: true });
  const to = h('input', { type: 'date', id: 'range-to', name: 'to', value: state.to ?? '', required: true });
  const zone = h('p', { class: 'timezone', 'data-timezone': '' });
  const form = h(
    'form',
    { class: 'controls', 'aria-label': 'Period' },
    h('div', { class: 'field' }, h('label', { for: 'range-from' }, 'From'), from),
    h('div', { class: 'field' }, h('label', { for: 'range-to' }, 'To'), to),
    h('button', { type: 'submit', id: 'range-apply' }, 'Show period'),
  );
  if (options.granularity) {
    const select = h(
      'select',
      { id: 'range-granularity', name: 'granularity' },
      GRANULARITIES.map((g) => h('option', { value: g, selected: (state.granularity ?? 'day') === g }, { day: 'Days', week: 'Weeks (Monday first)', month: 'Months' }[g])),
    );
    select.addEventListener('change', () => navigate({ granularity: select.value }));
    form.insertBefore(h('div', { class: 'field' }, h('label', { for: 'range-granularity' }, 'Series by'), select), form.lastChild);
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (from.value && to.value && from.value > to.value) {
      from.setCustomValidity('The first day must not be after the last');
      form.reportValidity();
      return;
    }
    from.setCustomValidity('');
    navigate({ from: from.value || undefined, to: to.value || undefined });
  });
  return {
    root: h('div', { class: 'period' }, form, zone),
    answered(range) {
      if (!from.value) from.value = range.from;
      if (!to.value) to.value = range.to;
      if (range.timezone) {
        zone.textContent = `Days, weeks and months are cut in the organization's timezone, ${range.timezone}.`;
        zone.dataset.timezone = range.timezone;
      }
    },
  };
}
