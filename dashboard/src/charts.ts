import * as echarts from 'echarts/core';
import { BarChart, FunnelChart, LineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, FunnelSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption, AriaComponentOption } from 'echarts/components';

/**
 * Apache ECharts, only the parts the page draws (funnel, line, bar; SVG renderer), bundled.
 * Every chart has the same numbers beside it in a table, which is what screen readers and
 * tests read; the chart is decoration with an aria description. Tooltips render as chart
 * text (richText), never as HTML, so no API string is ever parsed as markup.
 */
echarts.use([BarChart, FunnelChart, LineChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export type ChartOption = ComposeOption<BarSeriesOption | FunnelSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption | AriaComponentOption>;

/** Okabe–Ito hues (told apart with every common colour-vision deficiency), darkened to 4.5:1 or more against white, so white labels on them and the lines on the page meet WCAG AA. */
export const PALETTE = ['#0072B2', '#B34A00', '#007A5A', '#A8487F', '#8A6100', '#005A8C', '#6B4C9A'];
const TEXT = '#333842';

const live = new Set<{ chart: echarts.ECharts; el: HTMLElement }>();
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) for (const c of live) if (c.el === entry.target) c.chart.resize();
});

/** Draws a chart into el (a sized box); charts whose box left the page are disposed on the next call. */
export function drawChart(el: HTMLElement, option: ChartOption, description: string): void {
  for (const c of [...live]) {
    if (!c.el.isConnected) {
      resizer.unobserve(c.el);
      c.chart.dispose();
      live.delete(c);
    }
  }
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', description);
  const chart = echarts.init(el, null, { renderer: 'svg' });
  chart.setOption({
    color: PALETTE,
    // A concrete font: ECharts measures label widths itself and cannot resolve 'inherit'.
    textStyle: { color: TEXT, fontFamily: 'system-ui, "Noto Sans", "DejaVu Sans", sans-serif', fontSize: 12 },
    aria: { enabled: false },
    animation: !matchMedia('(prefers-reduced-motion: reduce)').matches,
    tooltip: { renderMode: 'richText', confine: true },
    ...option,
  });
  live.add({ chart, el });
  resizer.observe(el);
}
