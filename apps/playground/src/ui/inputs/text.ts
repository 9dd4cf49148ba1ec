/**
 * The text box every text-like input kind uses (text, sequence, and the text half of graphs), with a
 * file picker that fills it, and what every input widget is.
 */
import type { InputValue, tasks } from '@multihead/core';
import { field, h, uid } from '../dom.js';

export interface InputWidget {
  element: HTMLElement;
  /** The value to send, or undefined for "no input" (a task whose input is optional). */
  read(): Promise<InputValue | undefined>;
}

/** Thrown by `read()` when a required input is missing: the message says what to give. */
export class MissingInput extends Error {}

/** A text box (and a file to fill it from): text, FASTA / residues, and the text half of graphs. */
export function textBox(
  spec: tasks.InputSpec,
  label: string,
  opts: { rows?: number; accept?: readonly string[] } = {},
): { element: HTMLElement; textarea: HTMLTextAreaElement; read(): Promise<string | undefined> } {
  const textarea = h('textarea', {
    id: uid('input'),
    rows: opts.rows ?? 3,
    placeholder: spec.example ? `e.g. ${spec.example}` : '',
    spellcheck: false,
    'data-testid': 'task-input',
  });
  const file = h('input', {
    type: 'file',
    id: uid('file'),
    accept: (opts.accept ?? spec.accept ?? ['.txt', 'text/plain']).join(','),
    onchange: async () => {
      const chosen = file.files?.[0];
      if (chosen) textarea.value = await chosen.text();
    },
  });
  const element = h(
    'div',
    { class: 'input-text' },
    field(label, textarea, spec.description),
    field('or open a file', file),
  );
  return {
    element,
    textarea,
    async read() {
      const value = textarea.value;
      if (value.trim() === '') {
        if (spec.required === false) return spec.kind === 'text' ? '' : undefined;
        throw new MissingInput(`Give an input first: ${spec.description}`);
      }
      return value;
    },
  };
}
