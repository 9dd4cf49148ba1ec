/**
 * The graph input: a text box for an edge list, GML or SMILES (what the graph tasks parse), and a small
 * editor that writes an edge list into it: click empty space to add a node, click two nodes to join
 * them (or to part them again). Lines are `source target`; a node with no edge gets a line of its own
 * (the edge-list convention of packages/graph/src/preprocess/edge-list.ts).
 */
import type { tasks } from '@multihead/core';
import { h } from '../dom.js';
import { type InputWidget, textBox } from './text.js';

const WIDTH = 320;
const HEIGHT = 200;
const RADIUS = 11;

interface EditorNode {
  name: string;
  x: number;
  y: number;
}

export function graphInput(spec: tasks.InputSpec): InputWidget {
  const box = textBox(spec, 'Graph (edge list, GML or SMILES)', {
    rows: 5,
    accept: spec.accept ?? ['.txt', '.edgelist', '.gml', '.smi'],
  });
  const canvas = h('canvas', {
    width: WIDTH,
    height: HEIGHT,
    class: 'graph-editor',
    role: 'img',
    'data-testid': 'graph-editor',
    'aria-label':
      'Graph editor: click to add a node, click two nodes to join them; it writes the edge list above',
  });
  const g = canvas.getContext('2d')!;
  const nodes: EditorNode[] = [];
  const edges: [number, number][] = [];
  let selected: number | null = null;

  const edgeList = () => {
    const lines = edges.map(([a, b]) => `${nodes[a]!.name} ${nodes[b]!.name}`);
    nodes.forEach((node, i) => {
      if (!edges.some(([a, b]) => a === i || b === i)) lines.push(node.name);
    });
    return lines.join('\n');
  };

  const draw = () => {
    g.clearRect(0, 0, WIDTH, HEIGHT);
    g.strokeStyle = '#555';
    g.lineWidth = 2;
    for (const [a, b] of edges) {
      g.beginPath();
      g.moveTo(nodes[a]!.x, nodes[a]!.y);
      g.lineTo(nodes[b]!.x, nodes[b]!.y);
      g.stroke();
    }
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    nodes.forEach((node, i) => {
      g.fillStyle = i === selected ? '#f59e0b' : '#2563eb';
      g.beginPath();
      g.arc(node.x, node.y, RADIUS, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = '#fff';
      g.fillText(node.name, node.x, node.y);
    });
  };

  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * WIDTH) / r.width;
    const y = ((e.clientY - r.top) * HEIGHT) / r.height;
    const hit = nodes.findIndex((n) => (n.x - x) ** 2 + (n.y - y) ** 2 <= RADIUS ** 2);
    if (hit < 0) {
      nodes.push({ name: String(nodes.length), x, y });
      selected = null;
    } else if (selected === null || selected === hit) {
      selected = selected === hit ? null : hit;
    } else {
      const at = edges.findIndex(([a, b]) => (a === selected && b === hit) || (a === hit && b === selected));
      if (at >= 0) edges.splice(at, 1);
      else edges.push([selected, hit]);
      selected = null;
    }
    box.textarea.value = edgeList();
    draw();
  });

  const clear = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        nodes.length = 0;
        edges.length = 0;
        selected = null;
        box.textarea.value = '';
        draw();
      },
    },
    'Clear the editor',
  );
  draw();
  const element = h('div', { class: 'input-graph' }, box.element, canvas, clear);
  return { element, read: box.read };
}
