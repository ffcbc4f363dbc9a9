/**
 * The OpenAPI 3.1 document, generated from the route table (JSON Schema from the zod schemas).
 * Which operations need a session depends on the server's access mode, so the document is made
 * for one: an operation lists anonymous access (`{}` in `security`) exactly when the router's
 * capability check lets a request without a session through in that mode.
 */
import { z } from "zod";
import { anonymousCan, type AccessMode } from "../auth/accessControl.ts";
import { ROUTES, type ApiRoute } from "./routes.ts";

/** `/runs/:id` -> `/api/runs/{id}` */
export function openApiPath(path: string): string {
  return "/api" + path.replace(/:([A-Za-z]+)/g, "{$1}");
}

function parameters(route: ApiRoute): object[] {
  const out: object[] = [];
  for (const [where, schema] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (!schema) continue;
    for (const [name, field] of Object.entries(schema.shape)) {
      const json = z.toJSONSchema(field as z.ZodType, { io: "input", unrepresentable: "any" });
      out.push({
        name,
        in: where,
        required: where === "path" || !(field as z.ZodType).safeParse(undefined).success,
        schema: json,
      });
    }
  }
  return out;
}

const ERROR = {
  description: "Error",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: {
              status: { type: "integer" },
              code: { type: "string" },
              message: { type: "string" },
            },
          },
          requestId: { type: "string" },
        },
      },
    },
  },
};

/** The `security` of an operation: who the router lets through (see router.ts). */
function security(route: ApiRoute, mode: AccessMode): object[] | undefined {
  if (route.capability === undefined) return undefined;
  // State-changing routes also need the session's CSRF token (csrfGuard).
  const session = route.method === "get" ? { session: [] } : { session: [], csrf: [] };
  return anonymousCan(route.capability, mode) ? [session, {}] : [session];
}

export function openApiDocument(mode: AccessMode = "private"): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    const status = String(route.status ?? 200);
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${route.path.replace(/[/:.]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      parameters: parameters(route),
      responses: {
        [status]:
          status === "204"
            ? { description: "Done" }
            : { description: "OK", content: { [route.produces ?? "application/json"]: { schema: {} } } },
        "400": ERROR,
        ...(route.capability && { "401": ERROR, "403": ERROR }),
        "404": ERROR,
      },
      "x-lakebook-capability": route.capability ?? "none",
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: {
          "application/json": { schema: z.toJSONSchema(route.body, { io: "input", unrepresentable: "any" }) },
        },
      };
    }
    const needs = security(route, mode);
    if (needs) operation.security = needs;
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Lakebook API",
      version: "1",
      description:
        "Datasets, versions, builds, runs and schedules of a Lakebook server. Sign in with POST /auth/login " +
        "(JSON {username, password, totp?}); send the session cookie, and for state-changing requests the " +
        "csrfToken from GET /api/session in X-CSRF-Token.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "lakebook_session" },
        csrf: { type: "apiKey", in: "header", name: "X-CSRF-Token" },
      },
    },
    paths,
  };
}
