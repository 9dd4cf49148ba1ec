/**
 * Uniform blocks described as data: one field list gives both the WGSL struct and the packing code,
 * so the two can never disagree. vec4 fields come first to satisfy WGSL's 16-byte alignment.
 */
export type FieldType = 'u32' | 'i32' | 'f32' | 'vec4u';
export type Field = readonly [name: string, type: FieldType];

export type UniformValues = Record<string, number | readonly number[]>;

export class UniformLayout {
  readonly fields: readonly Field[];
  constructor(fields: readonly Field[]) {
    const vec = fields.filter(([, t]) => t === 'vec4u');
    const scalar = fields.filter(([, t]) => t !== 'vec4u');
    this.fields = [...vec, ...scalar];
  }

  get wgsl(): string {
    const body = this.fields.map(([n, t]) => `  ${n}: ${t},`).join('\n');
    return `struct Uniforms {\n${body}\n}\n@group(0) @binding(0) var<uniform> u: Uniforms;\n`;
  }

  /** Byte size rounded up to 16, as WGSL requires of a uniform struct. */
  get byteLength(): number {
    const words = this.fields.reduce((n, [, t]) => n + (t === 'vec4u' ? 4 : 1), 0);
    return Math.max(16, Math.ceil((words * 4) / 16) * 16);
  }

  pack(values: UniformValues): ArrayBuffer {
    const buf = new ArrayBuffer(this.byteLength);
    const u32 = new Uint32Array(buf);
    const i32 = new Int32Array(buf);
    const f32 = new Float32Array(buf);
    let w = 0;
    for (const [name, type] of this.fields) {
      const v = values[name];
      if (v === undefined) throw new Error(`uniform field ${name} has no value`);
      if (type === 'vec4u') {
        const arr = v as readonly number[];
        for (let k = 0; k < 4; k++) u32[w + k] = arr[k] ?? 0;
        w += 4;
      } else {
        const x = v as number;
        if (type === 'u32') u32[w] = x;
        else if (type === 'i32') i32[w] = x;
        else f32[w] = x;
        w += 1;
      }
    }
    return buf;
  }
}

/** Splits up to 8 dims into two vec4u uniform fields `${name}0`, `${name}1`. */
export function packDims(name: string, dims: readonly number[]): Record<string, number[]> {
  if (dims.length > 8) throw new Error(`${name}: rank ${dims.length} exceeds 8`);
  const padded = [...dims, ...new Array(8 - dims.length).fill(0)];
  return { [`${name}0`]: padded.slice(0, 4), [`${name}1`]: padded.slice(4, 8) };
}

export function dimFields(name: string): Field[] {
  return [
    [`${name}0`, 'vec4u'],
    [`${name}1`, 'vec4u'],
  ];
}

/** u32 fields `${prefix}_${suffix}` in order: an operand's offset and strides (`q_off`, `q_sb`, ...). */
export function u32Fields(prefix: string, suffixes: readonly string[]): Field[] {
  return suffixes.map((s) => [`${prefix}_${s}`, 'u32'] as const);
}

/** The suffixes of a [B, heads, rows, cols] operand with contiguous rows: offset, batch, head and row strides. */
export const BHN_STRIDES = ['off', 'sb', 'sh', 'sn'] as const;

/** Uniform values for `u32Fields(prefix, BHN_STRIDES)` from a 4-D tensor's offset and strides. */
export function bhnStrides(
  prefix: string,
  t: { offset: number; strides: readonly number[] },
): Record<string, number> {
  return {
    [`${prefix}_off`]: t.offset,
    [`${prefix}_sb`]: t.strides[0]!,
    [`${prefix}_sh`]: t.strides[1]!,
    [`${prefix}_sn`]: t.strides[2]!,
  };
}
