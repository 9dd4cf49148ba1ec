/**
 * GML (Himsolt, "GML: A portable Graph File Format", 1997): nested `key value` pairs where a value is an
 * integer, a real, a "string" or a `[ ... ]` list; `#` starts a comment outside strings. One top-level
 * `graph [ ... ]` holds `directed 0|1`, `multigraph 0|1`, `node [ id ... ]`, `edge [ source target ... ]`
 * and graph attributes. Strings may span lines and use HTML entities for quotes (`&quot;`), as networkx
 * writes them. Node keys are the ids as strings; `label` and every other key become attributes (a key
 * repeated inside one list becomes an array; nested lists become objects). Lists nest at most 64 deep.
 */
import { parseError, quoteLine } from '../errors.js';
import {
  type Attributes,
  type AttributeValue,
  type GraphData,
  type GraphEdge,
  setAttribute,
} from './graph-data.js';
import { type ReadOptions, readTextSource, type TextSource, textOf } from './text-source.js';

const WHERE = 'parseGml';
const MAX_DEPTH = 64;

interface Token {
  kind: 'key' | 'number' | 'string' | 'open' | 'close';
  value: string | number;
  line: number;
}

interface Entry {
  key: string;
  value: number | string | Entry[];
  line: number;
}

/** A GraphData from GML text (string or plain bytes; for gzip or a path use `readGml`). */
export function parseGml(input: string | Uint8Array): GraphData {
  const tokens = tokenize(textOf(input, WHERE));
  const top = parseEntries(tokens, { index: 0 }, 0, 0);
  const graphs = top.filter((entry) => entry.key === 'graph');
  if (graphs.length !== 1) {
    parseError(
      WHERE,
      graphs[1]?.line ?? tokens[tokens.length - 1]?.line ?? 1,
      `expected exactly one top-level 'graph [ ... ]', found ${graphs.length}`,
    );
  }
  const graph = graphs[0]!;
  if (!Array.isArray(graph.value)) parseError(WHERE, graph.line, "expected 'graph' to be followed by '['");
  return buildGraph(graph.value);
}

/** GML from a string, bytes (plain or gzip) or `{ path }` (Node). */
export async function readGml(source: TextSource, options: ReadOptions = {}): Promise<GraphData> {
  return parseGml(await readTextSource(source, 'readGml', options));
}

function buildGraph(entries: Entry[]): GraphData {
  const flag = (name: string): boolean => {
    const found = entries.filter((entry) => entry.key === name);
    if (found.length === 0) return false;
    const last = found[found.length - 1]!;
    if (found.length > 1 || (last.value !== 0 && last.value !== 1)) {
      parseError(
        WHERE,
        last.line,
        `expected one '${name} 0' or '${name} 1', got ${describeValue(last.value)}`,
      );
    }
    return last.value === 1;
  };
  const directed = flag('directed');
  const multi = flag('multigraph');
  const data: GraphData = { directed, multi, nodes: [], edges: [], attributes: {} };
  const nodeLines = new Map<string, number>();
  const edgeEntries: Entry[] = [];
  const rest: Entry[] = [];
  for (const entry of entries) {
    if (entry.key === 'node') {
      const fields = listOf(entry, 'node');
      const id = single(fields, 'id', entry);
      const key = String(id.value);
      const previous = nodeLines.get(key);
      if (previous !== undefined) {
        parseError(WHERE, id.line, `node id ${JSON.stringify(key)} repeats the node of line ${previous}`);
      }
      nodeLines.set(key, id.line);
      data.nodes.push({ key, attributes: toAttributes(fields.filter((field) => field !== id)) });
    } else if (entry.key === 'edge') edgeEntries.push(entry);
    else if (entry.key !== 'directed' && entry.key !== 'multigraph') rest.push(entry);
  }
  data.attributes = toAttributes(rest);
  const pairs = new Map<string, number>();
  for (const entry of edgeEntries) {
    const fields = listOf(entry, 'edge');
    const ends = ['source', 'target'].map((name) => {
      const end = single(fields, name, entry);
      const key = String(end.value);
      if (!nodeLines.has(key)) {
        parseError(WHERE, end.line, `edge ${name} ${JSON.stringify(key)} is not the id of any node`);
      }
      return { key, field: end };
    }) as [{ key: string; field: Entry }, { key: string; field: Entry }];
    const [source, target] = ends;
    if (!multi) {
      const sorted =
        directed || source.key <= target.key ? [source.key, target.key] : [target.key, source.key];
      const pair = JSON.stringify(sorted);
      const previous = pairs.get(pair);
      if (previous !== undefined) {
        parseError(
          WHERE,
          entry.line,
          `the edge ${JSON.stringify(source.key)} - ${JSON.stringify(target.key)} repeats the edge of line ` +
            `${previous}; expected each pair once unless 'multigraph 1'`,
        );
      }
      pairs.set(pair, entry.line);
    }
    const attributes = toAttributes(
      fields.filter((field) => field !== source.field && field !== target.field),
    );
    const edge: GraphEdge = { source: source.key, target: target.key, attributes };
    data.edges.push(edge);
  }
  return data;
}

function listOf(entry: Entry, name: string): Entry[] {
  if (!Array.isArray(entry.value)) {
    parseError(WHERE, entry.line, `expected '${name} [ ... ]', got ${name} ${describeValue(entry.value)}`);
  }
  return entry.value;
}

