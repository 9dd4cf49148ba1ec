/**
 * A strict JSON reader (RFC 8259) for headers that come from files: objects become Maps (a name such
 * as `__proto__` or `constructor` is a key like any other, never a prototype), duplicate keys are
 * refused (JSON.parse silently keeps the last; the safetensors README disallows them), integer
 * literals stay exact as bigints (so `1.0`, `1e3` or 2^64 are told apart from an integer, as serde_json
 * does for a usize), and nesting is bounded so a hostile header cannot overflow the stack.
 */
export type StrictJson = null | boolean | number | bigint | string | StrictJson[] | Map<string, StrictJson>;

const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Parses `text`; throws `Error` with a position on anything that is not strict JSON. */
export function parseStrictJson(text: string): StrictJson {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${at}`);
  };
  const space = () => {
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      at++;
    }
  };
  const string = (): string => {
    at++; // opening quote
    let out = '';
    let start = at;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        out += text.slice(start, at++);
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c === 0x5c) {
        out += text.slice(start, at);
        const e = text[at + 1] ?? '';
        if (e === 'u') {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          at += 6;
        } else {
          const ch = ESCAPES[e];
          if (ch === undefined) fail(`bad escape \\${e}`);
          out += ch;
          at += 2;
        }
        start = at;
        continue;
      }
      at++;
    }
    return fail('unterminated string');
  };
  const value = (depth: number): StrictJson => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const map = new Map<string, StrictJson>();
      space();
      if (text[at] === '}') {
        at++;
        return map;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key string');
        const key = string();
        if (map.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        space();
        if (text[at++] !== ':') fail('expected ":"');
        map.set(key, value(depth + 1));
        space();
        const next = text[at++];
        if (next === '}') return map;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const list: StrictJson[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return list;
      }
      for (;;) {
        list.push(value(depth + 1));
        space();
        const next = text[at++];
        if (next === ']') return list;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    at += m[0].length;
    return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
  };
  const out = value(0);
  space();
  if (at !== text.length) fail('trailing characters');
  return out;
}
