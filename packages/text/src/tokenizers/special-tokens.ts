/**
 * Special tokens by role, and the TemplateProcessing post-processor that adds them around a sequence.
 * tokenizer.json records which added tokens are special but not their roles (Hugging Face keeps roles
 * in tokenizer_config.json), so roles travel as a small `{ pad, bos, eos, ... }` map.
 */
import { describeType, invalidArgument } from '../errors.js';
import type { ComponentJSON } from './tokenizer-json.js';

export const SPECIAL_TOKEN_ROLES = ['pad', 'bos', 'eos', 'unk', 'cls', 'sep', 'mask'] as const;
export type SpecialTokenRole = (typeof SPECIAL_TOKEN_ROLES)[number];
/** Role -> token string, e.g. `{ pad: '<pad>', unk: '<unk>' }`. Two roles may share a token (GPT-2). */
export type SpecialTokens = Partial<Record<SpecialTokenRole, string>>;

/** Checks a role map: known roles, non-empty strings. Returns a copy in role order. */
export function checkSpecialTokens(special: unknown, where: string): SpecialTokens {
  if (typeof special !== 'object' || special === null || Array.isArray(special)) {
    invalidArgument(
      `${where}: specialTokens must be an object of role -> token, got ${describeType(special)}`,
    );
  }
  for (const [role, token] of Object.entries(special)) {
    if (!(SPECIAL_TOKEN_ROLES as readonly string[]).includes(role)) {
      invalidArgument(
        `${where}: unknown special token role ${JSON.stringify(role)}; expected one of ` +
          `${SPECIAL_TOKEN_ROLES.join(', ')} (put other tokens in additionalSpecialTokens)`,
      );
    }
    if (token !== undefined && (typeof token !== 'string' || token.length === 0)) {
      invalidArgument(
        `${where}: specialTokens.${role} must be a non-empty string, got ${describeType(token)}`,
      );
    }
  }
  const checked: SpecialTokens = {};
  for (const role of SPECIAL_TOKEN_ROLES) {
    const token = (special as SpecialTokens)[role];
    if (token !== undefined) checked[role] = token;
  }
  return checked;
}

/**
 * The distinct special token strings in id order: roles in SPECIAL_TOKEN_ROLES order (so `pad` gets id 0
 * whenever it is defined, matching embedding padding_idx = 0 habits), then the additional ones.
 */
export function specialTokenList(special: SpecialTokens, additional: unknown, where: string): string[] {
  if (additional !== undefined && !Array.isArray(additional)) {
    invalidArgument(
      `${where}: additionalSpecialTokens must be an array of strings, got ${describeType(additional)}`,
    );
  }
  const list: string[] = [];
  for (const role of SPECIAL_TOKEN_ROLES) {
    const token = special[role];
    if (token !== undefined && !list.includes(token)) list.push(token);
  }
  for (const [i, token] of ((additional ?? []) as unknown[]).entries()) {
    if (typeof token !== 'string' || token.length === 0) {
      invalidArgument(
        `${where}: additionalSpecialTokens[${i}] must be a non-empty string, got ${describeType(token)}`,
      );
    }
    if (!list.includes(token)) list.push(token);
  }
  return list;
}

/**
 * Hugging Face template strings: "[CLS] $A [SEP]" for one sequence, "[CLS] $A [SEP] $B:1 [SEP]:1" for a
 * pair. `$A`/`$B` (or `$`) are the sequences, other pieces are special tokens; `:n` sets the type id.
 */
export type TemplateOptions = string | { single: string; pair?: string };

interface TemplatePiece {
  kind: 'Sequence' | 'SpecialToken';
  id: string;
  typeId: number;
}

function parseTemplate(template: string, where: string): TemplatePiece[] {
  return template
    .trim()
    .split(/\s+/)
    .map((piece) => {
      const match = /^(.*?)(?::(\d+))?$/.exec(piece)!;
      const name = match[1]!;
      const typeId = match[2] === undefined ? 0 : Number(match[2]);
      if (name === '$' || name === '$A') return { kind: 'Sequence', id: 'A', typeId };
      if (name === '$B') return { kind: 'Sequence', id: 'B', typeId };
      if (name.startsWith('$'))
        invalidArgument(`${where}: template piece ${JSON.stringify(piece)}: use $A or $B`);
      return { kind: 'SpecialToken', id: name, typeId };
    });
}

/** The pair template HF would write for a single one: append $B:1 and the single's trailing specials. */
function defaultPairTemplate(single: TemplatePiece[]): TemplatePiece[] {
  const lastSequence = single.findLastIndex((piece) => piece.kind === 'Sequence');
  const trailing = single.slice(lastSequence + 1).map((piece) => ({ ...piece, typeId: 1 }));
  return [...single, { kind: 'Sequence', id: 'B', typeId: 1 }, ...trailing];
}

/**
 * A TemplateProcessing post-processor. Every special token it names must be one of `specials` (else the
 * Rust library refuses the file, and @huggingface/tokenizers would emit an unknown token).
 */
export function templateProcessor(
  template: TemplateOptions,
  idOf: (token: string) => number | undefined,
  where: string,
): ComponentJSON {
  const singleText = typeof template === 'string' ? template : template?.single;
  if (typeof singleText !== 'string') {
    invalidArgument(
      `${where}: template must be a string or { single, pair? }, got ${describeType(template)}`,
    );
  }
  const single = parseTemplate(singleText, where);
  const pairText = typeof template === 'string' ? undefined : template.pair;
  const pair = pairText === undefined ? defaultPairTemplate(single) : parseTemplate(pairText, where);
  const sequences = (pieces: TemplatePiece[]) => pieces.filter((p) => p.kind === 'Sequence').map((p) => p.id);
  if (sequences(single).join() !== 'A') {
    invalidArgument(`${where}: template single ${JSON.stringify(singleText)} must use $A exactly once`);
  }
  if (sequences(pair).join() !== 'A,B') {
    invalidArgument(`${where}: template pair must use $A then $B once each`);
  }
  const specialTokens: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  for (const piece of [...single, ...pair]) {
    if (piece.kind !== 'SpecialToken') continue;
    const id = idOf(piece.id);
    if (id === undefined) {
      invalidArgument(
        `${where}: template uses ${JSON.stringify(piece.id)}, which is not a special token of this tokenizer`,
      );
    }
    specialTokens[piece.id] = { id: piece.id, ids: [id], tokens: [piece.id] };
  }
  const toJSON = (pieces: TemplatePiece[]) =>
    pieces.map((p) => ({ [p.kind]: { id: p.id, type_id: p.typeId } }));
  return {
    type: 'TemplateProcessing',
    single: toJSON(single),
    pair: toJSON(pair),
    special_tokens: specialTokens,
  };
}

/**
 * The post-processor of a `template` option for a vocabulary that starts with `specials` (ids 0..n-1):
 * the template as given, else `open $A close` when both tokens are set (null: no post-processor).
 */
export function wrappingTemplateProcessor(
  template: TemplateOptions | null | undefined,
  [open, close]: [string | undefined, string | undefined],
  specials: string[],
  where: string,
): ComponentJSON | null {
  const chosen =
    template !== undefined
      ? template
      : open !== undefined && close !== undefined
        ? `${open} $A ${close}`
        : null;
  if (chosen === null) return null;
  return templateProcessor(
    chosen,
    (token) => (specials.includes(token) ? specials.indexOf(token) : undefined),
    where,
  );
}
