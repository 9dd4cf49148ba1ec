// Node entry (plain ESM, no build step of its own): the probe as tsc emitted it, the shipped checkpoint read
// through @multihead/text's exports, the result printed as JSON.
import { readFile } from 'node:fs/promises';
import { probe } from './out/probe.js';

const file = new URL(import.meta.resolve('@multihead/text/checkpoints/names.safetensors'));
const result = await probe(new Uint8Array(await readFile(file)), 'auto');
console.log(JSON.stringify(result));
