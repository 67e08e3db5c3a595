/**
 * A small RFC 4180 CSV reader and writer. Quoted fields may hold commas, doubled quotes and line
 * breaks; records end with CRLF, LF or a bare CR; a leading BOM is dropped; blank lines are skipped.
 *
 * Each record remembers the 1-based line it starts on, so a loader can point at the exact line of a
 * bad row. Malformed records do not stop the parse: `parseCsv` reports them as `errors` and carries on
 * from the next line, because one broken row in a 2000-row dataset should cost one row, not the run.
 */
import { DatasetError } from "./errors.ts";

export interface CsvRecord {
  /** 1-based line on which the record starts (a record with quoted line breaks spans more lines). */
  readonly line: number;
  readonly fields: string[];
}

export interface CsvParseResult {
  readonly records: CsvRecord[];
  /** One per malformed record, each with its code and line; those records are left out of `records`. */
  readonly errors: DatasetError[];
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

type ReadOutcome =
  | { ok: true; fields: string[]; next: number; nextLine: number }
  | { ok: false; error: DatasetError; resumeAt: number; resumeLine: number };

/** Parses the whole text; never throws on malformed input (see `errors`). */
export function parseCsv(text: string): CsvParseResult {
  const records: CsvRecord[] = [];
  const errors: DatasetError[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) {
      // A blank line: no record, just move on.
      i = skipLineEnd(text, i);
      line++;
      continue;
    }
    const outcome = readRecord(text, i, line);
    if (outcome.ok) {
      records.push({ line, fields: outcome.fields });
      i = outcome.next;
      line = outcome.nextLine;
    } else {
      errors.push(outcome.error);
      i = outcome.resumeAt;
      line = outcome.resumeLine;
    }
  }
  return { records, errors };
}

/** Like `parseCsv`, but throws the first malformed record's error. */
export function parseCsvStrict(text: string): CsvRecord[] {
  const { records, errors } = parseCsv(text);
  if (errors[0] !== undefined) throw errors[0];
  return records;
}

function readRecord(text: string, start: number, startLine: number): ReadOutcome {
  const fields: string[] = [];
  let i = start;
  let line = startLine;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      // Quoted field: runs to the next quote that is not doubled.
      const openedOn = line;
      let value = "";
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          // Everything after the opening quote would be swallowed; resume on the line after the
          // record's start so the rows below the bad one still load.
          const error = new DatasetError(
            "CSV_UNTERMINATED_QUOTE",
            `line ${openedOn}: a quoted field is never closed (add the closing " or double the quotes inside it)`,
            { line: openedOn },
          );
          const resumeAt = nextLineStart(text, start);
          return { ok: false, error, resumeAt, resumeLine: startLine + 1 };
        }
        const chunk = text.slice(i, q);
        value += chunk;
        line += countLineBreaks(chunk);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      const after = text.charCodeAt(i);
      if (after === COMMA) {
        i++;
        continue;
      }
      if (i >= text.length || after === LF || after === CR) break;
      const error = new DatasetError(
        "CSV_TEXT_AFTER_QUOTE",
        `line ${line}: text follows the closing quote of field ${fields.length} (a quoted field must end at a comma or line end)`,
        { line },
      );
      return { ok: false, error, resumeAt: nextLineStart(text, i), resumeLine: line + 1 };
    }

    // Unquoted field: runs to the next comma or line end and may not contain a quote.
    let j = i;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === COMMA || c === LF || c === CR) break;
      if (c === QUOTE) {
        const error = new DatasetError(
          "CSV_STRAY_QUOTE",
          `line ${line}: a " inside unquoted field ${fields.length + 1} (quote the whole field and double the " inside it)`,
          { line },
        );
        return { ok: false, error, resumeAt: nextLineStart(text, j), resumeLine: line + 1 };
      }
      j++;
    }
    fields.push(text.slice(i, j));
    i = j;
    if (text.charCodeAt(i) === COMMA) {
      i++;
      continue;
    }
    break;
  }
  // At a line end or the end of the text.
  if (i < text.length) {
    i = skipLineEnd(text, i);
    line++;
  }
  return { ok: true, fields, next: i, nextLine: line };
}

function skipLineEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) return i + 2;
  return i + 1;
}

/** Index just past the line end at or after `i` (or the text's end). */
function nextLineStart(text: string, i: number): number {
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === LF || c === CR) return skipLineEnd(text, j);
    j++;
  }
  return j;
}

function countLineBreaks(s: string): number {
  let n = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === LF) n++;
    else if (c === CR && s.charCodeAt(k + 1) !== LF) n++;
  }
  return n;
}

/** Quotes a field only when it must be (comma, quote, CR or LF inside, or spaces at an end). */
export function csvField(value: string | number | boolean | null | undefined): string {
  const s = value === null || value === undefined ? "" : String(value);
  if (/[",\r\n]/.test(s) || s !== s.trim()) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** One CSV line (without its line end). */
export function csvRow(values: readonly (string | number | boolean | null | undefined)[]): string {
  return values.map(csvField).join(",");
}