function single(fields: Entry[], name: string, owner: Entry): Entry {
  const found = fields.filter((field) => field.key === name);
  if (found.length !== 1) {
    parseError(
      WHERE,
      found[1]?.line ?? owner.line,
      `expected one '${name}' in this ${owner.key}, found ${found.length}`,
    );
  }
  const field = found[0]!;
  if (Array.isArray(field.value)) {
    parseError(WHERE, field.line, `expected ${name} to be a number or a string, got a list`);
  }
  return field;
}

/** Entries as attributes: nested lists become objects, repeated keys arrays (as networkx reads GML). */
function toAttributes(entries: Entry[]): Attributes {
  const attributes: Attributes = {};
  for (const entry of entries) {
    const value: AttributeValue = Array.isArray(entry.value) ? toAttributes(entry.value) : entry.value;
    if (!Object.hasOwn(attributes, entry.key)) setAttribute<AttributeValue>(attributes, entry.key, value);
    else {
      const existing = attributes[entry.key]!;
      // GML values are never arrays, so an array here is what an earlier repeat of the key made
      if (Array.isArray(existing)) existing.push(value);
      else setAttribute<AttributeValue>(attributes, entry.key, [existing, value]);
    }
  }
  return attributes;
}

function describeValue(value: Entry['value']): string {
  return Array.isArray(value) ? 'a list' : JSON.stringify(value);
}

/** key value pairs up to `]` (depth > 0) or the end of the tokens (depth 0). */
function parseEntries(tokens: Token[], cursor: { index: number }, depth: number, openLine: number): Entry[] {
  const entries: Entry[] = [];
  for (;;) {
    const token = tokens[cursor.index++];
    if (token === undefined) {
      if (depth > 0)
        parseError(
          WHERE,
          tokens[tokens.length - 1]!.line,
          `the list opened at line ${openLine} has no closing ']'`,
        );
      return entries;
    }
    if (token.kind === 'close') {
      if (depth === 0) parseError(WHERE, token.line, "unexpected ']' with no open list");
      return entries;
    }
    if (token.kind !== 'key') {
      parseError(
        WHERE,
        token.line,
        `expected a key (a name such as node, id, label), got ${describeToken(token)}`,
      );
    }
    const valueToken = tokens[cursor.index++];
    if (valueToken === undefined || valueToken.kind === 'close' || valueToken.kind === 'key') {
      parseError(
        WHERE,
        valueToken?.line ?? token.line,
        `expected a value (number, "string" or [ list ]) after the key ${quoteLine(String(token.value))}, got ` +
          (valueToken === undefined ? 'the end of the text' : describeToken(valueToken)),
      );
    }
    if (valueToken.kind === 'open') {
      if (depth + 1 > MAX_DEPTH)
        parseError(WHERE, valueToken.line, `lists nest deeper than ${MAX_DEPTH} levels`);
      entries.push({
        key: String(token.value),
        value: parseEntries(tokens, cursor, depth + 1, valueToken.line),
        line: token.line,
      });
    } else entries.push({ key: String(token.value), value: valueToken.value, line: token.line });
  }
}

function describeToken(token: Token): string {
  if (token.kind === 'open') return "'['";
  if (token.kind === 'close') return "']'";
  if (token.kind === 'string') return `the string ${quoteLine(String(token.value))}`;
  return quoteLine(String(token.value));
}

const KEY = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '\n' || char === '\r') {
      // CRLF counts once
      if (char === '\r' && text[i + 1] === '\n') i++;
      line++;
      i++;
    } else if (char === ' ' || char === '\t' || char === '\f' || char === '\v') i++;
    else if (char === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (char === '[' || char === ']') {
      tokens.push({ kind: char === '[' ? 'open' : 'close', value: char, line });
      i++;
    } else if (char === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) parseError(WHERE, line, "the string begun here has no closing '\"'");
      const raw = text.slice(i + 1, end);
      tokens.push({ kind: 'string', value: decodeEntities(raw), line });
      line += raw.split(/\r\n|\n|\r/).length - 1;
      i = end + 1;
    } else {
      KEY.lastIndex = i;
      NUMBER.lastIndex = i;
      const key = KEY.exec(text);
      const number = key === null ? NUMBER.exec(text) : null;
      const match = key ?? number;
      const next = match === null ? undefined : text[i + match[0].length];
      if (match === null || (next !== undefined && !/[\s[\]#"]/.test(next))) {
        const word = text.slice(i).split(/[\s[\]"]/, 1)[0]!;
        parseError(
          WHERE,
          line,
          `unexpected ${quoteLine(word || char)}; expected a key, a number, a "string", '[' or ']'`,
        );
      }
      if (key !== null) tokens.push({ kind: 'key', value: key[0], line });
      else {
        const value = Number(number![0]);
        if (!Number.isFinite(value))
          parseError(WHERE, line, `the number ${quoteLine(number![0])} is not finite`);
        tokens.push({ kind: 'number', value, line });
      }
      i += match[0].length;
    }
  }
  return tokens;
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };

/** HTML character references, which GML writers (networkx) use for quotes and non-ASCII text. */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return Object.hasOwn(ENTITIES, name) ? ENTITIES[name]! : whole;
  });
}
