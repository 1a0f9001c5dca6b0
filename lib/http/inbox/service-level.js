// The service-level chart and its table: promises kept and the median first reply, per day.

import { api, offline } from './api.js';
import { formatDecimal, formatShortDay, onLanguageChange, say, t } from './i18n.js';
import { $, el } from './page.js';
import { apiErrorText } from './reasons.js';

const DAY_MS = 86_400_000;
/** A tick every day or every few (never between two days, which would write a day twice), in Unix seconds. */
const DAY_TICKS = [1, 2, 3, 7, 14].map((days) => days * 86_400);
/** The chart's x values (Unix seconds) as days in the page's language, not uPlot's US month/day. */
const dayText = (seconds) =>
  seconds === null || seconds === undefined ? '–' : formatShortDay(seconds * 1000);
let chart = null;
/** The days last read, drawn again in another language. */
let shownDays = null;

/** A local date as YYYY-MM-DD (toISOString would shift it to UTC). */
function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

export async function refreshServiceLevel() {
  const to = new Date();
  const from = new Date(to.getTime() - 13 * DAY_MS);
  const result = await api(`/api/service-level?from=${isoDate(from)}&to=${isoDate(to)}`).catch(offline);
  const days = result?.ok ? result.data.byDay : null;
  $('chart').hidden = !days;
  $('chart-details').hidden = !days;
  $('chart-note').hidden = Boolean(days);
  if (!days) {
    say(
      $('chart-note'),
      result?.status === 404
        ? () => t('level.none')
        : () => t('level.unavailable', { why: result ? apiErrorText(result) : t('level.networkError') }),
    );
    return;
  }
  shownDays = days;
  drawChart(days);
  showTable(days);
}

/** The same figures as a table, a row a day. */
function showTable(days) {
  $('chart-rows').replaceChildren(
    ...days.map((day) =>
      el(
        'tr',
        {},
        // The day as the chart's axis writes it, in the page's language; its date for machines.
        el(
          'th',
          { scope: 'row' },
          el('time', { datetime: day.date }, dayText(Date.parse(`${day.date}T00:00:00`) / 1000)),
        ),
        el('td', {}, String(day.conversations)),
        el('td', {}, String(day.answered)),
        el('td', {}, percentText(day.promisesKept.share)),
        el('td', {}, hoursText(day.firstReplyWorkingHours.median)),
      ),
    ),
  );
}

function percentText(share) {
  return share === null ? '–' : `${Math.round(share * 100)} %`;
}

/** Working hours as people say them; the report measures in quarter hours. */
function hoursText(hours) {
  if (hours === null || hours === undefined) return '–';
  return hours < 1 ? `${Math.round(hours * 60)} min` : `${formatDecimal(hours)} h`;
}

/** Two series on their own scales: promises kept (%) on the left, median first reply (h) on the right. */
function drawChart(days) {
  const data = [
    // uPlot's x values are Unix seconds; local midnight puts each day on its own tick.
    days.map((day) => Date.parse(`${day.date}T00:00:00`) / 1000),
    // null (nothing to measure that day) leaves a gap rather than a misleading zero.
    days.map((day) => (day.promisesKept.share === null ? null : day.promisesKept.share * 100)),
    days.map((day) => day.firstReplyWorkingHours.median),
  ];
  if (chart) return chart.setData(data);
  chart = new uPlot(
    {
      width: Math.max(320, $('chart').clientWidth),
      height: 240,
      scales: { '%': { range: [0, 100] }, h: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
      series: [
        { label: t('level.day'), value: (_u, v) => dayText(v) },
        {
          label: t('level.kept'),
          scale: '%',
          stroke: '#1b7f3b',
          width: 2,
          points: { show: true },
          value: (_u, v) => (v === null ? '–' : `${Math.round(v)} %`),
        },
        {
          label: t('level.median'),
          scale: 'h',
          stroke: '#1f5fbf',
          width: 2,
          dash: [6, 4],
          points: { show: true },
          value: (_u, v) => hoursText(v),
        },
      ],
      axes: [
        { incrs: DAY_TICKS, values: (_u, ticks) => ticks.map(dayText) },
        { scale: '%', size: 56, values: (_u, ticks) => ticks.map((v) => `${v} %`) },
        {
          scale: 'h',
          side: 1,
          size: 56,
          grid: { show: false },
          values: (_u, ticks) => ticks.map((v) => `${v} h`),
        },
      ],
    },
    data,
    $('chart'),
  );
}

// Another language: the chart's legend and days, and the table, from the figures read.
onLanguageChange(() => {
  if (!shownDays) return;
  chart?.destroy();
  chart = null;
  drawChart(shownDays);
  showTable(shownDays);
});

window.addEventListener('resize', () =>
  chart?.setSize({ width: Math.max(320, $('chart').clientWidth), height: 240 }),
);

/** Whether the chart is drawn (a poll reads the figures until it is, then once a minute). */
export const chartShown = () => chart !== null;
