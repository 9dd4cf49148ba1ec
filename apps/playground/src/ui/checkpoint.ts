/**
 * Which weights a task runs with: automatic (the protocol's order: a file you loaded, else what was
 * trained in this tab, else the checkpoint the package ships), or one of them by name; a safetensors
 * file can be chosen or dropped (it reaches the task as `ctx.checkpoint`), and weights trained here
 * download as safetensors, which load back the same way.
 */
import type { Engine } from '../engine/client.js';
import type { CheckpointChoice, CheckpointInfo, TaskInfo } from '../engine/protocol.js';
import { download, field, h } from './dom.js';

export interface CheckpointPanel {
  element: HTMLElement;
  choice(): CheckpointChoice;
  /** Asks the engine which checkpoint the current choice gives, and shows it. */
  refresh(): Promise<void>;
  /** Training finished: trained weights exist now. */
  trained(): void;
}

function describe(info: CheckpointInfo): string {
  const where = {
    given: 'the file you loaded',
    trained: 'trained in this tab',
    committed: 'the checkpoint shipped with the package',
  }[info.source];
  const t = info.training;
  const run = t
    ? ` (trained ${t['steps'] ?? '?'} steps${t['backend'] ? ` on ${t['backend']}` : ''}${typeof t['seconds'] === 'number' ? ` in ${t['seconds']} s` : ''})`
    : '';
  return `Using ${where}: step ${info.step}${run}.`;
}

export function checkpointPanel(
  engine: Engine,
  task: TaskInfo,
  hooks: { error(e: unknown): void },
): CheckpointPanel {
  const option = (value: CheckpointChoice, label: string, disabled = false) =>
    h('option', { value, disabled }, label);
  const select = h(
    'select',
    { 'data-testid': 'checkpoint-choice' },
    option('auto', 'Automatic: a loaded file, else trained here, else shipped'),
    option('committed', 'Shipped with the package', !task.committed),
    option('trained', 'Trained in this tab', true),
    option('given', 'The file you loaded', true),
  );
  const info = h(
    'p',
    { class: 'checkpoint-info', 'aria-live': 'polite', 'data-testid': 'checkpoint-info' },
    'Looking for a checkpoint...',
  );
  const optionFor = (value: CheckpointChoice) => Array.from(select.options).find((o) => o.value === value)!;

  const refresh = async () => {
    try {
      info.textContent = describe(
        await engine.send({ type: 'checkpoint', task: task.id, choice: select.value as CheckpointChoice })
          .result,
      );
      info.classList.remove('missing');
    } catch (e) {
      info.textContent = `No checkpoint yet: train one below or load a file. (${(e as Error).message})`;
      info.classList.add('missing');
    }
  };

  const give = async (file: File) => {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      await engine.send({ type: 'give', task: task.id, bytes, name: file.name }).result;
      optionFor('given').disabled = false;
      select.value = 'given';
      await refresh();
    } catch (e) {
      hooks.error(e);
    }
  };

  const file = h('input', {
    type: 'file',
    accept: '.safetensors',
    'data-testid': 'checkpoint-file',
    onchange: () => {
      const chosen = file.files?.[0];
      if (chosen) void give(chosen);
    },
  });
  const save = h(
    'button',
    { type: 'button', disabled: true, 'data-testid': 'checkpoint-download' },
    'Download the trained weights (safetensors)',
  );
  save.addEventListener('click', async () => {
    try {
      const { bytes, name } = await engine.send({ type: 'download', task: task.id }).result;
      download(bytes, name, 'application/octet-stream');
    } catch (e) {
      hooks.error(e);
    }
  });
  select.addEventListener('change', () => void refresh());

  const element = h(
    'div',
    { class: 'checkpoint drop-target' },
    field('Weights', select),
    info,
    h('div', { class: 'row' }, field('Load a checkpoint file (or drop it here)', file), save),
  );
  element.addEventListener('dragover', (e) => {
    e.preventDefault();
    element.classList.add('dragging');
  });
  element.addEventListener('dragleave', () => element.classList.remove('dragging'));
  element.addEventListener('drop', (e) => {
    e.preventDefault();
    element.classList.remove('dragging');
    const dropped = e.dataTransfer?.files[0];
    if (dropped) void give(dropped);
  });
  return {
    element,
    choice: () => select.value as CheckpointChoice,
    refresh,
    trained() {
      optionFor('trained').disabled = false;
      save.disabled = false;
      void refresh();
    },
  };
}
