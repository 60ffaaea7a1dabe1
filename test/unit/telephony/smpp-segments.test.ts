import { analyseSms, splitIntoSegments } from "../../../src/templates/segments";

describe("splitIntoSegments: the parts sent are the segments counted", () => {
  test.each([
    ["a CR LF across the boundary of the first part (GSM-7)", `${"a".repeat(152)}\r\n${"b".repeat(152)}`, "GSM_7"],
    ["a CR LF across the boundary of the first part (UCS-2)", `${"ж".repeat(66)}\r\n${"ж".repeat(66)}`, "UCS_2"],
    ["CR LF pairs throughout", "line of text\r\n".repeat(30), "GSM_7"],
    // Clusters newer than the Unicode 10 of sms-segments-calculator, which cuts them in two.
    ["an emoji family (Emoji 15.1) across the boundary of the first part", `${"a".repeat(62)}🧑‍🧑‍🧒${"a".repeat(62)}`, "UCS_2"],
    ["a Hindi conjunct (Unicode 15.1) across the boundary of the first part", `${"क".repeat(65)}क्ष${"क".repeat(65)}`, "UCS_2"],
  ] as const)("%s", (_label, text, encoding) => {
    const analysis = analyseSms(text);
    expect(analysis.encoding).toBe(encoding);
    const parts = splitIntoSegments(text, encoding);
    expect(parts).toHaveLength(analysis.segments);
    expect(parts.join("")).toBe(text);
  });
});
