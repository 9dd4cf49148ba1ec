/**
 * The playground (apps/playground, docs/api.md): the page lists every task of the modality packages
 * from the build-time manifest, starts the engine worker (WebGPU where there is an adapter, else the
 * CPU backend) and builds each task's view from its declaration. Offline: a service worker caches the
 * app (src/offline/service-worker.ts).
 */
import './style.css';
import tasks from 'virtual:multihead/tasks';
import { Engine } from './engine/client.js';
import { h, mount } from './ui/dom.js';
import { backendChoice, renderStatus } from './ui/status.js';
import { renderTaskList } from './ui/task-list.js';
import { taskView } from './ui/task-view.js';

const $ = (id: string) => document.getElementById(id)!;
const errors = $('errors');

function report(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  errors.append(
    h(
      'p',
      null,
      message,
      ' ',
      h(
        'button',
        { type: 'button', onclick: (e: Event) => (e.target as HTMLElement).parentElement?.remove() },
        'Dismiss',
      ),
    ),
  );
}

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' }).catch(report);
}

const engine = new Engine();
const ready = engine
  .send({
    type: 'init',
    backend: backendChoice(),
    datasetBase: new URL('datasets/', document.baseURI).href,
    control: engine.controlBuffer,
  })
  .result.then((info) => {
    renderStatus($('engine-status'), info);
    document.body.dataset['backend'] = info.backend;
    return info;
  });
ready.catch((e) => {
  $('engine-status').textContent = 'The engine did not start.';
  report(e);
});

let markOpen: (id: string) => void = () => {};
/** Views are kept when another task is opened: a training run goes on in the worker, and its curve with it. */
const views = new Map<string, HTMLElement>();

function open(id: string, focus: boolean): void {
  const task = tasks.find((t) => t.id === id);
  if (!task) {
    mount($('task'), h('p', null, `No task ${id} in this build. Choose one from the list.`));
    return;
  }
  if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  mount(errors);
  markOpen(id);
  // the view waits for the device (the checkpoint lookup needs it)
  void ready
    .then(() => {
      const view = views.get(id) ?? taskView(engine, task, report);
      views.set(id, view);
      mount($('task'), view);
      if (focus) $('task-heading').focus();
    })
    .catch(() => {}); // reported where the engine failed to start
}

markOpen = renderTaskList($('task-list'), tasks, (id) => open(id, true));
const fromHash = decodeURIComponent(location.hash.slice(1));
if (fromHash) open(fromHash, false);
window.addEventListener('hashchange', () => open(decodeURIComponent(location.hash.slice(1)), true));
