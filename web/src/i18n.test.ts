import { describe, expect, it } from "vitest";
import { format, messages, pickLang, translator } from "./i18n";

describe("i18n", () => {
  it("has every English key in Bahasa Indonesia, with the same placeholders", () => {
    const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join(",");
    for (const [key, en] of Object.entries(messages.en)) {
      const id = messages.id[key as keyof typeof messages.en];
      expect(id, key).toBeTruthy();
      expect(ph(id), key).toBe(ph(en));
    }
    expect(Object.keys(messages.id).sort()).toEqual(Object.keys(messages.en).sort());
  });

  it.each([
    [null, ["id-ID", "en"], "id"],
    [null, ["en-US"], "en"],
    [null, ["fr-FR", "in"], "id"],
    [null, ["de"], "en"],
    [null, [], "en"],
    ["en", ["id"], "en"],
    ["id", ["en"], "id"],
    ["xx", ["id"], "id"],
  ] as const)("pickLang(%s, %j) = %s", (stored, browser, want) => {
    expect(pickLang(stored, browser)).toBe(want);
  });

  it.each([
    ["Hi {name}", { name: "Ana" }, "Hi Ana"],
    ["{a}+{a}={b}", { a: 1, b: 2 }, "1+1=2"],
    ["keep {missing}", { name: "x" }, "keep {missing}"],
    ["plain", undefined, "plain"],
  ])("format(%s)", (tpl, vars, want) => {
    expect(format(tpl, vars)).toBe(want);
  });

  it("translates with variables", () => {
    expect(translator("id")("main.welcome", { name: "Budi" })).toBe("Selamat datang, Budi");
    expect(translator("en")("error.M_LIMIT_EXCEEDED", { seconds: 3 })).toBe("Too many attempts. Try again in 3 s.");
  });
});
