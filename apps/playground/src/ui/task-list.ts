/** The task list, from the manifest (every modality's table), grouped by modality; the open one is marked. */
import type { TaskInfo } from '../engine/protocol.js';
import { h, mount } from './dom.js';

export function renderTaskList(
  root: HTMLElement,
  all: readonly TaskInfo[],
  open: (id: string) => void,
): (id: string) => void {
  const buttons = new Map<string, HTMLButtonElement>();
  const modalities = [...new Set(all.map((t) => t.modality))];
  mount(
    root,
    h('h2', null, 'Tasks'),
    modalities.map((m) =>
      h(
        'section',
        { 'aria-label': `${m} tasks` },
        h('h3', null, m),
        h(
          'ul',
          null,
          all
            .filter((t) => t.modality === m)
            .map((t) => {
              const button = h(
                'button',
                { type: 'button', 'data-task': t.id, onclick: () => open(t.id) },
                t.id.slice(m.length + 1),
                h('small', null, t.kind),
              );
              buttons.set(t.id, button);
              return h('li', null, button);
            }),
        ),
      ),
    ),
  );
  return (id) => {
    for (const [taskId, button] of buttons) {
      if (taskId === id) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
  };
}
