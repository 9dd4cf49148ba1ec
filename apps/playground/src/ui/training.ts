/**
 * Training in the tab: start / pause / stop, the live loss curve (uPlot), the step count and items per
 * second in the task's unit; at the end the held-out metric on a quick evaluation (`evaluate` with a
 * `limit`), and the trained weights to download. The run itself is in the engine worker: pause holds it
 * between steps (weights and optimizer state kept), stop ends it and the task saves what it trained.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Engine } from '../engine/client.js';
import type { TaskInfo } from '../engine/protocol.js';
import { field, formatNumber, h, mount } from './dom.js';
import { reportView } from './report.js';

export interface TrainingPanel {
  element: HTMLElement;
}

/** Held-out examples the end-of-training evaluation scores (quick, not the task's whole split). */
export const QUICK_EVAL_LIMIT = 200;

export function trainingPanel(
  engine: Engine,
  task: TaskInfo,
  hooks: { busy(on: boolean): void; trained(): void; error(e: unknown): void },
): TrainingPanel {
  const steps = h('input', {
    type: 'number',
    min: '1',
    step: '1',
    value: '200',
    'data-testid': 'train-steps',
  });
  const seed = h('input', { type: 'number', min: '0', step: '1', value: '0' });
  const start = h(
    'button',
    { type: 'button', class: 'primary', 'data-testid': 'train-start' },
    'Start training',
  );
  const pause = h(
    'button',
    { type: 'button', disabled: true, 'aria-pressed': 'false', 'data-testid': 'train-pause' },
    'Pause',
  );
  const stop = h('button', { type: 'button', disabled: true, 'data-testid': 'train-stop' }, 'Stop');
  const stats = h(
    'p',
    { class: 'stats', 'aria-live': 'polite', 'data-testid': 'train-stats' },
    'Not started.',
  );
  const chartBox = h('div', {
    class: 'chart',
    role: 'img',
    'aria-label': 'training loss by step',
    'data-testid': 'loss-chart',
  });
  const result = h('div', { 'data-testid': 'train-result' });
  if (!engine.canPause) pause.title = 'Pause needs a cross-origin isolated page (see the hosting notes)';

  const xs: number[] = [];
  const ys: number[] = [];
  let plot: uPlot | null = null;
  const drawPlot = () => {
    const width = Math.max(280, Math.min(640, chartBox.clientWidth || 560));
    if (!plot) {
      plot = new uPlot(
        {
          width,
          height: 220,
          scales: { x: { time: false } },
          axes: [{ label: 'step' }, { label: 'loss' }],
          series: [
            { label: 'step' },
            { label: 'loss', stroke: '#2563eb', width: 2, points: { show: true, size: 4 } },
          ],
          legend: { show: true },
        },
        [xs, ys],
        chartBox,
      );
    } else plot.setData([xs, ys]);
  };

  let running: number | null = null;
  let paused = false;
  const setRunning = (on: boolean) => {
    start.disabled = on;
    stop.disabled = !on;
    pause.disabled = !on || !engine.canPause;
    hooks.busy(on);
  };

  const setPaused = (on: boolean) => {
    paused = on;
    pause.textContent = on ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(on));
  };

  start.addEventListener('click', async () => {
    xs.length = 0;
    ys.length = 0;
    plot?.destroy();
    plot = null;
    mount(chartBox);
    mount(result);
    setPaused(false);
    engine.setTraining('run');
    setRunning(true);
    stats.textContent = 'Starting (loading the data and building the model)...';
    const call = engine.send(
      { type: 'train', task: task.id, steps: Number(steps.value), seed: Number(seed.value) },
      {
        progress: (p, isPaused) => {
          if (isPaused) {
            stats.textContent = `Paused at step ${p.step} of ${p.steps}.`;
            return;
          }
          xs.push(p.step);
          ys.push(p.loss);
          drawPlot();
          stats.textContent = `step ${p.step} / ${p.steps} · loss ${p.loss.toFixed(4)} · ${formatNumber(p.itemsPerSecond)} ${p.unit}/s · ${p.seconds.toFixed(1)} s`;
          chartBox.dataset['losses'] = JSON.stringify(ys); // what the curve shows, for tests and scripts
        },
      },
    );
    running = call.id;
    try {
      const report = await call.result;
      stats.textContent = `${report.aborted ? 'Stopped' : 'Trained'} ${report.steps} steps in ${report.seconds.toFixed(1)} s (${formatNumber(report.itemsPerSecond)} ${report.unit}/s); final loss ${report.finalLoss.toFixed(4)}. Saved in this tab (${report.checkpoint}).`;
      hooks.trained();
      mount(result, h('p', null, `Evaluating on ${QUICK_EVAL_LIMIT} held-out examples...`));
      const evaluation = await engine.send({
        type: 'evaluate',
        task: task.id,
        choice: 'trained',
        limit: QUICK_EVAL_LIMIT,
        seed: 0,
      }).result;
      mount(
        result,
        h('h4', null, 'Held-out metric of the trained weights'),
        reportView(evaluation, task.metrics),
      );
    } catch (e) {
      hooks.error(e);
      stats.textContent = 'Training failed (see the message above).';
    } finally {
      running = null;
      setPaused(false); // a pause clicked after the last pause point did not hold the run
      setRunning(false);
    }
  });

  pause.addEventListener('click', () => {
    setPaused(!paused);
    engine.setTraining(paused ? 'pause' : 'run');
    if (!paused) stats.textContent = 'Resuming...';
  });

  stop.addEventListener('click', () => {
    engine.setTraining('stop');
    if (running !== null) engine.cancel(running); // without a shared control word, the request's signal stops it
    stats.textContent = 'Stopping after this step (what was trained is kept)...';
  });

  const element = h(
    'div',
    { class: 'training' },
    h(
      'p',
      { class: 'hint' },
      'Trains from scratch in this tab, in a worker; the weights stay in this tab until you download them.',
    ),
    h('div', { class: 'row' }, field('Steps', steps), field('Seed', seed)),
    h('div', { class: 'row' }, start, pause, stop),
    stats,
    chartBox,
    result,
  );
  return { element };
}
