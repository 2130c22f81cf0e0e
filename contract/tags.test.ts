import { describe, expect, test } from "bun:test";
import { iamUsersFromTag, iamUsersTagValue } from "./tags.ts";

describe("dbtunnel:iam-users tag", () => {
  test("round trip of valid users", () => {
    expect(iamUsersFromTag(iamUsersTagValue(["app_ro", "app_rw"]))).toEqual(["app_ro", "app_rw"]);
  });

  test("no tag, an empty tag or an oversized one: no users", () => {
    expect(iamUsersFromTag(undefined)).toEqual([]);
    expect(iamUsersFromTag("")).toEqual([]);
    expect(iamUsersFromTag("a ".repeat(200))).toEqual([]);
  });

  test("names that are no database user are dropped, duplicates kept once", () => {
    expect(iamUsersFromTag("app_rw  x;drop\nevil app_rw -bad r\u00e9")).toEqual(["app_rw"]);
  });
});
