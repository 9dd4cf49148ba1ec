// Browser entry: the shipped checkpoint fetched from the URL the bundler gives it, the result on window.
import checkpointUrl from '@multihead/text/checkpoints/names.safetensors?url';
import { probe } from './probe.js';

const bytes = new Uint8Array(await (await fetch(checkpointUrl)).arrayBuffer());
const result = { ...(await probe(bytes, 'cpu')), crossOriginIsolated };
console.log(JSON.stringify(result));
(globalThis as { probeResult?: unknown }).probeResult = result;
