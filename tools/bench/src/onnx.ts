/**
 * A minimal ONNX (protobuf) encoder with no dependencies, and the plain attention graph that the
 * `ort-web-webgpu` rows run. Ported to TypeScript from the peer scripts in /work/shared/peers
 * (`onnx_models.mjs`, `plainAttention` only); the field numbers are those of onnx.proto.
 */
const te = new TextEncoder();

function varint(value: number): number[] {
  const out: number[] = [];
  let n = BigInt(value);
  if (n < 0n) n += 1n << 64n;
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function cat(parts: readonly Uint8Array[]): Uint8Array {
  const o = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    o.set(p, off);
    off += p.length;
  }
  return o;
}

const fInt = (f: number, v: number) => Uint8Array.from([...varint(f << 3), ...varint(v)]);
const fBytes = (f: number, bytes: Uint8Array) =>
  cat([Uint8Array.from([...varint((f << 3) | 2), ...varint(bytes.length)]), bytes]);
const fStr = (f: number, s: string) => fBytes(f, te.encode(s));

// AttributeProto: name=1 ints=8 i=3 type=20 (INT=2, INTS=7)
const attrInt = (name: string, v: number) => cat([fStr(1, name), fInt(3, v), fInt(20, 2)]);
const attrInts = (name: string, vs: readonly number[]) =>
  cat([fStr(1, name), ...vs.map((v) => fInt(8, v)), fInt(20, 7)]);

// NodeProto: input=1 output=2 name=3 op_type=4 attribute=5
function node(op: string, inputs: string[], outputs: string[], attrs: Uint8Array[] = []): Uint8Array {
  return cat([
    ...inputs.map((s) => fStr(1, s)),
    ...outputs.map((s) => fStr(2, s)),
    fStr(3, `${op}_${outputs[0]}`),
    fStr(4, op),
    ...attrs.map((a) => fBytes(5, a)),
  ]);
}

// ValueInfoProto(name=1, type=2) > TypeProto(tensor_type=1) > Tensor(elem_type=1, shape=2) > Shape(dim=1) > Dim(dim_value=1)
function valueInfo(name: string, dims: readonly number[]): Uint8Array {
  const shape = cat(dims.map((d) => fBytes(1, fInt(1, d))));
  return cat([fStr(1, name), fBytes(2, fBytes(1, cat([fInt(1, 1), fBytes(2, shape)])))]);
}

// TensorProto: dims=1 data_type=2 (FLOAT=1) name=8 raw_data=9
function tensor(name: string, dims: readonly number[], f32: Float32Array): Uint8Array {
  return cat([
    ...dims.map((d) => fInt(1, d)),
    fInt(2, 1),
    fStr(8, name),
    fBytes(9, new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength)),
  ]);
}

// GraphProto: node=1 name=2 initializer=5 input=11 output=12; ModelProto: ir_version=1 producer_name=2 graph=7 opset_import=8
function model(
  nodes: Uint8Array[],
  inits: Uint8Array[],
  inputs: Uint8Array[],
  outputs: Uint8Array[],
): Uint8Array {
  const graph = cat([
    ...nodes.map((n) => fBytes(1, n)),
    fStr(2, 'attn'),
    ...inits.map((t) => fBytes(5, t)),
    ...inputs.map((v) => fBytes(11, v)),
    ...outputs.map((v) => fBytes(12, v)),
  ]);
  return cat([fInt(1, 8), fStr(2, 'multihead-bench'), fBytes(7, graph), fBytes(8, fInt(2, 17))]);
}

/**
 * Q, K, V [B, H, N, D] -> Transpose(K) -> MatMul -> Mul(scale) -> [Add(causal mask of 0 / -1e9)] ->
 * Softmax -> MatMul -> O, opset 17. Returns the serialized model.
 */
export function plainAttentionModel(B: number, H: number, N: number, D: number, causal: boolean): Uint8Array {
  const dims = [B, H, N, D];
  const nodes = [
    node('Transpose', ['K'], ['Kt'], [attrInts('perm', [0, 1, 3, 2])]),
    node('MatMul', ['Q', 'Kt'], ['S']),
    node('Mul', ['S', 'scale'], ['S2']),
  ];
  const inits = [tensor('scale', [], new Float32Array([1 / Math.sqrt(D)]))];
  let logits = 'S2';
  if (causal) {
    inits.push(tensor('mask', [N, N], causalMask(N)));
    nodes.push(node('Add', ['S2', 'mask'], ['S3']));
    logits = 'S3';
  }
  nodes.push(node('Softmax', [logits], ['P'], [attrInt('axis', -1)]));
  nodes.push(node('MatMul', ['P', 'V'], ['O']));
  return model(
    nodes,
    inits,
    ['Q', 'K', 'V'].map((n) => valueInfo(n, dims)),
    [valueInfo('O', dims)],
  );
}

/** A [n, n] · B [n, n] -> C, one MatMul node, opset 17. */
export function matmulModel(n: number): Uint8Array {
  const dims = [n, n];
  return model(
    [node('MatMul', ['A', 'B'], ['C'])],
    [],
    ['A', 'B'].map((x) => valueInfo(x, dims)),
    [valueInfo('C', dims)],
  );
}

/** [N, N] additive causal mask: 0 on and below the diagonal, -1e9 above. */
export function causalMask(N: number): Float32Array {
  const m = new Float32Array(N * N);
  for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) m[i * N + j] = -1e9;
  return m;
}
