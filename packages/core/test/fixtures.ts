/**
 * The PyTorch fixtures of test/fixtures/ (written by tools/fixtures/*.py): a safetensors file whose
 * tensors are the inputs and the float64 references rounded to f32, and whose __metadata__.cases is
 * the case table.
 */
import { readFileSync } from 'node:fs';
import { io } from '../src/index.js';

export interface Fixture<C> {
  file: io.SafetensorsFile;
  /** The case table (__metadata__.cases). */
  cases: C[];
  /** The tensor `name`; a missing one is an error that names it. */
  host(name: string): io.HostTensor;
}

/** Parses test/fixtures/`name`. */
export function loadFixture<C = unknown>(name: string): Fixture<C> {
  const file = io.parseSafetensors(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
  const table = file.metadata.cases;
  if (table === undefined) throw new Error(`fixture ${name} has no __metadata__.cases`);
  return {
    file,
    cases: JSON.parse(table) as C[],
    host(tensor) {
      const t = file.tensors[tensor];
      if (!t) throw new Error(`fixture tensor ${tensor} is missing`);
      return t;
    },
  };
}
