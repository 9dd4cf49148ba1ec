/** The committed reference data of scripts/gen-image-fixtures.py (PIL decodes, PyTorch resizes). */
import { readFileSync } from 'node:fs';
import { io } from '@multihead/core';
import type { PreprocessOptions, Resample } from '../src/index.js';

export const fixturePath = (name: string) => new URL(`fixtures/${name}`, import.meta.url).pathname;
export const imagePath = (name: string) => fixturePath(`images/${name}`);

const file = io.parseSafetensors(new Uint8Array(readFileSync(fixturePath('image-oracle.safetensors'))));
const tensors = io.readSafetensors(new Uint8Array(readFileSync(fixturePath('image-oracle.safetensors'))));

export function oracle(name: string): io.HostTensor {
  const tensor = tensors[name];
  if (tensor === undefined) throw new Error(`image-oracle.safetensors has no ${name}`);
  return tensor;
}

export interface ResizeCase {
  name: string;
  resample: Resample;
  C: number;
  H: number;
  W: number;
  h: number;
  w: number;
}

const cases = JSON.parse(file.metadata['cases'] ?? '{}') as {
  resize: ResizeCase[];
  pipeline: { name: string; options: PreprocessOptions }[];
  colormapValues: number[];
};
export const RESIZE_CASES = cases.resize;
export const PIPELINE_CASES = cases.pipeline;
export const COLORMAP_VALUES = cases.colormapValues;
