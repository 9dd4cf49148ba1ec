/**
 * A task's output, drawn from its declared kind (`task.output`): streamed text, tokens and music events
 * appear as they come, streamed pixel rows are painted row by row; then the result: label bars, a
 * per-position table, text, an image, audio to play, MIDI to download (played when the task brings a
 * WAV rendering), values, and a download for every artifact.
 */
import type { TaskOutput, TaskPiece, tasks } from '@multihead/core';
import { download, formatNumber, h, mount } from './dom.js';
import { imageCanvas, toRgba, wavBytes } from './pixels.js';

export interface OutputView {
  element: HTMLElement;
  /** A new run: clears the previous output; `prompt` is shown before streamed text. */
  start(prompt?: string): void;
  piece(piece: TaskPiece): void;
  result(output: TaskOutput): void;
}

/** Paints pixel rows as they stream in; the canvas grows (doubling) as rows arrive. */
function pixelStream(parent: HTMLElement) {
  let canvas: HTMLCanvasElement | null = null;
  let rows = 0;
  const paint = (piece: Extract<TaskPiece, { kind: 'pixels' }>) => {
    if (!canvas || canvas.width !== piece.width) {
      canvas = h('canvas', {
        width: piece.width,
        height: 1,
        role: 'img',
        'aria-label': 'generated image, row by row',
        'data-testid': 'output-pixels',
      });
      canvas.style.imageRendering = 'pixelated';
      canvas.style.width = `${piece.width * Math.max(1, Math.floor(256 / piece.width))}px`;
      rows = 0;
      parent.append(canvas);
    }
    const g = canvas.getContext('2d')!;
    if (piece.row >= canvas.height) {
      const kept = rows > 0 ? g.getImageData(0, 0, canvas.width, rows) : null;
      canvas.height = Math.max(piece.row + 1, canvas.height * 2);
      if (kept) g.putImageData(kept, 0, 0);
    }
    g.putImageData(
      new ImageData(toRgba(piece.data, piece.channels, piece.width), piece.width, 1),
      0,
      piece.row,
    );
    rows = Math.max(rows, piece.row + 1);
  };
  /** The final image's height: drops the rows the doubling added beyond it. */
  const trim = (height: number) => {
    if (!canvas || canvas.height === height) return;
    const g = canvas.getContext('2d')!;
    const kept = g.getImageData(0, 0, canvas.width, Math.min(rows, height));
    canvas.height = height;
    g.putImageData(kept, 0, 0);
  };
  return { paint, trim, painted: () => rows > 0 };
}

function labelBars(scores: tasks.LabelScore[]): HTMLElement {
  const sorted = [...scores].sort((a, b) => b.probability - a.probability);
  return h(
    'ol',
    { class: 'bars', 'data-testid': 'label-bars' },
    sorted.map((s) => {
      const percent = `${(s.probability * 100).toFixed(1)}%`;
      return h(
        'li',
        null,
        h('span', { class: 'bar-label' }, s.label),
        h(
          'span',
          { class: 'bar', 'aria-hidden': 'true' },
          h('span', { class: 'fill', style: `width: ${percent}` }),
        ),
        h('span', { class: 'bar-value' }, percent),
      );
    }),
  );
}

function table(head: string[], rows: (string | number)[][], caption: string): HTMLTableElement {
  return h(
    'table',
    null,
    h('caption', null, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) =>
        h(
          'tr',
          null,
          r.map((c) => h('td', null, typeof c === 'number' ? formatNumber(c) : c)),
        ),
      ),
    ),
  );
}

function player(bytes: Uint8Array, label: string): HTMLAudioElement {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }));
  return h('audio', { controls: true, src: url, 'aria-label': label });
}

function artifacts(output: TaskOutput): HTMLElement | null {
  const list = output.artifacts ?? [];
  if (list.length === 0) return null;
  return h(
    'ul',
    { class: 'artifacts' },
    list.map((a) =>
      h(
        'li',
        null,
        h(
          'button',
          { type: 'button', onclick: () => download(a.bytes, a.name, a.mime) },
          `Download ${a.name}`,
        ),
      ),
    ),
  );
}

export function outputView(spec: tasks.OutputSpec): OutputView {
  const element = h('div', { class: 'output', 'data-testid': 'output', 'aria-busy': 'false' });
  const text = h('output', { class: 'stream', 'data-testid': 'output-text', 'aria-live': 'polite' });
  const extra = h('div');
  let pixels = pixelStream(extra);
  return {
    element,
    start(prompt = '') {
      mount(extra);
      pixels = pixelStream(extra);
      text.textContent = spec.stream === 'text' ? prompt : '';
      mount(element, text, extra);
      element.setAttribute('aria-busy', 'true');
    },
    piece(piece) {
      if (piece.kind === 'text') text.textContent += piece.text;
      else if (piece.kind === 'tokens') text.textContent += piece.text ?? `${piece.ids.join(' ')} `;
      else if (piece.kind === 'events') text.textContent += `${piece.events.join(' ')} `;
      else pixels.paint(piece);
    },
    result(output) {
      element.setAttribute('aria-busy', 'false');
      const view: HTMLElement[] = [];
      switch (output.kind) {
        case 'text':
          text.textContent = output.text;
          break;
        case 'label':
          text.textContent = `${output.label} (${((output.scores.find((s) => s.label === output.label)?.probability ?? 0) * 100).toFixed(1)}%)`;
          view.push(labelBars(output.scores));
          break;
        case 'labels':
          view.push(
            table(
              ['position', 'label', 'probability'],
              output.items.map((i) => [
                i.position,
                i.label,
                i.scores ? Math.max(...i.scores.map((s) => s.probability)) : '-',
              ]),
              'Label per position',
            ),
          );
          break;
        case 'values':
          view.push(
            table(
              ['value', 'result', 'unit'],
              Object.entries(output.values).map(([name, v]) => [name, v, output.units?.[name] ?? '']),
              'Predicted values',
            ),
          );
          break;
        case 'image': // the streamed rows are the image already
          if (pixels.painted()) pixels.trim(output.image.height);
          else
            view.push(
              imageCanvas(output.image, `output image, ${output.image.width} x ${output.image.height}`),
            );
          break;
        case 'audio': {
          const wav = wavBytes(output.samples, output.sampleRate);
          view.push(
            player(wav, 'generated audio'),
            h(
              'button',
              { type: 'button', onclick: () => download(wav, 'output.wav', 'audio/wav') },
              'Download WAV',
            ),
          );
          break;
        }
        case 'midi': {
          text.textContent += `\n${output.events} MIDI events`;
          const rendering = output.artifacts?.find((a) => a.mime === 'audio/wav');
          if (rendering) view.push(player(rendering.bytes, 'the generated music'));
          view.push(
            h(
              'button',
              { type: 'button', onclick: () => download(output.midi, 'output.mid', 'audio/midi') },
              'Download MIDI',
            ),
          );
          break;
        }
      }
      extra.append(...view, ...[artifacts(output)].filter((x): x is HTMLElement => x !== null));
    },
  };
}
