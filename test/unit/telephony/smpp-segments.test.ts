import { splitIntoSegments } from "../../../src/telephony/providers/smpp";
import { analyseSms } from "../../../src/templates/segments";

describe("splitIntoSegments: the parts sent are the segments counted", () => {
  test.each([
    ["a CR LF across the boundary of the first part (GSM-7)", `${"a".repeat(152)}\r\n${"b".repeat(152)}`, "GSM_7"],
    ["a CR LF across the boundary of the first part (UCS-2)", `${"ж".repeat(66)}\r\n${"ж".repeat(66)}`, "UCS_2"],
    ["CR LF pairs throughout", "line of text\r\n".repeat(30), "GSM_7"],
  ] as const)("%s", (_label, text, encoding) => {
    const analysis = analyseSms(text);
    expect(analysis.encoding).toBe(encoding);
    const parts = splitIntoSegments(text, encoding);
    expect(parts).toHaveLength(analysis.segments);
    expect(parts.join("")).toBe(text);
  });
});
