/**
 * Input widgets from a task's declared input kind (`task.input.kind`), each producing one of the
 * protocol's input values: a string (text, sequence, graph), pixels (`ImageData`), a file
 * (`{ bytes, name, type }`) or samples (`{ sampleRate, channels }`). Nothing here knows a task.
 */
import type { tasks } from '@multihead/core';
import { h } from '../dom.js';
import { audioInput } from './audio.js';
import { graphInput } from './graph.js';
import { imageInput } from './image.js';
import { type InputWidget, textBox } from './text.js';

export { type InputWidget, MissingInput } from './text.js';

export function inputWidget(spec: tasks.InputSpec): InputWidget {
  switch (spec.kind) {
    case 'text':
      return textBox(spec, 'Text');
    case 'sequence':
      return textBox(spec, 'Sequence (FASTA or residues)', {
        rows: 5,
        accept: spec.accept ?? ['.fasta', '.fa', '.faa', '.txt'],
      });
    case 'graph':
      return graphInput(spec);
    case 'image':
      return imageInput(spec);
    case 'audio':
      return audioInput(spec);
    case 'none':
      return { element: h('p', null, 'This task takes no input.'), read: async () => undefined };
  }
}
