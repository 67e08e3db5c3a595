import { describe, expect, it } from "vitest";
import { rembFields } from "./remb.ts";

describe("rembFields", () => {
  it("keeps small bitrates exact and large ones within one mantissa step", () => {
    expect(rembFields(200_000)).toEqual({ brExp: 0, brMantissa: 200_000 });
    for (const bps of [300_000, 800_000, 2_500_000, 1e9]) {
      const { brExp, brMantissa } = rembFields(bps);
      expect(brMantissa).toBeLessThanOrEqual(0x3ffff);
      const back = brMantissa * 2 ** brExp;
      expect(back).toBeLessThanOrEqual(bps);
      expect(bps - back).toBeLessThan(2 ** brExp);
    }
  });
});
