/**
 * The page as a new user meets it, in Chromium: every control reachable and usable by keyboard,
 * a refused camera, a server that is gone before joining, and a server that stops mid-call, each
 * giving a clear message on the page (and the page staying usable).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "../../client/build.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { launchChromium, servePage } from "../support/browser.ts";
import { waitFor } from "../support/call-helpers.ts";

const ARTIFACTS = join(process.cwd(), "test-artifacts");
let dir: string;
let dist: string;
let engine: WorkerOcrEngine;
let allowing: Browser;
let refusing: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "e2e-page-"));
  mkdirSync(ARTIFACTS, { recursive: true });
  dist = (await buildClient(join(dir, "dist"), { minify: false })).dir;
  engine = new WorkerOcrEngine();
  await engine.warmUp();
  // Chromium's own fake camera pattern: these tests are about the page, not about reading text.
  allowing = await launchChromium({ allowCamera: true });
  refusing = await launchChromium({ allowCamera: false });
});

afterAll(async () => {
  await allowing?.close();
  await refusing?.close();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const startServer = () => servePage(engine, dist);

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? "");

/** Opens the page as `name`, presses Join and waits for the call panel. */
async function joinAs(page: Page, origin: string, name: string): Promise<void> {
  await page.goto(`${origin}/?name=${name}`);
  await page.locator("#join").click();
  await page.locator("#call-panel").waitFor({ state: "visible", timeout: 20_000 });
}

async function problemText(page: Page): Promise<string> {
  const problem = page.locator("#problem");
  await problem.waitFor({ state: "visible", timeout: 20_000 });
  return (await problem.textContent()) ?? "";
}

