/**
 * Controls from a task's parameter table (`task.params`): numbers and integers as number fields (empty:
 * the task's default), booleans as checkboxes, choices as selects. The worker checks the values with
 * `tasks.resolveParams`, as the CLI does, so a bad value comes back as the task's own message.
 */
import type { tasks } from '@multihead/core';
import { field, h, uid } from './dom.js';

export interface ParamsForm {
  element: HTMLElement;
  values(): tasks.TaskParams;
}

export function paramsForm(specs: readonly tasks.ParamSpec[]): ParamsForm {
  const readers: (() => [string, number | boolean | string] | null)[] = [];
  const fields = specs.map((spec) => {
    if (spec.type === 'boolean') {
      const box = h('input', {
        type: 'checkbox',
        checked: spec.default === true,
        id: uid(`param-${spec.name}`),
      });
      readers.push(() => [spec.name, box.checked]);
      return h(
        'div',
        { class: 'field check' },
        box,
        h('label', { for: box.id }, spec.name),
        h('small', { class: 'hint' }, spec.description),
      );
    }
    if (spec.type === 'choice') {
      const select = h(
        'select',
        null,
        ...(spec.choices ?? []).map((c) => h('option', { value: c, selected: c === spec.default }, c)),
      );
      readers.push(() => [spec.name, select.value]);
      return field(spec.name, select, spec.description);
    }
    const input = h('input', {
      type: 'number',
      step: spec.type === 'integer' ? '1' : 'any',
      ...(spec.min !== undefined ? { min: String(spec.min) } : {}),
      ...(spec.max !== undefined ? { max: String(spec.max) } : {}),
      placeholder: spec.default !== undefined ? `default ${spec.default}` : 'task default',
    });
    readers.push(() => (input.value.trim() === '' ? null : [spec.name, Number(input.value)]));
    const range =
      spec.min !== undefined || spec.max !== undefined
        ? ` [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`
        : '';
    return field(spec.name, input, `${spec.description}${range}`);
  });
  const element =
    specs.length === 0
      ? h('p', { class: 'hint' }, 'This task has no run-time parameters.')
      : h('details', { class: 'params' }, h('summary', null, `Parameters (${specs.length})`), ...fields);
  return {
    element,
    values() {
      const out: tasks.TaskParams = {};
      for (const read of readers) {
        const pair = read();
        if (pair) out[pair[0]] = pair[1];
      }
      return out;
    },
  };
}
