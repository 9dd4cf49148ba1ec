/**
 * One task, built from its declaration alone (as the CLI drives any task): description, metrics and
 * goal; the weights it runs with; an input widget from `input.kind`, controls from `params`, the output
 * from `output.kind`; the attention explorer; training and evaluation. No task or modality is named here.
 */
import type { Engine } from '../engine/client.js';
import type { TaskInfo } from '../engine/protocol.js';
import { attentionView } from './attention.js';
import { checkpointPanel } from './checkpoint.js';
import { field, h, mount } from './dom.js';
import { inputWidget } from './inputs/index.js';
import { outputView } from './outputs.js';
import { paramsForm } from './params.js';
import { goalText, reportView } from './report.js';
import { trainingPanel } from './training.js';

function section(title: string, testid: string, ...body: (HTMLElement | null)[]): HTMLElement {
  const heading = h('h3', { id: `section-${testid}` }, title);
  return h(
    'section',
    { 'aria-labelledby': heading.id, 'data-testid': `section-${testid}` },
    heading,
    ...body,
  );
}

export function taskView(engine: Engine, task: TaskInfo, report: (e: unknown) => void): HTMLElement {
  const buttons: HTMLButtonElement[] = [];
  const busy = (on: boolean) => {
    for (const b of buttons) b.disabled = on;
  };
  const checkpoint = checkpointPanel(engine, task, { error: report });
  void engine
    .send({ type: 'open', task: task.id })
    .result.then(() => checkpoint.refresh())
    .catch(report);

  // ---- run
  const input = inputWidget(task.input);
  const params = paramsForm(task.params);
  const seed = h('input', { type: 'number', min: '0', step: '1', value: '0' });
  const output = outputView(task.output);
  const run = h('button', { type: 'button', class: 'primary', 'data-testid': 'run' }, 'Run');
  const cancel = h('button', { type: 'button', hidden: true }, 'Stop');
  const runStatus = h('p', { class: 'hint', 'aria-live': 'polite', 'data-testid': 'run-status' });
  let current: number | null = null;
  run.addEventListener('click', async () => {
    let value: Awaited<ReturnType<typeof input.read>>;
    try {
      value = await input.read();
    } catch (e) {
      report(e);
      return;
    }
    busy(true);
    cancel.hidden = false;
    runStatus.textContent = 'Running...';
    output.start(typeof value === 'string' ? value : '');
    const t0 = performance.now();
    const call = engine.send(
      {
        type: 'run',
        task: task.id,
        choice: checkpoint.choice(),
        input: value,
        params: params.values(),
        seed: Number(seed.value),
      },
      { piece: (p) => output.piece(p) },
    );
    current = call.id;
    try {
      output.result(await call.result);
      runStatus.textContent = `Done in ${((performance.now() - t0) / 1000).toFixed(2)} s.`;
    } catch (e) {
      report(e);
      runStatus.textContent = 'The run failed.';
    } finally {
      current = null;
      cancel.hidden = true;
      busy(false);
    }
  });
  cancel.addEventListener('click', () => {
    if (current !== null) engine.cancel(current);
  });

  // ---- attention
  const show = h(
    'button',
    { type: 'button', 'data-testid': 'attention-show' },
    'Show the attention maps of this input',
  );
  const maps = h('div', { 'data-testid': 'attention' });
  show.addEventListener('click', async () => {
    let value: Awaited<ReturnType<typeof input.read>>;
    try {
      value = await input.read();
    } catch (e) {
      report(e);
      return;
    }
    busy(true);
    mount(maps, h('p', null, 'Computing...'));
    try {
      const result = await engine.send({
        type: 'attention',
        task: task.id,
        choice: checkpoint.choice(),
        input: value,
        params: params.values(),
        seed: 0,
      }).result;
      mount(maps, attentionView(result));
    } catch (e) {
      mount(maps);
      report(e);
    } finally {
      busy(false);
    }
  });

  // ---- evaluate
  const limit = h('input', { type: 'number', min: '1', step: '1', value: '200' });
  const evaluate = h('button', { type: 'button', 'data-testid': 'evaluate' }, 'Evaluate');
  const evaluation = h('div', { 'aria-live': 'polite' });
  evaluate.addEventListener('click', async () => {
    busy(true);
    mount(evaluation, h('p', null, 'Evaluating...'));
    try {
      const result = await engine.send({
        type: 'evaluate',
        task: task.id,
        choice: checkpoint.choice(),
        limit: Number(limit.value),
        seed: 0,
      }).result;
      mount(evaluation, reportView(result, task.metrics));
    } catch (e) {
      mount(evaluation);
      report(e);
    } finally {
      busy(false);
    }
  });

  const training = trainingPanel(engine, task, { busy, trained: () => checkpoint.trained(), error: report });
  buttons.push(run, show, evaluate);

  const heading = h('h2', { tabIndex: -1, id: 'task-heading', 'data-testid': 'task-heading' }, task.id);
  const metricsTable = h(
    'table',
    null,
    h('caption', null, 'What evaluation reports'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['metric', 'better', 'meaning'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      task.metrics.map((m) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, m.name),
          h('td', null, m.better),
          h('td', null, m.description),
        ),
      ),
    ),
  );
  return h(
    'article',
    { class: 'task', 'aria-labelledby': heading.id },
    heading,
    h('p', null, task.description),
    h(
      'p',
      { class: 'hint' },
      `${task.kind}: ${task.input.kind} -> ${task.output.kind}${task.output.stream ? ` (streams ${task.output.stream})` : ''}; attention over ${task.positions}.`,
    ),
    metricsTable,
    task.goal ? h('p', null, `Goal: ${goalText(task.goal)}.`) : null,
    section('Weights', 'checkpoint', checkpoint.element),
    section(
      'Run',
      'run',
      input.element,
      params.element,
      field('Seed', seed, 'sampling seed (the same seed gives the same output)'),
      h('div', { class: 'row' }, run, cancel),
      runStatus,
      output.element,
    ),
    section(
      'Attention',
      'attention',
      h('p', { class: 'hint' }, 'Per layer and head, for the input above.'),
      show,
      maps,
    ),
    section('Train', 'train', training.element),
    section('Evaluate', 'evaluate', field('Examples (at most)', limit), evaluate, evaluation),
  );
}
