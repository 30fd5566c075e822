// Turns one frame (text) into tag readings: checksum check, then the fields picked by a regex,
// a CSV column or a JSON path, then conversion to the tag's type. Pure, so every parsing
// option has a unit test and a testcases/ regression folder.
import type { TagConfig } from '../../src/config/sections/devices.js';
import type { Reading, TagValue } from '../../src/runtime/types.js';
import { toTagValue } from './convert.js';

export type ParseRule =
  | { kind: 'regex'; pattern: string; flags: string }
  | { kind: 'csv'; separator: string; trim: boolean }
  | { kind: 'json' };

export type Checksum = 'none' | 'nmea';

export interface SerialTagExtra {
  /** regex: the group (name or number) holding the value. */
  group?: string | number | undefined;
  /** csv: 0-based column. */
  column?: number | undefined;
  /** json: dotted path with [n] for array items, e.g. `data.values[2].v`. */
  path?: string | undefined;
  /** Read this tag only from frames matching this regex (e.g. one NMEA sentence type). */
  when?: string | undefined;
  /** The field is an NMEA ddmm.mmmm coordinate followed by its N/S/E/W column. */
  format?: 'nmea-coordinate' | undefined;
}

export type SerialTag = TagConfig<SerialTagExtra>;

export type FrameResult =
  | { ok: true; readings: Reading[] }
  | { ok: false; reason: 'checksum' | 'parse'; error: string };

/**
 * NMEA 0183: `$<body>*HH`, HH the XOR of every byte of <body> in hex. Returns the body, or
 * an error message. A leading '$' or '!' (AIS) is accepted.
 */
export function checkNmea(frame: string): { body: string } | { error: string } {
  const text = frame.trim();
  const star = text.lastIndexOf('*');
  if (star < 0 || star + 3 !== text.length) return { error: 'no *HH checksum at the end of the sentence' };
  const start = text.startsWith('$') || text.startsWith('!') ? 1 : 0;
  const body = text.slice(start, star);
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  const given = Number.parseInt(text.slice(star + 1), 16);
  if (Number.isNaN(given)) return { error: `checksum "${text.slice(star + 1)}" is not hex` };
  if (given !== sum) return { error: `checksum mismatch: sentence says ${hex(given)}, bytes give ${hex(sum)}` };
  return { body };
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** A compiled parser for one device: regexes built once, not per frame. */
export class FrameParser {
  private readonly regex: RegExp | undefined;
  private readonly acceptRegex: RegExp | undefined;
  private readonly when = new Map<string, RegExp>();

  constructor(
    private readonly rule: ParseRule,
    private readonly checksum: Checksum,
    private readonly tags: readonly SerialTag[],
    accept?: string,
  ) {
    if (rule.kind === 'regex') this.regex = new RegExp(rule.pattern, rule.flags.replace(/g/g, ''));
    this.acceptRegex = accept === undefined ? undefined : new RegExp(accept);
    for (const t of tags) if (t.when !== undefined) this.when.set(t.name, new RegExp(t.when));
  }

  /** False for frames the device config says to ignore (`accept`): not errors, just not ours. */
  accepts(frame: string): boolean {
    return this.acceptRegex?.test(frame) ?? true;
  }

  parse(frame: string): FrameResult {
    let text = frame;
    if (this.checksum === 'nmea') {
      const r = checkNmea(frame);
      if ('error' in r) return { ok: false, reason: 'checksum', error: r.error };
      text = r.body;
    }
    const tags = this.tags.filter((t) => this.when.get(t.name)?.test(text) ?? true);
    if (tags.length === 0) return { ok: true, readings: [] };
    const fields = this.fields(text);
    if ('error' in fields) return { ok: false, reason: 'parse', error: fields.error };
    return { ok: true, readings: tags.map((t) => reading(t, fields.get(t))) };
  }

  private fields(text: string): { get: (t: SerialTag) => FieldValue } | { error: string } {
    switch (this.rule.kind) {
      case 'regex': {
        const m = (this.regex as RegExp).exec(text);
        if (m === null) return { error: `frame does not match /${this.rule.pattern}/: ${preview(text)}` };
        return { get: (t) => (typeof t.group === 'number' ? m[t.group] : m.groups?.[String(t.group)]) };
      }
      case 'csv': {
        const cols = text.split(this.rule.separator);
        const trim = this.rule.trim;
        return {
          get: (t) => {
            const i = t.column ?? 0;
            const v = cols[i];
            if (v === undefined) return undefined;
            if (t.format === 'nmea-coordinate') return nmeaCoordinate(v, cols[i + 1]);
            return trim ? v.trim() : v;
          },
        };
      }
      case 'json': {
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          // V8 20 and 26 word the same error differently (26 adds "(line 1 column 20)"): the
          // position is what an operator needs, and the message stays the same on every runtime.
          return { error: `frame is not JSON (${(e as Error).message.replace(/ \(line \d+ column \d+\)$/, '')}): ${preview(text)}` };
        }
        return { get: (t) => jsonPath(doc, t.path ?? '') };
      }
    }
  }
}

type FieldValue = string | number | boolean | null | undefined | object | { error: string };

function reading(tag: SerialTag, field: FieldValue): Reading {
  if (field === undefined || field === null || field === '') {
    return { tag: tag.name, value: null, quality: 'BAD', error: 'field missing from the frame' };
  }
  if (typeof field === 'object' && 'error' in field) return { tag: tag.name, value: null, quality: 'BAD', error: String(field.error) };
  const v = toTagValue(field as string | number | boolean, tag.type);
  if (typeof v === 'object' && v !== null && 'error' in v) return { tag: tag.name, value: null, quality: 'BAD', error: v.error };
  return { tag: tag.name, value: v as TagValue, quality: 'GOOD' };
}

/** `4807.038`,`N` → 48.1173 degrees; S and W are negative. */
export function nmeaCoordinate(value: string, hemisphere: string | undefined): number | { error: string } {
  const m = /^(\d{2,3})(\d{2}(?:\.\d+)?)$/.exec(value.trim());
  if (m === null) return { error: `"${value}" is not an NMEA ddmm.mmmm coordinate` };
  const h = (hemisphere ?? '').trim().toUpperCase();
  if (!['N', 'S', 'E', 'W'].includes(h)) return { error: `coordinate "${value}" has no N/S/E/W hemisphere` };
  const deg = Number(m[1]) + Number(m[2]) / 60;
  return h === 'S' || h === 'W' ? -deg : deg;
}

/** `a.b[2].c` through objects and arrays; undefined when any step is missing. */
export function jsonPath(doc: unknown, path: string): FieldValue {
  const steps = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = doc;
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = step.startsWith('[') ? Number(step.slice(1, -1)) : step;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  if (cur !== null && typeof cur === 'object') return { error: `JSON path "${path}" is an object or array, not a value` };
  return cur as FieldValue;
}

/** Frames are logged shortened and with control bytes visible. */
export function preview(text: string, max = 80): string {
  const cut = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(cut);
}
