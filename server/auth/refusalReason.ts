/**
 * Why a signed-in reader may not read a path, in words that name the rule and whom to ask: the
 * page's own rule (`access: [finance]` in its front matter) or a folder rule (`lakebook publish
 * access /hr/ hr`), with the groups it names, never just "your role". Anonymous readers get the
 * usual 401 (sign in first).
 */
import { HttpError } from "../../src/errors.ts";
import type { PageAccessRule } from "../../src/site/pageAccess.ts";
import { refusal } from "../middlewares/authenticate.ts";
import { rulePath } from "../safePath.ts";
import { pageTarget, pathMatches, ruleTarget, type AccessControl, type Principal } from "./accessControl.ts";

export async function readRefusal(
  access: AccessControl,
  principal: Principal,
  path: string,
  pageRules: readonly PageAccessRule[],
): Promise<HttpError> {
  const user = principal.user;
  if (!user) return refusal(principal, `read ${path}`);
  const groups = new Set(user.groups);
  const outside = (rule: { groups: readonly string[] }) => !rule.groups.some((group) => groups.has(group));
  const page = rulePath(pageTarget(path));
  const pageRule = pageRules.find((rule) => rulePath(rule.path) === page && outside(rule));
  const folderRule = pageRule
    ? undefined
    : (await access.accessRules().catch(() => [])).find(
        (rule) => pathMatches(rulePath(rule.path), rulePath(ruleTarget(path))) && outside(rule),
      );
  const rule = pageRule ?? folderRule;
  if (!rule) return refusal(principal, `read ${path}`);
  const admins = await adminNames(access);
  const named = rule.groups.map((group) => `'${group}'`).join(" or ");
  const source = pageRule
    ? `the page's own rule (access: [${rule.groups.join(", ")}] in its front matter)`
    : `the access rule on ${rule.path}`;
  return new HttpError(
    403,
    `forbidden: ${path} is limited to admins and members of the group${rule.groups.length > 1 ? "s" : ""} ${named} ` +
      `by ${source}, and ${user.name} is not a member; ask an admin${admins ? ` (${admins})` : ""} to add you: ` +
      `lakebook user grant ${user.name} --groups ${rule.groups[0]}`,
  );
}

/** Up to three admins' names, to say whom to ask; empty when the store cannot say. */
async function adminNames(access: AccessControl): Promise<string> {
  const users = (await access.store?.listUsers().catch(() => [])) ?? [];
  const names = users.filter((user) => user.role === "admin").map((user) => user.name);
  return names.slice(0, 3).join(", ") + (names.length > 3 ? ", …" : "");
}
