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
 *
 * `segments` is the library's own, built bit by bit (1120 bits a segment, 48 of them for the
 * header once there are several). It never splits a GSM-7 escape pair nor a grapheme cluster
 * across two parts, so a message can need one segment more than ceil(characters / 153) when
 * such a pair or cluster straddles a boundary: an honest count for escapes, which handsets
 * must not split, and at worst one segment high for long emoji sequences.
 */
export function analyseSms(text: string): SmsAnalysis {
  const message = new SegmentedMessage(text, "auto", false);
  return {
    text,
    encoding: message.encodingName === "GSM-7" ? "GSM_7" : "UCS_2",
    characters: message.encodedChars.reduce((units, encodedChar) => units + encodedChar.codeUnits.length, 0),
    segments: message.segmentsCount,
    nonGsmCharacters: [...new Set(message.getNonGsmCharacters())],
  };
}