describe("the page by keyboard", () => {
  it("Tab reaches room, name and Join in order; Enter joins; Enter asks; Space on Leave leaves", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await page.goto(`${origin}/?name=kbd-user`);
      // Every control has a label a screen reader reads out.
      for (const id of ["room", "name", "question"]) {
        expect(await page.locator(`label[for="${id}"]`).count(), `label for #${id}`).toBe(1);
      }
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("room");
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("name");
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("join");
      await page.keyboard.press("Enter");
      await page.locator("#call-panel").waitFor({ state: "visible", timeout: 20_000 });
      await waitFor(() => server.participantCount === 1, 10_000, "the participant at the server");
      // Joining puts the focus in the question box; Enter sends.
      expect(await focusedId(page)).toBe("question");
      await page.keyboard.type("What does the sign say?");
      await page.keyboard.press("Enter");
      await page.locator("#messages li.me").filter({ hasText: "What does the sign say?" }).waitFor({ timeout: 5000 });
      await page.locator("#messages li.ai").first().waitFor({ timeout: 60_000 });
      expect(await page.locator("#question").inputValue()).toBe("");
      await page.waitForFunction(() => !document.querySelector("#messages li.ai")?.hasAttribute("aria-busy"), undefined, { timeout: 60_000 });
      // Tab from the question reaches Ask, the source picker, then Leave; Space presses Leave.
      await page.locator("#question").focus();
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("ask");
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("source");
      await page.keyboard.press("Tab");
      expect(await focusedId(page)).toBe("leave");
      await page.keyboard.press("Space");
      await page.locator("#join-panel").waitFor({ state: "visible", timeout: 5000 });
      expect(await page.locator("#status").textContent()).toBe("You left the call.");
      await waitFor(() => server.participantCount === 0, 10_000, "the server to drop the participant");
      expect(await focusedId(page)).toBe("join");
    } finally {
      await page.close();
      await server.close();
    }
  });

  it("the AI's state is shown and announced, and each answer sits right after its question", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await joinAs(page, origin, "state-user");
      const aiState = page.locator("#ai-state");
      expect(await aiState.getAttribute("role")).toBe("status");
      await page.waitForFunction(() => document.getElementById("ai-state")?.dataset.state === "watching", undefined, { timeout: 30_000 });
      // What the AI can answer is on the page, with examples that fill the question box.
      expect(await page.locator("#ai-help").textContent()).toMatch(/reads text/);
      await page.locator("#ai-help .example").first().click();
      expect(await page.locator("#question").inputValue()).toBe("What does the sign say?");
      expect(await focusedId(page)).toBe("question");
      // Two questions before the first answer: each answer fills the place made under its question.
      for (const q of ["What does the sign say?", "Which gate is shown?"]) {
        await page.locator("#question").fill(q);
        await page.keyboard.press("Enter");
      }
      await page.waitForFunction(() => [...document.querySelectorAll("#messages li.ai")].length === 2 && ![...document.querySelectorAll("#messages li.ai")].some((li) => li.hasAttribute("aria-busy")), undefined, { timeout: 60_000 });
      const items = await page.locator("#messages li").evaluateAll((lis) => lis.map((li) => ({ who: li.className.split(" ")[0], id: (li as HTMLElement).dataset.questionId, text: li.querySelector(".text")?.textContent ?? "" })));
      expect(items.map((i) => i.who)).toEqual(["me", "ai", "me", "ai"]);
      expect(items[1]!.id).toBe(items[0]!.id);
      expect(items[3]!.id).toBe(items[2]!.id);
      expect(items[0]!.id).not.toBe(items[2]!.id);
      expect(items[1]!.text.length).toBeGreaterThan(0);
      // Chromium's own fake camera shows only a running timestamp: no gate, so the second question
      // (answered last: one model call at a time) gets a refusal, and the state says so.
      const states = await page.evaluate(() => window.aiCall.aiStates());
      const looking = states.indexOf("looking");
      expect(looking, states.join(" > ")).toBeGreaterThan(0);
      expect(states[looking - 1], states.join(" > ")).toBe("watching");
      // The embedded engine sends each answer as one final chunk, so "answering" may not show.
      expect(states.slice(looking + 1).every((k) => k === "answering" || k === "looking" || k === "cannot-answer"), states.join(" > ")).toBe(true);
      expect(await aiState.getAttribute("data-state")).toBe("cannot-answer");
      expect(await aiState.textContent()).toMatch(/could not answer/);
      // What the AI saw: under each answer, the frame it used, its size, age and bitrate.
      await page.waitForFunction(() => document.querySelectorAll("#messages li.ai figure.answer-frame").length === 2, undefined, { timeout: 20_000 });
      const firstFigure = page.locator("#messages li.ai").first().locator("figure.answer-frame");
      expect(await firstFigure.locator("img").getAttribute("src")).toMatch(/^data:image\/jpeg;base64,/);
      expect(await firstFigure.locator("img").getAttribute("alt")).toMatch(/The frame the AI read this answer from \(\d+×\d+, [\d.]+ s old when answered/);
      expect(await firstFigure.locator("figcaption").textContent()).toMatch(/^What the AI saw: \d+×\d+, [\d.]+ s old when answered, received at \d+ kbps/);
      await page.screenshot({ path: join(ARTIFACTS, "page-ai-state-paired.png"), fullPage: true });
    } finally {
      await page.close();
      await server.close();
    }
  });

  it("a phone (390x844): question bar, Ask and Leave on screen without scrolling, stats folded; a wide screen: the picture gets the room", async () => {
    const { server, origin } = await startServer();
    const phone = await allowing.newPage({ viewport: { width: 390, height: 844 } });
    const wide = await allowing.newPage({ viewport: { width: 1920, height: 1080 } });
    try {
      await joinAs(phone, origin, "phone-user");
      for (const id of ["question", "ask", "leave", "ai-state"]) {
        const box = await phone.locator(`#${id}`).boundingBox();
        expect(box, `#${id} has a box`).not.toBeNull();
        expect(box!.y + box!.height, `#${id} bottom within the 844 px screen`).toBeLessThanOrEqual(844);
        expect(box!.x + box!.width, `#${id} right within the 390 px screen`).toBeLessThanOrEqual(390);
      }
      expect(await phone.locator("#stats").evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      await phone.screenshot({ path: join(ARTIFACTS, "page-phone.png") });

      await joinAs(wide, origin, "wide-user");
      const video = await wide.locator("#preview").boundingBox();
      expect(video!.width, "the picture's width at 1920 px").toBeGreaterThanOrEqual(1000);
      // The chat sits beside the picture, its question box on screen.
      const question = await wide.locator("#question").boundingBox();
      expect(question!.x, "the question box right of the picture").toBeGreaterThan(video!.x + video!.width);
      expect(question!.y + question!.height).toBeLessThanOrEqual(1080);
      expect(await wide.locator("#stats").evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
      await wide.screenshot({ path: join(ARTIFACTS, "page-wide.png") });
    } finally {
      await phone.close();
      await wide.close();
      await server.close();
    }
  });

  it("screen share: the picker lists the camera and the screen; choosing the screen by keyboard sends it, and back", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await joinAs(page, origin, "screen-user");
      await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 5, 20_000, "camera frames at the server");
      const options = await page.locator("#source option").allTextContents();
      expect(options[options.length - 1]).toBe("My screen");
      expect(options.some((o) => /^Camera/.test(o))).toBe(true);
      const label = () => page.evaluate(() => ((document.getElementById("preview") as HTMLVideoElement).srcObject as MediaStream | null)?.getVideoTracks()[0]?.label ?? "");
      const cameraLabel = await label();
      // Keyboard (a real key press is the user gesture getDisplayMedia needs): down to "My screen".
      await page.locator("#source").focus();
      await page.keyboard.press("End");
      await page.waitForFunction(() => ((document.getElementById("preview") as HTMLVideoElement).srcObject as MediaStream | null)?.getVideoTracks()[0]?.label.startsWith("screen"), undefined, { timeout: 10_000 });
      await page.waitForFunction(() => /sees your screen/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 10_000 });
      // The shared screen reaches the AI: frames keep coming at the server.
      const before = server.metrics()[0]!.framesDecoded;
      await waitFor(() => server.metrics()[0]!.framesDecoded > before + 10, 20_000, "screen frames at the server");
      await page.screenshot({ path: join(ARTIFACTS, "page-screen-share.png") });
      await page.keyboard.press("Home");
      await page.waitForFunction((l) => ((document.getElementById("preview") as HTMLVideoElement).srcObject as MediaStream | null)?.getVideoTracks()[0]?.label === l, cameraLabel, { timeout: 10_000 });
      await page.waitForFunction(() => /sees your camera/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 10_000 });
    } finally {
      await page.close();
      await server.close();
    }
  });

  it("an invalid name is caught by the form before anything is sent", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await page.goto(origin);
      await page.locator("#name").fill("no spaces allowed");
      await page.locator("#join").press("Enter");
      expect(await page.locator("#name").evaluate((el) => (el as HTMLInputElement).validity.patternMismatch)).toBe(true);
      // The message names the field and what is wrong, not the browser's "match the requested format".
      expect(await page.locator("#name").evaluate((el) => (el as HTMLInputElement).validationMessage)).toBe("Your name: use only letters, digits, dot, dash or underscore (not spaces).");
      expect(await page.locator("#join-panel").isVisible()).toBe(true);
      expect(server.participantCount).toBe(0);
    } finally {
      await page.close();
      await server.close();
    }
  });
});

