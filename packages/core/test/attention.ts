/** Assertions the attention tests share. */
import { expectClose } from './device.js';

interface AttentionGrads {
  dq: ArrayLike<number>;
  dk: ArrayLike<number>;
  dv: ArrayLike<number>;
  dbias: ArrayLike<number> | null;
}

/** dq, dk, dv (and dbias where `want` has one) within 2e-5 + 1e-4·|want|, named with `tag`. */
export function expectGradsClose(got: AttentionGrads, want: AttentionGrads, tag: string): void {
  expectClose(got.dq, want.dq, 2e-5, 1e-4, `dq ${tag}`);
  expectClose(got.dk, want.dk, 2e-5, 1e-4, `dk ${tag}`);
  expectClose(got.dv, want.dv, 2e-5, 1e-4, `dv ${tag}`);
  if (want.dbias) expectClose(got.dbias!, want.dbias, 2e-5, 1e-4, `dbias ${tag}`);
}
