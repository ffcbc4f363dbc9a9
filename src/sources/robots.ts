/**
 * robots.txt (RFC 9309): the group for our user agent (or `*`) decides; the longest matching
 * rule wins and Allow wins a tie; `*` and `$` patterns are supported. A missing robots.txt
 * (4xx) allows everything; a server error (5xx, after retries) means "assume disallowed", as
 * the RFC asks. Results are cached per origin for the life of the process.
 */
import { SourceError } from "../errors.ts";
import { type HttpOptions, USER_AGENT, httpGet } from "./httpClient.ts";

interface Rule {
  allow: boolean;
  pattern: string;
}

/** The rules of the group that applies to `agent` (case-insensitive product token). */
export function parseRobots(text: string, agent: string): Rule[] {
  const token = agent.split("/")[0]!.toLowerCase();
  const groups: { agents: string[]; rules: Rule[] }[] = [];
  let current: { agents: string[]; rules: Rule[] } | undefined;
  let lastWasAgent = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    const match = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!match) continue;
    const field = match[1]!.toLowerCase();
    const value = match[2]!.trim();
    if (field === "user-agent") {
      if (!current || !lastWasAgent) groups.push((current = { agents: [], rules: [] }));
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
    } else if ((field === "allow" || field === "disallow") && current) {
      lastWasAgent = false;
      if (value !== "") current.rules.push({ allow: field === "allow", pattern: value });
    } else {
      lastWasAgent = false;
    }
  }
  const mine = groups.filter((group) => group.agents.some((a) => a !== "*" && token.includes(a)));
  const chosen = mine.length > 0 ? mine : groups.filter((group) => group.agents.includes("*"));
  return chosen.flatMap((group) => group.rules);
}

function patternMatches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith("$");
  const body = anchored ? pattern.slice(0, -1) : pattern;
  const regex = body
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${regex}${anchored ? "$" : ""}`).test(path);
}

export function isAllowed(rules: Rule[], pathAndQuery: string): boolean {
  if (pathAndQuery === "/robots.txt") return true;
  let best: Rule | undefined;
  for (const rule of rules) {
    if (!patternMatches(rule.pattern, pathAndQuery)) continue;
    if (
      !best ||
      rule.pattern.length > best.pattern.length ||
      (rule.pattern.length === best.pattern.length && rule.allow)
    ) {
      best = rule;
    }
  }
  return best?.allow ?? true;
}

const cache = new Map<string, Promise<Rule[] | "unreachable">>();

/** Throws a SourceError when robots.txt of the URL's origin disallows fetching it. */
export async function assertRobotsAllow(url: string, options: HttpOptions = {}): Promise<void> {
  const target = new URL(url);
  const agent = options.userAgent ?? USER_AGENT;
  const cacheKey = `${target.origin} ${agent}`;
  let rules = cache.get(cacheKey);
  if (!rules) {
    rules = (async () => {
      const robotsUrl = `${target.origin}/robots.txt`;
      try {
        const response = await httpGet(robotsUrl, {}, options);
        if (response.status >= 400) return [];
        return parseRobots(response.body.toString("utf8"), agent);
      } catch {
        return "unreachable" as const;
      }
    })();
    cache.set(cacheKey, rules);
  }
  const resolved = await rules;
  if (resolved === "unreachable") {
    cache.delete(cacheKey);
    throw new SourceError(
      `cannot read ${target.origin}/robots.txt, so ${url} is treated as disallowed; ` +
        `retry later, or set respectRobots: false if you have permission to fetch it`,
    );
  }
  if (!isAllowed(resolved, target.pathname + target.search)) {
    throw new SourceError(
      `${target.origin}/robots.txt disallows ${target.pathname + target.search} for '${agent}'; ` +
        `ask the site for permission and set respectRobots: false only if you have it`,
    );
  }
}
