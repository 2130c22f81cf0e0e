/**
 * What a program dbtunnel runs for the user inherits (user-environment.ts): the user's environment, not
 * bin/dbtunnel's FTL setting. The end-to-end check through bin/dbtunnel is in connect.test.ts.
 */
import { expect, test } from "bun:test";
import { FTL_SET_BY_WRAPPER, FTL_VARIABLE, userEnvironment } from "./user-environment.ts";

test("the wrapper's own FTL setting and its marker are removed", () => {
  expect(userEnvironment({ PATH: "/bin", [FTL_VARIABLE]: "0", [FTL_SET_BY_WRAPPER]: "1" })).toEqual({
    PATH: "/bin",
  });
});

test("a value the user set passes untouched, 0 included", () => {
  expect(userEnvironment({ PATH: "/bin", [FTL_VARIABLE]: "1" })).toEqual({
    PATH: "/bin",
    [FTL_VARIABLE]: "1",
  });
  expect(userEnvironment({ [FTL_VARIABLE]: "0" })).toEqual({ [FTL_VARIABLE]: "0" });
});

test("a value changed after the wrapper set it is kept; only the marker goes", () => {
  expect(userEnvironment({ [FTL_VARIABLE]: "1", [FTL_SET_BY_WRAPPER]: "1" })).toEqual({
    [FTL_VARIABLE]: "1",
  });
});

test("a copy: the process environment is not changed, undefined values are left out", () => {
  const env = { A: "1", B: undefined, [FTL_VARIABLE]: "0", [FTL_SET_BY_WRAPPER]: "1" };
  expect(userEnvironment(env)).toEqual({ A: "1" });
  expect(env[FTL_VARIABLE]).toBe("0");
});
