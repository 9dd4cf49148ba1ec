/**
 * The engine's status line: the backend and the adapter's name (WebGPU), or a visible notice when the
 * CPU backend runs instead; how many wasm threads the CPU kernels use; whether the page is cross-origin
 * isolated; and a choice of backend (it reloads the page with `?backend=`).
 */
import type { AdapterDescription } from '@multihead/core';
import type { BackendChoice, EngineInfo } from '../engine/protocol.js';
import { field, h, mount } from './dom.js';

export function adapterName(adapter: AdapterDescription): string {
  return (
    adapter.description ||
    [adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' / ') ||
    'unnamed adapter'
  );
}

export function backendChoice(): BackendChoice {
  const asked = new URLSearchParams(location.search).get('backend');
  return asked === 'webgpu' || asked === 'cpu' ? asked : 'auto';
}

function chooser(): HTMLElement {
  const select = h(
    'select',
    { 'data-testid': 'backend-choice' },
    h('option', { value: 'auto' }, 'WebGPU when there is an adapter, else CPU'),
    h('option', { value: 'webgpu' }, 'WebGPU only'),
    h('option', { value: 'cpu' }, 'CPU (WebAssembly)'),
  );
  select.value = backendChoice();
  select.addEventListener('change', () => {
    const url = new URL(location.href);
    if (select.value === 'auto') url.searchParams.delete('backend');
    else url.searchParams.set('backend', select.value);
    location.assign(url);
  });
  return field('Backend', select);
}

export function renderStatus(root: HTMLElement, info: EngineInfo): void {
  const isolated = info.isolated
    ? 'cross-origin isolated'
    : 'not cross-origin isolated (one wasm thread, no pause)';
  if (info.backend === 'webgpu') {
    mount(
      root,
      h(
        'p',
        null,
        'WebGPU on ',
        h('strong', { 'data-testid': 'adapter' }, adapterName(info.adapter!)),
        info.adapter?.isSoftware ? ' (a software adapter)' : '',
        ` · no wasm threads (the GPU runs the kernels) · ${isolated}`,
      ),
      chooser(),
    );
    return;
  }
  const why = info.webgpuError ? 'No WebGPU adapter here' : 'CPU backend chosen';
  mount(
    root,
    h(
      'p',
      { class: 'notice', 'data-testid': 'cpu-notice' },
      `${why}: running on the CPU backend, WebAssembly SIMD on `,
      h(
        'strong',
        { 'data-testid': 'threads' },
        `${info.threads ?? 1} thread${info.threads === 1 ? '' : 's'}`,
      ),
      ` · ${isolated}.`,
    ),
    h('p', { class: 'hint' }, info.webgpuError ? `WebGPU: ${info.webgpuError}` : info.reason),
    chooser(),
  );
}