describe("failures the page explains", () => {
  it("a refused camera", async () => {
    const { server, origin } = await startServer();
    const page = await refusing.newPage();
    try {
      await page.goto(origin);
      await page.locator("#join").press("Enter");
      expect(await problemText(page)).toMatch(/Camera access was refused/);
      expect(await page.locator("#join-panel").isVisible()).toBe(true);
      expect(await page.locator("#join").isEnabled()).toBe(true);
      expect(server.participantCount).toBe(0);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it("a server that stopped before joining", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await page.goto(origin);
      await server.close();
      await page.locator("#join").press("Enter");
      expect(await problemText(page)).toMatch(new RegExp(`Cannot reach the call server at ${origin.replace(/[.]/g, "\\.")}`));
      expect(await page.locator("#join-panel").isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("a server that stops during the call", async () => {
    const { server, origin } = await startServer();
    const page = await allowing.newPage();
    try {
      await page.goto(origin);
      await page.locator("#join").press("Enter");
      await page.locator("#call-panel").waitFor({ state: "visible", timeout: 20_000 });
      await server.close();
      expect(await problemText(page)).toMatch(/Lost the connection to the call server.*Reconnecting/);
      // The call panel stays (with what was said), the page tries again by itself, and says so.
      expect(await page.locator("#call-panel").isVisible()).toBe(true);
      await page.locator("#rejoin").waitFor({ state: "visible", timeout: 5000 });
      await page.waitForFunction(() => /Reconnect/.test(document.getElementById("status")?.textContent ?? ""), undefined, { timeout: 10_000 });
      // Leave stops the attempts.
      await page.locator("#leave").click();
      await page.locator("#join-panel").waitFor({ state: "visible", timeout: 5000 });
      expect(await page.locator("#rejoin").isHidden()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("a server that restarts during the call: the page reconnects by itself and the conversation is kept", async () => {
    const first = await startServer();
    const port = Number(new URL(first.origin).port);
    const page = await allowing.newPage();
    let second: Awaited<ReturnType<typeof startServer>> | null = null;
    try {
      await joinAs(page, first.origin, "reconnect-user");
      await page.locator("#question").fill("What does the sign say?");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => { const li = document.querySelector("#messages li.ai"); return li !== null && !li.hasAttribute("aria-busy"); }, undefined, { timeout: 60_000 });
      const before = await page.locator("#messages li .text").allTextContents();
      await first.server.close();
      await problemText(page);
      second = await servePage(engine, dist, {}, port);
      await waitFor(() => second!.server.participantCount === 1, 30_000, "the page to join the restarted server");
      // The page says it is back once the media connects again (the status line, announced).
      await page.waitForFunction(() => document.getElementById("status")?.textContent === "Reconnected: in the call again; the conversation above is kept.", undefined, { timeout: 20_000 });
      expect(await page.locator("#problem").isHidden()).toBe(true);
      expect(await page.locator("#rejoin").isHidden()).toBe(true);
      // The conversation from before the restart is still there, and the call goes on.
      expect((await page.locator("#messages li .text").allTextContents()).slice(0, before.length)).toEqual(before);
      await page.locator("#question").fill("Which gate is shown?");
      await page.keyboard.press("Enter");
      await page.waitForFunction((n) => { const lis = document.querySelectorAll("#messages li.ai"); return lis.length === n && !lis[n - 1]!.hasAttribute("aria-busy"); }, 2, { timeout: 60_000 });
      await page.screenshot({ path: join(ARTIFACTS, "page-reconnected.png"), fullPage: true });
    } finally {
      await page.close();
      await second?.server.close();
    }
  });
});
