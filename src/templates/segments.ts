import { SegmentedMessage } from "sms-segments-calculator";

export type SmsEncoding = "GSM_7" | "UCS_2";

export interface SmsAnalysis {
  text: string;
  encoding: SmsEncoding;
  /**
   * The length compared against the segment limits: GSM-7 septets (the extension characters
   * € [ ] { } ~ ^ | \ and form feed take two, an escape and the character) or UCS-2 UTF-16
   * code units (an emoji outside the Basic Multilingual Plane takes two).
   */
  characters: number;
  segments: number;
  /** Distinct characters (grapheme clusters) that force UCS-2, in order of first appearance. */
  nonGsmCharacters: string[];
}

/** What one SMS holds: 140 octets of user data. */
export const SINGLE_SEGMENT_LIMIT = { GSM_7: 160, UCS_2: 70 } as const satisfies Record<SmsEncoding, number>;

/** What each part of a concatenated SMS holds once its 6-octet User Data Header is taken. */
export const MULTI_SEGMENT_LIMIT = { GSM_7: 153, UCS_2: 67 } as const satisfies Record<SmsEncoding, number>;

/**
 * How an SMS body will travel: encoding, length and segment count, as Twilio's
 * message-segment-calculator (`sms-segments-calculator`) computes them.
 *
 * Where the library departs from our contract, this wraps it:
 * - Smart Encoding stays off. It would rewrite ’ to ' before counting, but our providers
 *   send the text as written, so ’ really does force UCS-2 and the admin must see that.
 * - `characters` for UCS-2: the library reports grapheme clusters (😀 is 1, 👨‍👩‍👧 is 1),
 *   yet the 70/67 limits are in UTF-16 code units (😀 is 2, 👨‍👩‍👧 is 8). We sum the code
 *   units of its encoded characters instead, which equals `text.length` for UCS-2 and the
 *   septet count for GSM-7.
 * - `nonGsmCharacters`: the library lists every occurrence; we keep the first of each.
 * - `segments`: the library cuts at the grapheme clusters of Unicode 10 (grapheme-splitter),
 *   where the SMPP adapter cuts at today's (Intl.Segmenter), which keep whole a 🧑‍🧑‍🧒 or a
 *   Devanagari conjunct the library splits in two; the count is the parts of
 *   `splitIntoSegments`, so that what is stored and charged is what is sent.
 */
export function analyseSms(text: string): SmsAnalysis {
  const message = new SegmentedMessage(text, "auto", false);
  const encoding = message.encodingName === "GSM-7" ? "GSM_7" : "UCS_2";
  return {
    text,
    encoding,
    characters: message.encodedChars.reduce((units, encodedChar) => units + encodedChar.codeUnits.length, 0),
    // One segment by the library's count is one by ours: both count the same units against the same limit.
    segments: message.segmentsCount > 1 ? splitIntoSegments(text, encoding).length : 1,
    nonGsmCharacters: [...new Set(message.getNonGsmCharacters())],
  };
}

/** GSM 03.38 extension table: each is sent as an escape and the character, two septets. */
const GSM_EXTENSION_CHARACTERS = new Set(["\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]);

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Splits a text into the parts of a concatenated SMS: whole when it fits one segment (160
 * GSM-7 septets, 70 UCS-2 code units), else parts of 153 septets or 67 code units. It never
 * splits an escape pair, which handsets must not split, nor a grapheme cluster, so a message
 * can need one part more than ceil(characters / 153) when one straddles a boundary. The SMPP
 * adapter sends these parts and analyseSms counts them: the parts sent are the segments counted.
 */
export function splitIntoSegments(text: string, encoding: SmsEncoding): string[] {
  const units = (piece: string) =>
    encoding === "UCS_2"
      ? piece.length
      : [...piece].reduce((septets, character) => septets + (GSM_EXTENSION_CHARACTERS.has(character) ? 2 : 1), 0);
  // CR LF is one grapheme, but two characters to the count, which may cut between them.
  const graphemes = [...GRAPHEMES.segment(text)].flatMap(({ segment }) => (segment === "\r\n" ? ["\r", "\n"] : [segment]));
  if (graphemes.reduce((total, grapheme) => total + units(grapheme), 0) <= SINGLE_SEGMENT_LIMIT[encoding]) return [text];

  const limit = MULTI_SEGMENT_LIMIT[encoding];
  const parts: string[] = [];
  let current = "";
  let used = 0;
  for (const grapheme of graphemes) {
    // A cluster longer than a whole part (a long emoji sequence) has to be cut, by code point.
    for (const piece of units(grapheme) > limit ? [...grapheme] : [grapheme]) {
      const size = units(piece);
      if (used + size > limit) {
        parts.push(current);
        current = "";
        used = 0;
      }
      current += piece;
      used += size;
    }
  }
  if (current) parts.push(current);
  return parts;
}
