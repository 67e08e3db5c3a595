import { describe, expect, it } from "vitest";
import { cameraErrorMessage, describeHttpError, idFieldMessage, joinErrorMessage, serverErrorMessage } from "./errors.ts";

describe("messages for people", () => {
  it("names what to do for each getUserMedia failure", () => {
    expect(cameraErrorMessage({ name: "NotAllowedError" })).toMatch(/refused.*Allow/);
    expect(cameraErrorMessage({ name: "NotFoundError" })).toMatch(/No camera was found/);
    expect(cameraErrorMessage({ name: "NotReadableError" })).toMatch(/in use by another program/);
    expect(cameraErrorMessage({ name: "TypeError" })).toMatch(/https:\/\/ or on localhost/);
    expect(cameraErrorMessage({ name: "WeirdError" })).toBe("The camera could not be started (WeirdError).");
    expect(cameraErrorMessage("boom")).toBe("The camera could not be started.");
  });

  it("says which server and which step failed", () => {
    expect(serverErrorMessage("get a join token", "http://127.0.0.1:9", new Error("Failed to fetch")))
      .toBe("Cannot reach the call server at http://127.0.0.1:9 to get a join token (Failed to fetch). Check that the server is running, then try again.");
  });

  it("passes the server's own error text and field through", () => {
    expect(describeHttpError(400, { error: { code: "BAD_MESSAGE", message: "identity: invalid", field: "identity" } }))
      .toBe("The server refused (400): identity: invalid [identity]");
    expect(describeHttpError(502, "<html>")).toBe("The server answered 502.");
    expect(joinErrorMessage("IDENTITY_IN_USE", "x")).toMatch(/already uses this name/);
    expect(joinErrorMessage("INTERNAL", "oops")).toBe("The server refused to join: oops (INTERNAL).");
  });
});

describe("idFieldMessage", () => {
  const ok = { valueMissing: false, patternMismatch: false, tooLong: false };
  it("names the field and what is wrong with it", () => {
    expect(idFieldMessage("Room", { ...ok, valueMissing: true }, "")).toBe("Room: enter one, using letters, digits, dot, dash or underscore.");
    expect(idFieldMessage("Your name", { ...ok, patternMismatch: true }, "ann lee!")).toBe('Your name: use only letters, digits, dot, dash or underscore (not spaces, "!").');
    expect(idFieldMessage("Room", { ...ok, patternMismatch: true }, "x".repeat(70))).toBe("Room: at most 64 characters (this one has 70).");
    expect(idFieldMessage("Room", ok, "demo")).toBe("");
  });
});
