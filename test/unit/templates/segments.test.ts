import { MULTI_SEGMENT_LIMIT, SINGLE_SEGMENT_LIMIT, analyseSms } from "../../../src/templates/segments";

const gsm = (length: number): string => "a".repeat(length);
const ucs2 = (length: number): string => "’".repeat(length);

describe("analyseSms", () => {
  describe("encoding", () => {
    it("keeps text within the GSM-7 alphabet, accented letters included, in GSM-7", () => {
      const analysis = analyseSms("Ihr Bestätigungscode: 123456. Très bien, señor. Ça marche @ £5");
      expect(analysis.encoding).toBe("GSM_7");
      expect(analysis.nonGsmCharacters).toEqual([]);
    });

    it("switches to UCS-2 for one character outside the alphabet", () => {
      expect(analyseSms("Your code is 123456 ✓").encoding).toBe("UCS_2");
    });

    it("treats the curly apostrophe as UCS-2, with no smart-encoding rewrite to '", () => {
      const analysis = analyseSms("It’s your code: 123456");
      expect(analysis.encoding).toBe("UCS_2");
      expect(analysis.nonGsmCharacters).toEqual(["’"]);
      expect(analyseSms("It's your code: 123456").encoding).toBe("GSM_7");
    });

    it("lists each non-GSM character once, in order of first appearance", () => {
      const analysis = analyseSms("ç’est ’ça’ — ç");
      expect(analysis.nonGsmCharacters).toEqual(["ç", "’", "—"]);
    });

    it("reads the lowercase ç as UCS-2 (GSM-7 has only Ç)", () => {
      expect(analyseSms("Ç").encoding).toBe("GSM_7");
      expect(analyseSms("ç").encoding).toBe("UCS_2");
    });
  });

  describe("GSM-7 extension characters", () => {
    it("counts each of € [ ] { } ~ ^ | \\ and form feed as two septets", () => {
      for (const character of ["€", "[", "]", "{", "}", "~", "^", "|", "\\", "\f"]) {
        const analysis = analyseSms(character);
        expect({ character, encoding: analysis.encoding, characters: analysis.characters }).toEqual({
          character,
          encoding: "GSM_7",
          characters: 2,
        });
      }
    });

    it("fills one segment with 79 € and a 2-digit code (160 septets), two with a 3-digit one", () => {
      expect(analyseSms("€".repeat(79) + "12")).toMatchObject({ characters: 160, segments: 1 });
      expect(analyseSms("€".repeat(79) + "123")).toMatchObject({ characters: 161, segments: 2 });
    });

    it("never splits an escape pair across segments, which can cost one more segment", () => {
      const straddling = gsm(152) + "€" + gsm(152);
      expect(analyseSms(straddling)).toMatchObject({ characters: 306, segments: 3 });
      expect(analyseSms(gsm(306))).toMatchObject({ characters: 306, segments: 2 });
    });
  });

  describe("segment limits", () => {
    it("exports the single and multi-segment limits", () => {
      expect(SINGLE_SEGMENT_LIMIT).toEqual({ GSM_7: 160, UCS_2: 70 });
      expect(MULTI_SEGMENT_LIMIT).toEqual({ GSM_7: 153, UCS_2: 67 });
    });

    it.each([
      [0, 1],
      [160, 1],
      [161, 2],
      [306, 2],
      [307, 3],
      [459, 3],
      [460, 4],
    ])("GSM-7: %i characters take %i segment(s)", (length, segments) => {
      expect(analyseSms(gsm(length))).toEqual({
        text: gsm(length),
        encoding: "GSM_7",
        characters: length,
        segments,
        nonGsmCharacters: [],
      });
    });

    it.each([
      [70, 1],
      [71, 2],
      [134, 2],
      [135, 3],
      [201, 3],
      [202, 4],
    ])("UCS-2: %i characters take %i segment(s)", (length, segments) => {
      expect(analyseSms(ucs2(length))).toMatchObject({ encoding: "UCS_2", characters: length, segments });
    });

    it("counts GSM-7 characters at UCS-2 width once the message is UCS-2", () => {
      const analysis = analyseSms("€".repeat(69) + "’");
      expect(analysis).toMatchObject({ encoding: "UCS_2", characters: 70, segments: 1 });
    });
  });

  describe("emoji and other astral characters", () => {
    it("counts UTF-16 code units, not graphemes as the library does: 😀 is 2", () => {
      expect(analyseSms("😀".repeat(35))).toMatchObject({ encoding: "UCS_2", characters: 70, segments: 1 });
      expect(analyseSms("😀".repeat(36))).toMatchObject({ encoding: "UCS_2", characters: 72, segments: 2 });
    });

    it("counts segments by today's grapheme clusters, which the library's Unicode 10 cuts in two", () => {
      expect(analyseSms(`${ucs2(62)}🧑‍🧑‍🧒${ucs2(62)}`)).toMatchObject({ encoding: "UCS_2", characters: 132, segments: 3 });
      expect(analyseSms(`${"क".repeat(65)}क्ष${"क".repeat(65)}`)).toMatchObject({ encoding: "UCS_2", characters: 133, segments: 3 });
    });

    it("counts a joined emoji sequence by its code units and lists it as one character", () => {
      const family = "👨‍👩‍👧";
      const analysis = analyseSms(`Code 123456 ${family}`);
      expect(analysis.characters).toBe("Code 123456 ".length + family.length);
      expect(analysis.nonGsmCharacters).toEqual([family]);
    });
  });
});
