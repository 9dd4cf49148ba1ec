/** An `EvalReport` as a table: each metric of the model beside each baseline, and whether the goal is met. */
import type { EvalReport, tasks } from '@multihead/core';
import { formatNumber, h } from './dom.js';

export function goalText(goal: tasks.TaskGoal): string {
  const bound = goal.value === undefined ? '' : `${goal.metric} ${goal.op} ${goal.value}`;
  const beat = goal.beat?.length
    ? `${bound ? ' and ' : `${goal.metric} `}better than ${goal.beat.join(', ')}`
    : '';
  return bound + beat;
}

export function reportView(report: EvalReport, metrics: readonly tasks.MetricSpec[]): HTMLElement {
  const baselines = Object.keys(report.baselines);
  const names = [...new Set([...metrics.map((m) => m.name), ...Object.keys(report.metrics)])].filter(
    (m) => report.metrics[m] !== undefined,
  );
  const cell = (v: number | undefined) => (v === undefined ? '-' : formatNumber(v));
  const { checkpoint } = report;
  return h(
    'div',
    { class: 'report', 'data-testid': 'eval-report' },
    h(
      'table',
      null,
      h('caption', null, `${report.split.name}: ${report.split.description}`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['metric', 'model', ...baselines].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        names.map((m) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, m),
            h('td', null, cell(report.metrics[m])),
            baselines.map((b) => h('td', null, cell(report.baselines[b]![m]))),
          ),
        ),
      ),
    ),
    report.goal
      ? h(
          'p',
          { class: report.goal.met ? 'goal met' : 'goal unmet' },
          `Goal: ${goalText(report.goal)}: ${report.goal.met ? 'met' : 'not met'}.`,
        )
      : null,
    h(
      'p',
      { class: 'hint' },
      `${report.examples} examples; checkpoint ${checkpoint.location} (${checkpoint.source}, step ${checkpoint.step}).`,
    ),
  );
}
