/**
 * Trains the committed text/names checkpoint (packages/text/checkpoints/names.safetensors) and records
 * the command in its metadata beside what trainNames records (steps, seconds, backend, seed, hyper-
 * parameters), then evaluates it as `multihead eval text/names` would.
 *
 *   pnpm --filter @multihead/text train:names [-- --backend cpu --steps 3000 --seed 0]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevice, io, tasks } from '@multihead/core';
import { evaluateNames, NAMES_TRAINING, trainNames } from '../src/index.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const backend = option('--backend', 'cpu') as 'cpu' | 'webgpu' | 'auto';
const steps = Number(option('--steps', String(NAMES_TRAINING.steps)));
const seed = Number(option('--seed', '0'));
const target = fileURLToPath(new URL('../checkpoints/names.safetensors', import.meta.url));

const device = await createDevice({ backend });
process.stderr.write(`backend: ${device.backend} — ${device.reason}\n`);
const scratch = await mkdtemp(join(tmpdir(), 'names-checkpoint-'));
try {
  const result = await trainNames(
    {
      device,
      store: tasks.folderStore(scratch),
      seed,
      log: (line) => process.stderr.write(`${line}\n`),
      onProgress: (p) => {
        if (p.step % 100 === 0)
          process.stderr.write(
            `step ${p.step}/${p.steps}: loss ${p.loss.toFixed(4)}, ${Math.round(p.itemsPerSecond)} tokens/s\n`,
          );
      },
    },
    { steps },
  );
  // the same tensors and data crc; only the metadata gains the command and the machine
  const { tensors, metadata } = io.parseSafetensors(new Uint8Array(await readFile(result.checkpoint)));
  const meta = JSON.parse(metadata.metadata ?? '{}') as { training: Record<string, unknown> };
  meta.training.command = `pnpm --filter @multihead/text train:names -- --backend ${backend} --steps ${steps} --seed ${seed}`;
  meta.training.device = device.reason;
  meta.training.date = new Date().toISOString().slice(0, 10);
  const bytes = io.writeSafetensors(tensors, { ...metadata, metadata: JSON.stringify(meta) });
  io.loadCheckpoint(bytes); // checks the crc and layout before anything is replaced
  await writeFile(target, bytes);
  process.stderr.write(
    `wrote ${target} (${bytes.length} bytes) after ${result.steps} steps in ${result.seconds.toFixed(0)} s\n`,
  );
  const metrics = await evaluateNames({ device, seed }); // no store: the committed file just written
  process.stdout.write(`${JSON.stringify(metrics)}\n`);
} finally {
  await rm(scratch, { recursive: true, force: true });
  device.destroy();
}
