import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../../src/platform/config";
import { ServerSecrets } from "../../../src/platform/secrets";

describe("the server secret kept in DATA_DIR", () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ringfence-secret-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const load = () => ServerSecrets.load({ serverSecret: null, dataDir });

  test("is made once, whole, readable by its owner alone, and the same at every start", () => {
    const first = load().passcodeHash("chl_1", "123456");
    expect(load().passcodeHash("chl_1", "123456")).toBe(first);
    expect(fs.readdirSync(dataDir)).toEqual(["secret"]);
    const file = path.join(dataDir, "secret");
    expect(fs.readFileSync(file, "utf8").length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test("one already there is only read: nothing is written beside it, so DATA_DIR may be read-only", () => {
    load();
    const before = fs.statSync(dataDir).mtimeMs;
    const write = jest.spyOn(fs, "openSync");
    try {
      load();
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
    expect(fs.statSync(dataDir).mtimeMs).toBe(before);
  });

  test.each([
    ["an empty", ""],
    ["a short", "not nearly a secret"],
  ])("%s one (a disk that filled while it was written) is refused, not used", (_name, content) => {
    fs.writeFileSync(path.join(dataDir, "secret"), content);
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/set SERVER_SECRET, or remove the file/);
  });
});
