import { describe, expect, it } from "vitest";
import { csvRow, parseCsv, parseCsvStrict } from "./csv.ts";
import { DatasetError } from "./errors.ts";

const fieldsOf = (text: string) => parseCsvStrict(text).map((r) => r.fields);

describe("parseCsv", () => {
  it("reads plain and quoted fields, with commas and doubled quotes inside quotes", () => {
    expect(fieldsOf('a,b,c\n1,"x, y","say ""hi"""\n')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
    ]);
  });

  it("keeps empty fields, including a trailing one and an empty quoted one", () => {
    expect(fieldsOf('a,,""\n,b,\n')).toEqual([
      ["a", "", ""],
      ["", "b", ""],
    ]);
  });

  it("keeps line breaks inside quotes and gives each record the line it starts on", () => {
    const records = parseCsvStrict('h1,h2\r\n1,"A) one\nB) two\r\nC) three"\r\n2,z\r\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
    expect(records[1]?.fields[1]).toBe("A) one\nB) two\r\nC) three");
    expect(records[2]?.fields).toEqual(["2", "z"]);
  });

  it("drops a leading BOM, handles CRLF, LF, a bare CR and a missing final line end", () => {
    const records = parseCsvStrict("\uFEFFid,q\r\n1,a\n2,b\r3,c");
    expect(records.map((r) => r.fields)).toEqual([
      ["id", "q"],
      ["1", "a"],
      ["2", "b"],
      ["3", "c"],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4]);
  });

  it("skips blank lines but still counts them", () => {
    const records = parseCsvStrict("a\n\n\r\nb\n");
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual([
      [1, "a"],
      [4, "b"],
    ]);
  });

  it("reports a stray quote in an unquoted field with its line, and keeps the rows around it", () => {
    const { records, errors } = parseCsv('a,b\n1,say "hi"\n2,ok\n');
    expect(records.map((r) => r.fields)).toEqual([
      ["a", "b"],
      ["2", "ok"],
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DatasetError);
    expect(errors[0]?.code).toBe("CSV_STRAY_QUOTE");
    expect(errors[0]?.line).toBe(2);
    expect(errors[0]?.message).toMatch(/line 2/);
  });

  it("reports text after a closing quote", () => {
    const { records, errors } = parseCsv('a\n"x"y\n"multi\nline"z\nlast\n');
    expect(errors.map((e) => [e.code, e.line])).toEqual([
      ["CSV_TEXT_AFTER_QUOTE", 2],
      ["CSV_TEXT_AFTER_QUOTE", 4],
    ]);
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual([
      [1, "a"],
      [5, "last"],
    ]);
  });

  it("reports an unterminated quote on the line it opened and resumes on the next line", () => {
    const { records, errors } = parseCsv('id,q\n1,ok\n2,"never closed\n3,fine\n4,fine too\n');
    expect(errors.map((e) => [e.code, e.line])).toEqual([["CSV_UNTERMINATED_QUOTE", 3]]);
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual([
      [1, "id"],
      [2, "1"],
      [4, "3"],
      [5, "4"],
    ]);
  });

  it("parseCsvStrict throws the first error", () => {
    expect(() => parseCsvStrict('a\n"b\n')).toThrow(DatasetError);
    expect(() => parseCsvStrict('a\n"b\n')).toThrow(/line 2/);
  });
});

describe("csvRow", () => {
  it("quotes only what needs quoting, and round-trips through the parser", () => {
    const values = ["plain", "a,b", 'q"q', "two\nlines", " padded ", 12.5, null];
    const line = csvRow(values);
    expect(line).toBe('plain,"a,b","q""q","two\nlines"," padded ",12.5,');
    expect(fieldsOf(line + "\r\n")).toEqual([["plain", "a,b", 'q"q', "two\nlines", " padded ", "12.5", ""]]);
  });
});
